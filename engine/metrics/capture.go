package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// captureSnapshot is one scrape's reading of the capture store; up is
// false while no store is open (or it is closing), the other fields zero.
type captureSnapshot struct {
	capture.Stats
	up bool
}

var captureMetrics = []metric[captureSnapshot]{
	gauge("iotstudio_capture_up", "1 while the capture store is open and recording.",
		func(s captureSnapshot) int64 { return flag(s.up) }),
	counter("iotstudio_capture_records_ingested_total", "Records the capture accepted since it was opened.",
		func(s captureSnapshot) int64 { return s.Ingested }),
	counterBy("iotstudio_capture_records_dropped_total",
		"Records the capture refused since it was opened, by cause: too_large (over the largest record), full (its write queue or its disk was full).",
		"cause", []string{"too_large", "full"},
		func(s captureSnapshot) []int64 { return []int64{s.TooLarge, s.Dropped - s.TooLarge} }),
	counter("iotstudio_capture_records_failed_total", "Records whose write failed (each one is logged).",
		func(s captureSnapshot) int64 { return s.Failed }),
	gauge("iotstudio_capture_records", "Records stored.",
		func(s captureSnapshot) int64 { return s.Records }),
	gauge("iotstudio_capture_stored_bytes", "Encoded size of the stored records: what the retention size bounds.",
		func(s captureSnapshot) int64 { return s.Bytes }),
	gauge("iotstudio_capture_disk_usage_bytes", "Disk space the capture takes: its blocks and its index.",
		func(s captureSnapshot) int64 { return s.DiskBytes }),
	gauge("iotstudio_capture_disk_free_bytes", "Free space last measured on the capture's disk.",
		func(s captureSnapshot) int64 { return s.DiskFree }),
	gauge("iotstudio_capture_retention_max_bytes", "The retention size in force; 0 when unlimited.",
		func(s captureSnapshot) int64 { return max(s.MaxBytes, 0) }),
	gauge("iotstudio_capture_disk_full", "1 while writing has stopped because the disk is full (records are dropped and counted).",
		func(s captureSnapshot) int64 { return flag(s.DiskFull) }),
	gauge("iotstudio_capture_paused", "1 while recording is paused.",
		func(s captureSnapshot) int64 { return flag(s.Paused) }),
}

type captureCollector struct{ store func() *capture.Store }

func (c captureCollector) Describe(ch chan<- *prometheus.Desc) { describe(captureMetrics, ch) }

func (c captureCollector) Collect(ch chan<- prometheus.Metric) {
	var snap captureSnapshot
	if s := c.store(); s != nil {
		// A store closing under the scrape reads as down, not as an error
		// that would fail the whole scrape.
		if st, err := s.Stats(); err == nil {
			snap = captureSnapshot{Stats: st, up: true}
		}
	}
	collect(captureMetrics, snap, ch)
}
