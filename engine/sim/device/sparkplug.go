package device

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/iotstudio/iotstudio/engine/decode/sparkplugb"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// The metrics Sparkplug B reserves in an edge node's births and death.
const (
	metricBdSeq   = "bdSeq"
	metricRebirth = "Node Control/Rebirth"
)

type sparkSpec struct {
	group   string
	node    *tmpl
	every   time.Duration
	metrics *fieldList
	devices []sparkDevSpec
}

type sparkDevSpec struct {
	name    string
	metrics *fieldList
}

func (c *profileCompiler) sparkplug() {
	sp := c.p.Sparkplug
	if sp == nil {
		return
	}
	at := c.p.At
	s := &sparkSpec{group: sp.Group, every: time.Duration(sp.Every)}
	if err := sparkplugID(sp.Group); err != nil {
		c.errorf(at, "sparkplug group: %v", err)
	}
	var err error
	if s.node, err = parseTemplate("sparkplug node", sp.Node); err != nil {
		c.errorf(at, "sparkplug node: %v", err)
	} else if n, err := s.node.render(c.dry); err != nil {
		c.errorf(at, "sparkplug node template %q: %v", sp.Node, err)
	} else if err := sparkplugID(n); err != nil {
		c.errorf(at, "sparkplug node: %v", err)
	}
	if s.every <= 0 {
		c.errorf(at, "sparkplug every must be a positive interval, e.g. every: 5s")
	}
	s.metrics = c.sparkMetrics(sp.Metrics, "sparkplug/metrics", at)
	seen := map[string]bool{}
	for _, dev := range sp.Devices {
		if err := sparkplugID(dev.Name); err != nil {
			c.errorf(at, "sparkplug device name: %v", err)
		}
		if seen[dev.Name] {
			c.errorf(at, "sparkplug device %q is given twice", dev.Name)
		}
		seen[dev.Name] = true
		s.devices = append(s.devices, sparkDevSpec{name: dev.Name, metrics: c.sparkMetrics(dev.Metrics, "sparkplug/devices/"+dev.Name, at)})
	}
	c.out.spark = s
}

func (c *profileCompiler) sparkMetrics(fs scenario.Fields, path string, at scenario.Pos) *fieldList {
	for _, nf := range fs {
		if nf.Name == metricBdSeq || nf.Name == metricRebirth {
			c.errorf(nf.Field.At, "sparkplug metric %q is the node's own; choose another name", nf.Name)
		}
	}
	return c.fields(fs, path, at)
}

// sparkplugID checks a group, node or device ID: one topic level.
func sparkplugID(s string) error {
	if s == "" {
		return fmt.Errorf("it is empty; Sparkplug B needs a name here")
	}
	if strings.ContainsAny(s, "/+#") {
		return fmt.Errorf("%q is one topic level, so it must not contain /, + or #", s)
	}
	return nil
}

// sparkRun is one device's Sparkplug B session state.
type sparkRun struct {
	group, node string
	// bdSeq is the born connection's birth/death number (its NBIRTH's and
	// its graceful NDEATH's); next is the one the next CONNECT's will
	// carries. next advances only when a connection is born, so reading
	// Connect more than once per CONNECT (the runtime does, for the
	// settings) keeps the will and the NBIRTH after it in step.
	bdSeq, next uint64
	seq         uint64 // the next message's seq, shared by all node and device messages
	// types fix each metric's datatype at its first value (per field list
	// id), since a DATA must carry a birth's datatype.
	types map[int][]sparkplugb.DataType
	// written holds the values NCMD and DCMD wrote (per field list id and
	// metric name): a written metric keeps its value, as a setpoint does,
	// until written again.
	written map[int]map[string]any
}

func (s *sparkRun) topic(kind, dev string) string {
	t := sparkplugb.Namespace + "/" + s.group + "/" + kind + "/" + s.node
	if dev != "" {
		t += "/" + dev
	}
	return t
}

// commandFor says whether topic is this node's NCMD (dev "") or one of
// its devices' DCMD (dev its name).
func (s *sparkRun) commandFor(topic string) (dev string, ok bool) {
	t, ok := sparkplugb.ParseTopic(topic)
	if !ok || t.Group != s.group || t.EdgeNode != s.node {
		return "", false
	}
	switch t.MessageType {
	case sparkplugb.NCMD:
		return "", t.Device == ""
	case sparkplugb.DCMD:
		return t.Device, t.Device != ""
	}
	return "", false
}

// nextSeq returns the seq for the next message, wrapping after 255.
func (s *sparkRun) nextSeq() uint64 {
	q := s.seq
	s.seq = (s.seq + 1) % 256
	return q
}

