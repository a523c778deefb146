package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/iotstudio/iotstudio/engine/sim/fleet"
)

// Simulated devices, per fleet: a scenario names a handful of fleets, so
// the fleet's name is a small label set; device IDs never are labels.
var (
	simDevices    = prometheus.NewDesc("iotstudio_sim_devices", "Virtual devices in the fleet.", []string{"fleet"}, nil)
	simConnected  = prometheus.NewDesc("iotstudio_sim_devices_connected", "Virtual devices connected now.", []string{"fleet"}, nil)
	simSent       = prometheus.NewDesc("iotstudio_sim_messages_sent_total", "Messages the fleet's devices published.", []string{"fleet"}, nil)
	simDropped    = prometheus.NewDesc("iotstudio_sim_messages_dropped_total", "Scheduled messages chaos (drop_percent) did not send.", []string{"fleet"}, nil)
	simErrors     = prometheus.NewDesc("iotstudio_sim_errors_total", "Failed connects, lost connections and failed publishes or subscriptions.", []string{"fleet"}, nil)
	simReconnects = prometheus.NewDesc("iotstudio_sim_reconnects_total", "Connects after a device's first.", []string{"fleet"}, nil)
	simDelivered  = prometheus.NewDesc("iotstudio_sim_messages_delivered_total", "Messages seen delivered by the broker's tap (MQTT 5 fleets observed by this process only).", []string{"fleet"}, nil)
	simLost       = prometheus.NewDesc("iotstudio_sim_messages_lost_total", "Messages never delivered (MQTT 5 fleets observed by this process only).", []string{"fleet"}, nil)
	simLagP99     = prometheus.NewDesc("iotstudio_sim_schedule_lag_p99_seconds", "How late the 99th percentile of stream messages went out.", []string{"fleet"}, nil)
)

type simCollector struct{ fleets func() []fleet.Stats }

func (c simCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{simDevices, simConnected, simSent, simDropped, simErrors, simReconnects, simDelivered, simLost, simLagP99} {
		ch <- d
	}
}

func (c simCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.fleets() {
		put := func(d *prometheus.Desc, kind prometheus.ValueType, v float64) {
			ch <- prometheus.MustNewConstMetric(d, kind, v, st.Fleet)
		}
		put(simDevices, prometheus.GaugeValue, float64(st.Wanted))
		put(simConnected, prometheus.GaugeValue, float64(st.Connected))
		put(simSent, prometheus.CounterValue, float64(st.Sent))
		put(simDropped, prometheus.CounterValue, float64(st.Dropped))
		put(simErrors, prometheus.CounterValue, float64(st.Errors))
		put(simReconnects, prometheus.CounterValue, float64(st.Reconnects))
		put(simLagP99, prometheus.GaugeValue, st.LagP99.Seconds())
		if st.Observed {
			put(simDelivered, prometheus.CounterValue, float64(st.Delivered))
			put(simLost, prometheus.CounterValue, float64(st.Lost))
		}
	}
}
