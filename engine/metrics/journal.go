package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iotstudio/iotstudio/engine/journalstore"
)

// journalSnapshot is one scrape's reading of the session journal; up is
// false while none is open.
type journalSnapshot struct {
	journalstore.Stats
	up bool
}

var journalMetrics = []metric[journalSnapshot]{
	gauge("iotstudio_journal_up", "1 while the session journal is open and recording.",
		func(s journalSnapshot) int64 { return flag(s.up) }),
	gauge("iotstudio_journal_events", "Session events the journal holds.",
		func(s journalSnapshot) int64 { return s.Events }),
	counterBy("iotstudio_journal_events_dropped_total",
		"Session events the journal could not keep since it was opened, by cause: queue_full (its writer fell behind), disk_full.",
		"cause", []string{"queue_full", "disk_full"},
		func(s journalSnapshot) []int64 { return []int64{s.DroppedQueueFull, s.DroppedDiskFull} }),
	gauge("iotstudio_journal_disk_usage_bytes", "Disk space the journal takes.",
		func(s journalSnapshot) int64 { return s.DiskBytes }),
	gauge("iotstudio_journal_disk_full", "1 while the journal's disk is full (events are dropped and counted).",
		func(s journalSnapshot) int64 { return flag(s.DiskFull) }),
}

type journalCollector struct{ store func() *journalstore.Store }

func (c journalCollector) Describe(ch chan<- *prometheus.Desc) { describe(journalMetrics, ch) }

func (c journalCollector) Collect(ch chan<- prometheus.Metric) {
	var snap journalSnapshot
	if s := c.store(); s != nil {
		if st, err := s.Stats(); err == nil {
			snap = journalSnapshot{Stats: st, up: true}
		}
	}
	collect(journalMetrics, snap, ch)
}