// sparkConnect is the next CONNECT's will: the NDEATH with the bdSeq its
// NBIRTH will carry (0 for the first connection).
func (d *Device) sparkConnect() *message.Message {
	s := d.spark
	m, err := d.sparkMessage(sparkplugb.NDEATH, "", &sparkplugb.Payload{Metrics: []sparkplugb.Metric{bdSeqMetric(s.next)}})
	if err != nil {
		d.setErr(err)
		return nil
	}
	m.QoS = 1 // Sparkplug B: the NDEATH will is QoS 1, not retained
	return &m
}

func bdSeqMetric(bdSeq uint64) sparkplugb.Metric {
	return metric(metricBdSeq, int64(bdSeq), sparkplugb.Int64)
}

// sparkOnline makes the connection the will was set for born: its bdSeq
// becomes the current one, and the next CONNECT gets the following one.
func (d *Device) sparkOnline(now time.Time) []message.Message {
	s := d.spark
	s.bdSeq, s.next = s.next, (s.next+1)%256
	return d.sparkBirths(now)
}

// births are the NBIRTH (seq 0) and a DBIRTH per device, sent after each
// connect and on a rebirth request.
func (d *Device) sparkBirths(now time.Time) []message.Message {
	s := d.spark
	s.seq = 0
	node := append([]sparkplugb.Metric{bdSeqMetric(s.bdSeq), metric(metricRebirth, false, sparkplugb.Boolean)}, d.sparkMetrics(d.prof.spark.metrics, now)...)
	out := d.sparkSend(nil, sparkplugb.NBIRTH, "", node, now)
	for _, dev := range d.prof.spark.devices {
		out = d.sparkSend(out, sparkplugb.DBIRTH, dev.name, d.sparkMetrics(dev.metrics, now), now)
	}
	return out
}

// sparkData is the NDATA (stream 0) or a device's DDATA (stream 1+).
func (d *Device) sparkData(i int, now time.Time) (message.Message, bool) {
	sp := d.prof.spark
	kind, dev, l := sparkplugb.NDATA, "", sp.metrics
	if i > 0 {
		kind, dev, l = sparkplugb.DDATA, sp.devices[i-1].name, sp.devices[i-1].metrics
	}
	out := d.sparkSend(nil, kind, dev, d.sparkMetrics(l, now), now)
	if len(out) == 0 {
		return message.Message{}, false
	}
	return out[0], true
}

func (d *Device) sparkSend(out []message.Message, kind, dev string, metrics []sparkplugb.Metric, now time.Time) []message.Message {
	ts, seq := uint64(now.UnixMilli()), d.spark.nextSeq()
	m, err := d.sparkMessage(kind, dev, &sparkplugb.Payload{Timestamp: &ts, Seq: &seq, Metrics: metrics})
	if err != nil {
		d.setErr(err)
		return out
	}
	m.Time = now
	return append(out, m)
}

func (d *Device) sparkMessage(kind, dev string, p *sparkplugb.Payload) (message.Message, error) {
	b, err := sparkplugb.Marshal(p)
	if err != nil {
		return message.Message{}, fmt.Errorf("sparkplug %s: %w", kind, err)
	}
	return d.message(d.spark.topic(kind, dev), b, 0, false, time.Time{}), nil
}

// sparkMetrics draws l's values as metrics, each of the datatype its
// first value had.
func (d *Device) sparkMetrics(l *fieldList, now time.Time) []sparkplugb.Metric {
	obj := d.generate(l, d.data(now))
	types := d.spark.types[l.id]
	if types == nil {
		types = make([]sparkplugb.DataType, len(obj))
		for i, kv := range obj {
			types[i] = dataType(kv.Value)
		}
		d.spark.types[l.id] = types
	}
	ms := make([]sparkplugb.Metric, len(obj))
	for i, kv := range obj {
		v := kv.Value
		if w, ok := d.spark.written[l.id][kv.Key]; ok {
			v = w
		}
		ms[i] = metric(kv.Key, v, types[i])
	}
	return ms
}

