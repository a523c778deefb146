package studio

import (
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/metrics"
)

// MetricsSources are what engine/metrics reads of this engine: the broker,
// the capture store it holds now (none when capture is off) and the
// session journal, so that
// serve and the window expose the same metrics.
func (s *Studio) MetricsSources() metrics.Sources {
	src := metrics.Sources{Broker: s.Broker}
	if s.Capture != nil {
		src.Capture = s.Capture.Store
	}
	if j := s.Journal; j != nil {
		src.Journal = func() *journalstore.Store { return j }
	}
	return src
}
