package fleet

import (
	"strconv"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// BenchmarkObserverIngest is what counting one delivered stream message
// costs the tap's goroutines, 200 devices' messages from all CPUs at
// once (the window's observer of a fleet in its own process).
func BenchmarkObserverIngest(b *testing.B) {
	const devices = 200
	ids := make([]string, devices)
	for i := range ids {
		ids[i] = "sim-dev" + strconv.Itoa(i)
	}
	o := NewObserver(ids)
	ts := strconv.FormatInt(time.Now().UnixNano(), 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var n int
		for pb.Next() {
			n++
			o.Ingest(message.Message{ClientID: ids[n%devices], UserProps: []message.UserProp{
				{Key: PropSeq, Value: strconv.Itoa(n / devices)}, {Key: PropTime, Value: ts}}})
		}
	})
}