// sparkCommand answers an NCMD (the node, dev "") or a DCMD (device dev):
// Node Control/Rebirth sends new births; any other metric the node or
// device has is written, and the new values go out at once in an NDATA or
// DDATA, as Sparkplug B asks of an edge node that accepts a write.
func (d *Device) sparkCommand(cmd message.Message, dev string, now time.Time) []sim.Effect {
	kind := sparkplugb.NCMD
	if dev != "" {
		kind = sparkplugb.DCMD
	}
	p, err := sparkplugb.Unmarshal(cmd.Payload)
	if err != nil {
		d.setErr(fmt.Errorf("sparkplug %s on %s: %w", kind, cmd.Topic, err))
		return nil
	}
	l, dataKind := d.prof.spark.metrics, sparkplugb.NDATA
	if dev != "" {
		if l = d.prof.spark.device(dev); l == nil {
			d.setErr(fmt.Errorf("sparkplug DCMD on %s: this node has no device %q", cmd.Topic, dev))
			return nil
		}
		dataKind = sparkplugb.DDATA
	}
	var changed []sparkplugb.Metric
	for _, m := range p.Metrics {
		if m.Name == nil {
			continue
		}
		if dev == "" && *m.Name == metricRebirth {
			if m.Value.Kind == sparkplugb.BoolValue && m.Value.Bool {
				var out []sim.Effect
				for _, b := range d.sparkBirths(now) {
					out = append(out, sim.Effect{Publish: &b})
				}
				return out
			}
			continue
		}
		i := l.index(*m.Name)
		if i < 0 {
			d.setErr(fmt.Errorf("sparkplug %s on %s: no metric %q to write; it has %s", kind, cmd.Topic, *m.Name, strings.Join(l.names(), ", ")))
			continue
		}
		v := metricValue(m)
		if d.spark.written[l.id] == nil {
			d.spark.written[l.id] = map[string]any{}
		}
		d.spark.written[l.id][*m.Name] = v
		dt := dataType(v)
		if types := d.spark.types[l.id]; types != nil {
			dt = types[i]
		}
		changed = append(changed, metric(*m.Name, v, dt))
	}
	if len(changed) == 0 {
		return nil
	}
	out := d.sparkSend(nil, dataKind, dev, changed, now)
	effects := make([]sim.Effect, len(out))
	for i := range out {
		effects[i] = sim.Effect{Publish: &out[i]}
	}
	return effects
}

// device is the metric list of the node's device name, nil if none.
func (s *sparkSpec) device(name string) *fieldList {
	for _, dev := range s.devices {
		if dev.name == name {
			return dev.metrics
		}
	}
	return nil
}

// metricValue is a written metric's value as a generator would give it.
func metricValue(m sparkplugb.Metric) any {
	if m.IsNull != nil && *m.IsNull {
		return nil
	}
	v := m.Value
	switch v.Kind {
	case sparkplugb.BoolValue:
		return v.Bool
	case sparkplugb.IntValue:
		return int64(int32(v.Int))
	case sparkplugb.LongValue:
		return int64(v.Long)
	case sparkplugb.FloatValue:
		return float64(v.Float)
	case sparkplugb.DoubleValue:
		return v.Double
	case sparkplugb.StringValue:
		return v.String
	}
	return nil
}

func dataType(v any) sparkplugb.DataType {
	switch v.(type) {
	case bool:
		return sparkplugb.Boolean
	case int, int8, int16, int32, int64:
		return sparkplugb.Int64
	case uint, uint8, uint16, uint32, uint64:
		return sparkplugb.UInt64
	case float32:
		return sparkplugb.Float
	case float64:
		return sparkplugb.Double
	case time.Time:
		return sparkplugb.DateTime
	}
	return sparkplugb.String
}

// metric is a metric named name holding v as datatype dt; nil is a null.
func metric(name string, v any, dt sparkplugb.DataType) sparkplugb.Metric {
	m := sparkplugb.Metric{Name: &name, Datatype: &dt}
	if v == nil {
		null := true
		m.IsNull = &null
		return m
	}
	switch dt {
	case sparkplugb.Boolean:
		m.Value = sparkplugb.Value{Kind: sparkplugb.BoolValue, Bool: toFloat(v) != 0}
	case sparkplugb.Int64, sparkplugb.UInt64:
		m.Value = sparkplugb.Value{Kind: sparkplugb.LongValue, Long: toLong(v)}
	case sparkplugb.Float:
		m.Value = sparkplugb.Value{Kind: sparkplugb.FloatValue, Float: float32(toFloat(v))}
	case sparkplugb.Double:
		m.Value = sparkplugb.Value{Kind: sparkplugb.DoubleValue, Double: toFloat(v)}
	case sparkplugb.DateTime:
		m.Value = sparkplugb.Value{Kind: sparkplugb.LongValue, Long: uint64(toTime(v).UnixMilli())}
	default:
		m.Value = sparkplugb.Value{Kind: sparkplugb.StringValue, String: toText(v)}
	}
	return m
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case bool:
		if x {
			return 1
		}
		return 0
	case int:
		return float64(x)
	case int8:
		return float64(x)
	case int16:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case uint:
		return float64(x)
	case uint8:
		return float64(x)
	case uint16:
		return float64(x)
	case uint32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// toLong is v as Sparkplug's long_value, exact for 64-bit integers.
func toLong(v any) uint64 {
	switch x := v.(type) {
	case int64:
		return uint64(x)
	case uint64:
		return x
	case int:
		return uint64(int64(x))
	}
	return uint64(int64(math.Round(toFloat(v))))
}

func toTime(v any) time.Time {
	if t, ok := v.(time.Time); ok {
		return t
	}
	return time.UnixMilli(int64(toFloat(v)))
}

func toText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
