package broker

import (
	"context"
	"fmt"
	"testing"

	"github.com/iotstudio/iotstudio/engine/journalstore"
)

// BenchmarkJournalCost measures what the session journal costs the broker:
// fan-in and fan-out through a broker journaling into a real store
// (DATA/journal) and one without, in one process, loads alternated as in
// BenchmarkCaptureCost. Each load connects its clients anew, so the
// journal records their sessions too. Run on a quiet machine:
//
//	go test -run '^$' -bench BenchmarkJournalCost -benchtime 6x ./engine/broker/
//
// x-journal-off is msg/s with the journal divided by msg/s without (the
// goal: at least 0.95); x-cpu-journal-off the same for CPU per message.
func BenchmarkJournalCost(b *testing.B) {
	for _, load := range []struct {
		name  string
		shape benchShape
	}{{"fan-in", fanIn}, {"fan-out", fanOut}} {
		for _, qos := range []byte{0, 1} {
			b.Run(fmt.Sprintf("%s/qos=%d", load.name, qos), func(b *testing.B) {
				store, err := journalstore.Open(b.TempDir(), journalstore.Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = store.Close() }) // after the broker's Stop (last in, first out)
				on := startIoTStudioWith(b, 0, nil, func(c *Config) { c.Journal = store })
				off := startIoTStudio(b, 0)
				rate, cpu, _ := alternate(b, off, on, load.shape, qos)
				if err := store.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				st, _ := store.Stats()
				b.ReportMetric(rate[1], "msg/s")
				b.ReportMetric(rate[0], "msg/s-journal-off")
				b.ReportMetric(rate[1]/rate[0], "x-journal-off")
				b.ReportMetric(cpu[1]/cpu[0], "x-cpu-journal-off")
				b.ReportMetric(float64(st.Dropped()), "journal-dropped")
				b.ReportMetric(float64(st.Events), "journal-events")
			})
		}
	}
}
