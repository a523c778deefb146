package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/journalstore"
	"github.com/iotstudio/iotstudio/engine/sim/fleet"
)

// Sources are what the collectors read at each scrape.
type Sources struct {
	Broker *broker.Broker
	// Capture returns the capture store the engine records into now (it
	// changes when a damaged one is moved aside), or nil while none is
	// open. A nil Capture leaves the capture metrics out: capture is off.
	Capture func() *capture.Store
	// Journal returns the session journal, or nil while none is open; a
	// nil Journal leaves its metrics out: the journal is off.
	Journal func() *journalstore.Store
	// Fleets returns the simulated fleets' stats (simulate run); nil
	// leaves their metrics out.
	Fleets func() []fleet.Stats
}

// NewRegistry registers the collectors of src and the standard process and
// Go collectors.
func NewRegistry(src Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	)
	if src.Broker != nil {
		reg.MustRegister(brokerCollector{src.Broker})
	}
	if src.Capture != nil {
		reg.MustRegister(captureCollector{src.Capture})
	}
	if src.Journal != nil {
		reg.MustRegister(journalCollector{src.Journal})
	}
	if src.Fleets != nil {
		reg.MustRegister(simCollector{src.Fleets})
	}
	return reg
}

// metric is one metric family: its description, and how to read its
// samples (one per label value, in the order of labels) from a snapshot S.
type metric[S any] struct {
	desc   *prometheus.Desc
	kind   prometheus.ValueType
	labels []string // values of the one label, or nil
	values func(S) []float64
}

func newMetric[S any](name, help string, kind prometheus.ValueType, label string, labelValues []string, values func(S) []float64) metric[S] {
	var variable []string
	if label != "" {
		variable = []string{label}
	}
	return metric[S]{
		desc:   prometheus.NewDesc(name, help, variable, nil),
		kind:   kind,
		labels: labelValues,
		values: values,
	}
}

func counter[S any](name, help string, value func(S) int64) metric[S] {
	return newMetric(name, help, prometheus.CounterValue, "", nil, func(s S) []float64 { return []float64{float64(value(s))} })
}

func gauge[S any](name, help string, value func(S) int64) metric[S] {
	return newMetric(name, help, prometheus.GaugeValue, "", nil, func(s S) []float64 { return []float64{float64(value(s))} })
}

// counterBy is a counter with one label from a fixed set of values.
func counterBy[S any](name, help, label string, values []string, read func(S) []int64) metric[S] {
	return newMetric(name, help, prometheus.CounterValue, label, values, func(s S) []float64 {
		var out []float64
		for _, v := range read(s) {
			out = append(out, float64(v))
		}
		return out
	})
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func describe[S any](ms []metric[S], ch chan<- *prometheus.Desc) {
	for _, m := range ms {
		ch <- m.desc
	}
}

func collect[S any](ms []metric[S], s S, ch chan<- prometheus.Metric) {
	for _, m := range ms {
		values := m.values(s)
		if m.labels == nil {
			ch <- prometheus.MustNewConstMetric(m.desc, m.kind, values[0])
			continue
		}
		for i, v := range values {
			ch <- prometheus.MustNewConstMetric(m.desc, m.kind, v, m.labels[i])
		}
	}
}
