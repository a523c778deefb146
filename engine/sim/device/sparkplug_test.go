package device

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/decode/sparkplugb"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

func machine() scenario.Profile {
	return scenario.Profile{
		Name: "machine",
		Sparkplug: &scenario.Sparkplug{
			Group: "plant1",
			Node:  "{{.ID}}",
			Every: dur(5 * time.Second),
			Metrics: scenario.Fields{
				field("count", counter(0, 0)),
				field("running", constant(true)),
				field("line", constant("A")),
				field("temp", exprField("20.5 + seq")),
			},
			Devices: []scenario.SparkplugDevice{{Name: "motor", Metrics: scenario.Fields{field("rpm", counter(1000, 0))}}},
		},
	}
}

// spb decodes a Sparkplug message and indexes its metrics by name.
type spb struct {
	topic   sparkplugb.Topic
	p       *sparkplugb.Payload
	metrics map[string]sparkplugb.Metric
}

func decodeSpB(t *testing.T, m message.Message) spb {
	t.Helper()
	topic, ok := sparkplugb.ParseTopic(m.Topic)
	if !ok {
		t.Fatalf("%q is not a Sparkplug B topic", m.Topic)
	}
	p, err := sparkplugb.Unmarshal(m.Payload)
	if err != nil {
		t.Fatalf("%s: %v", m.Topic, err)
	}
	s := spb{topic: topic, p: p, metrics: map[string]sparkplugb.Metric{}}
	for _, mt := range p.Metrics {
		if mt.Name == nil {
			t.Fatalf("%s: a metric without a name", m.Topic)
		}
		s.metrics[*mt.Name] = mt
	}
	return s
}

func (s spb) seq(t *testing.T) uint64 {
	t.Helper()
	if s.p.Seq == nil {
		t.Fatalf("%s has no seq", s.topic.MessageType)
	}
	return *s.p.Seq
}

func (s spb) bdSeq(t *testing.T) uint64 {
	t.Helper()
	m, ok := s.metrics["bdSeq"]
	if !ok || m.Value.Kind != sparkplugb.LongValue {
		t.Fatalf("%s has no bdSeq metric: %+v", s.topic.MessageType, s.metrics)
	}
	return m.Value.Long
}

func spDevice(t *testing.T) *Device {
	return compile(t, fleetOf(machine(), 2, 0), Options{}).Fleets[0].NewDevice(1)
}

func TestSparkplugBirthsAndWill(t *testing.T) {
	d := spDevice(t)
	if subs := d.Subscriptions(); len(subs) != 2 || subs[0] != (sim.Subscription{Filter: "spBv1.0/plant1/NCMD/machine-1", QoS: 1}) || subs[1] != (sim.Subscription{Filter: "spBv1.0/plant1/DCMD/machine-1/+", QoS: 1}) {
		t.Fatalf("subscriptions %+v, want the node's NCMD and DCMD at QoS 1", subs)
	}
	c := d.Connect()
	if c.Will == nil || c.Will.Topic != "spBv1.0/plant1/NDEATH/machine-1" || c.Will.QoS != 1 || c.Will.Retain {
		t.Fatalf("will %+v, want NDEATH at QoS 1, not retained", c.Will)
	}
	death := decodeSpB(t, *c.Will)
	if death.bdSeq(t) != 0 || death.p.Seq != nil {
		t.Fatalf("NDEATH bdSeq %d seq %v, want bdSeq 0 and no seq", death.bdSeq(t), death.p.Seq)
	}
	on := d.Online(t0)
	if len(on) != 2 {
		t.Fatalf("online sent %d messages, want NBIRTH and one DBIRTH", len(on))
	}
	nb, db := decodeSpB(t, on[0]), decodeSpB(t, on[1])
	if nb.topic.MessageType != sparkplugb.NBIRTH || nb.seq(t) != 0 || nb.bdSeq(t) != 0 {
		t.Fatalf("first message %s seq %d bdSeq %d, want NBIRTH seq 0 bdSeq 0", nb.topic.MessageType, nb.seq(t), nb.bdSeq(t))
	}
	if nb.p.Timestamp == nil || *nb.p.Timestamp != uint64(t0.UnixMilli()) {
		t.Fatalf("NBIRTH timestamp %v", nb.p.Timestamp)
	}
	rb := nb.metrics["Node Control/Rebirth"]
	if rb.Datatype == nil || *rb.Datatype != sparkplugb.Boolean || rb.Value.Kind != sparkplugb.BoolValue || rb.Value.Bool {
		t.Fatalf("NBIRTH Node Control/Rebirth %+v, want a false boolean", rb)
	}
	for name, want := range map[string]sparkplugb.DataType{"count": sparkplugb.Int64, "running": sparkplugb.Boolean, "line": sparkplugb.String, "temp": sparkplugb.Double} {
		m, ok := nb.metrics[name]
		if !ok || m.Datatype == nil || *m.Datatype != want {
			t.Fatalf("NBIRTH metric %s: %+v, want datatype %v", name, m, want)
		}
		if _, err := sparkplugb.Typed(*m.Datatype, m.Value); err != nil {
			t.Fatalf("metric %s does not decode as its datatype: %v", name, err)
		}
	}
	if v := nb.metrics["line"].Value; v.String != "A" || !nb.metrics["running"].Value.Bool || nb.metrics["temp"].Value.Double != 20.5 {
		t.Fatalf("NBIRTH values %+v", nb.metrics)
	}
	if db.topic.MessageType != sparkplugb.DBIRTH || db.topic.Device != "motor" || db.seq(t) != 1 || db.metrics["rpm"].Value.Long != 1000 {
		t.Fatalf("DBIRTH %+v seq %d rpm %+v", db.topic, db.seq(t), db.metrics["rpm"])
	}
}

func TestSparkplugSeqWrapsAcrossNodeAndDeviceMessages(t *testing.T) {
	d := spDevice(t)
	streams := d.Streams()
	if len(streams) != 2 || streams[0].Name != "NDATA" || streams[0].Every != 5*time.Second || streams[1].Name != "DDATA motor" {
		t.Fatalf("streams %+v", streams)
	}
	d.Connect()
	d.Online(t0)
	want := uint64(2) // after NBIRTH 0 and DBIRTH 1
	var lastCount int64 = -1
	for i := range 600 {
		m := next(t, d, i%2, t0.Add(time.Duration(i)*time.Second))
		s := decodeSpB(t, m)
		if got := s.seq(t); got != want {
			t.Fatalf("message %d (%s) has seq %d, want %d", i, s.topic.MessageType, got, want)
		}
		want = (want + 1) % 256
		if i%2 == 0 {
			if s.topic.MessageType != sparkplugb.NDATA {
				t.Fatalf("stream 0 sent %s", s.topic.MessageType)
			}
			c := int64(s.metrics["count"].Value.Long)
			if c <= lastCount {
				t.Fatalf("NDATA count went from %d to %d", lastCount, c)
			}
			lastCount = c
		} else if s.topic.MessageType != sparkplugb.DDATA || s.topic.Device != "motor" {
			t.Fatalf("stream 1 sent %+v", s.topic)
		}
	}
}

func TestSparkplugRebirthAndReconnect(t *testing.T) {
	d := spDevice(t)
	d.Connect()
	d.Online(t0)
	next(t, d, 0, t0)
	next(t, d, 1, t0)

	cmd := func(rebirth bool) message.Message {
		name, dt := "Node Control/Rebirth", sparkplugb.Boolean
		b, err := sparkplugb.Marshal(&sparkplugb.Payload{Metrics: []sparkplugb.Metric{{Name: &name, Datatype: &dt, Value: sparkplugb.Value{Kind: sparkplugb.BoolValue, Bool: rebirth}}}})
		if err != nil {
			t.Fatal(err)
		}
		return message.Message{Topic: "spBv1.0/plant1/NCMD/machine-1", Payload: b}
	}
	if eff := d.Handle(cmd(false), t0); len(eff) != 0 {
		t.Fatalf("Rebirth=false gave %+v", eff)
	}
	eff := d.Handle(cmd(true), t0)
	if len(eff) != 2 || eff[0].Publish == nil || eff[1].Publish == nil {
		t.Fatalf("rebirth effects %+v, want NBIRTH and DBIRTH", eff)
	}
	nb, db := decodeSpB(t, *eff[0].Publish), decodeSpB(t, *eff[1].Publish)
	if nb.topic.MessageType != sparkplugb.NBIRTH || nb.seq(t) != 0 || nb.bdSeq(t) != 0 || db.topic.MessageType != sparkplugb.DBIRTH || db.seq(t) != 1 {
		t.Fatalf("rebirth sent %s seq %d bdSeq %d, %s seq %d", nb.topic.MessageType, nb.seq(t), nb.bdSeq(t), db.topic.MessageType, db.seq(t))
	}
	if s := decodeSpB(t, next(t, d, 0, t0)); s.seq(t) != 2 {
		t.Fatalf("NDATA after a rebirth has seq %d, want 2", s.seq(t))
	}
	if eff := d.Handle(message.Message{Topic: "spBv1.0/plant1/NCMD/machine-1", Payload: []byte("not protobuf \xff")}, t0); len(eff) != 0 || d.Err() == nil {
		t.Fatalf("a broken NCMD gave %+v, err %v", eff, d.Err())
	}

	// A new connection: the will and the births carry the next bdSeq.
	c := d.Connect()
	if got := decodeSpB(t, *c.Will).bdSeq(t); got != 1 {
		t.Fatalf("second connection's NDEATH bdSeq %d, want 1", got)
	}
	on := d.Online(t0)
	if nb := decodeSpB(t, on[0]); nb.bdSeq(t) != 1 || nb.seq(t) != 0 {
		t.Fatalf("second NBIRTH bdSeq %d seq %d, want 1 and 0", nb.bdSeq(t), nb.seq(t))
	}
	off := d.Offline(t0)
	if len(off) != 1 {
		t.Fatalf("offline %+v, want the NDEATH", off)
	}
	if s := decodeSpB(t, off[0]); s.topic.MessageType != sparkplugb.NDEATH || s.bdSeq(t) != 1 {
		t.Fatalf("graceful NDEATH %s bdSeq %d", s.topic.MessageType, s.bdSeq(t))
	}
}

func TestSparkplugBdSeqWraps(t *testing.T) {
	d := spDevice(t)
	var c sim.Connect
	for range 257 {
		c = d.Connect()
		d.Online(t0)
	}
	if got := decodeSpB(t, *c.Will).bdSeq(t); got != 0 {
		t.Fatalf("the 257th connection's bdSeq is %d, want 0 (0..255 wrapping)", got)
	}
	if got := decodeSpB(t, *d.Connect().Will).bdSeq(t); got != 1 {
		t.Fatalf("the 258th connection's bdSeq is %d, want 1", got)
	}
}

func TestSparkplugCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		edit func(p *scenario.Profile)
		want string
	}{
		{func(p *scenario.Profile) { p.Sparkplug.Group = "a/b" }, `sparkplug group: "a/b" is one topic level`},
		{func(p *scenario.Profile) { p.Sparkplug.Node = "" }, "sparkplug node: it is empty"},
		{func(p *scenario.Profile) { p.Sparkplug.Every = 0 }, "sparkplug every must be a positive interval"},
		{func(p *scenario.Profile) {
			p.Sparkplug.Metrics = append(p.Sparkplug.Metrics, field("bdSeq", constant(1)))
		}, `sparkplug metric "bdSeq" is the node's own`},
		{func(p *scenario.Profile) {
			p.Lifecycle = &scenario.Lifecycle{Will: &scenario.Publish{Topic: "x", Payload: "y"}}
		}, "lifecycle will: a Sparkplug B node's will is its NDEATH"},
	} {
		p := machine()
		p.At = scenario.Pos{Line: 3, Column: 5}
		tc.edit(&p)
		_, err := Compile(fleetOf(p, 1, 0), nil, Options{})
		var errs scenario.Errors
		if !errors.As(err, &errs) || !strings.HasPrefix(errs[0].Error(), "test.yaml:3:5: "+tc.want) {
			t.Errorf("error %v, want test.yaml:3:5: %s...", err, tc.want)
		}
	}
}

func TestSparkplugPreviewFollowsBirths(t *testing.T) {
	fl := compile(t, fleetOf(machine(), 1, 0), Options{}).Fleets[0]
	msgs := Preview(fl, 0, 3, t0)
	if len(msgs) != 3 {
		t.Fatalf("preview gave %d messages", len(msgs))
	}
	for i, m := range msgs {
		if s := decodeSpB(t, m); s.seq(t) != uint64(2+i) {
			t.Fatalf("preview message %d %s seq %d, want %d (after the births)", i, s.topic.MessageType, s.seq(t), 2+i)
		}
	}
}

// TestSparkplugConnectReadTwice: the runtime reads Connect when it makes a
// device and again for each CONNECT it sends; the first CONNECT's will and
// NBIRTH must still carry bdSeq 0, the same one.
func TestSparkplugConnectReadTwice(t *testing.T) {
	d := spDevice(t)
	d.Connect()
	c := d.Connect()
	nb := decodeSpB(t, d.Online(t0)[0])
	if w := decodeSpB(t, *c.Will).bdSeq(t); w != 0 || nb.bdSeq(t) != 0 {
		t.Fatalf("first connection: will bdSeq %d, NBIRTH bdSeq %d; want 0 and 0", w, nb.bdSeq(t))
	}
	c = d.Connect()
	d.Connect()
	nb = decodeSpB(t, d.Online(t0)[0])
	if w := decodeSpB(t, *c.Will).bdSeq(t); w != 1 || nb.bdSeq(t) != 1 {
		t.Fatalf("second connection: will bdSeq %d, NBIRTH bdSeq %d; want 1 and 1", w, nb.bdSeq(t))
	}
}

// spCommand is an NCMD or DCMD writing metrics.
func spCommand(t *testing.T, topic string, ms ...sparkplugb.Metric) message.Message {
	t.Helper()
	b, err := sparkplugb.Marshal(&sparkplugb.Payload{Metrics: ms})
	if err != nil {
		t.Fatal(err)
	}
	return message.Message{Topic: topic, Payload: b}
}

// A host writes metrics with DCMD and NCMD: the device answers with a
// DDATA or NDATA carrying the new values, and later data keep them, as a
// setpoint is kept; a metric or device the node does not have is refused
// in words and changes nothing.
func TestSparkplugCommandsWriteMetrics(t *testing.T) {
	d := spDevice(t)
	d.Connect()
	d.Online(t0)
	next(t, d, 1, t0)

	eff := d.Handle(spCommand(t, "spBv1.0/plant1/DCMD/machine-1/motor", metric("rpm", int64(1500), sparkplugb.Int64)), t0)
	if len(eff) != 1 || eff[0].Publish == nil {
		t.Fatalf("DCMD effects %+v, want one DDATA", eff)
	}
	dd := decodeSpB(t, *eff[0].Publish)
	if dd.topic.MessageType != sparkplugb.DDATA || dd.topic.Device != "motor" || dd.metrics["rpm"].Value.Long != 1500 || len(dd.metrics) != 1 {
		t.Fatalf("answer %s/%s %+v, want a DDATA of motor with rpm 1500 only", dd.topic.MessageType, dd.topic.Device, dd.metrics)
	}
	for range 2 {
		if s := decodeSpB(t, next(t, d, 1, t0)); s.metrics["rpm"].Value.Long != 1500 {
			t.Fatalf("DDATA after the write has rpm %d, want the written 1500 kept", s.metrics["rpm"].Value.Long)
		}
	}

	eff = d.Handle(spCommand(t, "spBv1.0/plant1/NCMD/machine-1", metric("line", "B", sparkplugb.String)), t0)
	if len(eff) != 1 || decodeSpB(t, *eff[0].Publish).metrics["line"].Value.String != "B" {
		t.Fatalf("NCMD effects %+v, want an NDATA with line B", eff)
	}
	if s := decodeSpB(t, next(t, d, 0, t0)); s.metrics["line"].Value.String != "B" || s.metrics["count"].Value.Kind != sparkplugb.LongValue {
		t.Fatalf("NDATA after the write: %+v, want line B and the other metrics as before", s.metrics)
	}

	for _, tc := range []struct{ topic, metric, want string }{
		{"spBv1.0/plant1/DCMD/machine-1/motor", "speed", `no metric "speed" to write; it has rpm`},
		{"spBv1.0/plant1/DCMD/machine-1/pump", "rpm", `this node has no device "pump"`},
	} {
		if eff := d.Handle(spCommand(t, tc.topic, metric(tc.metric, int64(1), sparkplugb.Int64)), t0); len(eff) != 0 {
			t.Fatalf("%s writing %s gave %+v", tc.topic, tc.metric, eff)
		}
		if err := d.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s writing %s: error %v, want %q", tc.topic, tc.metric, err, tc.want)
		}
	}
	if eff := d.Handle(spCommand(t, "spBv1.0/plant1/DCMD/machine-0/motor", metric("rpm", int64(9), sparkplugb.Int64)), t0); len(eff) != 0 {
		t.Fatalf("another node's DCMD gave %+v", eff)
	}
}

// A handler switches a Sparkplug node's data by stream name: NDATA, or
// "DDATA device" for one device's.
func TestSparkplugStreamsSwitchByName(t *testing.T) {
	p := machine()
	p.Handlers = []scenario.Handler{{Name: "quiet", Filter: "cmd/{{.ID}}/quiet", Actions: []scenario.Action{
		{Stream: &scenario.StreamSwitch{Name: "DDATA motor", On: false}},
	}}}
	d := compile(t, fleetOf(p, 2, 0), Options{}).Fleets[0].NewDevice(1)
	d.Connect()
	d.Online(t0)
	next(t, d, 1, t0)
	d.Handle(message.Message{Topic: "cmd/machine-1/quiet"}, t0)
	if m, ok := d.Next(1, t0); ok {
		t.Fatalf("the motor's DDATA was switched off and still sent %s", m.Topic)
	}
	next(t, d, 0, t0) // the node's NDATA goes on

	p.Handlers[0].Actions[0].Stream.Name = "DDATA pump"
	_, err := Compile(fleetOf(p, 1, 0), nil, Options{})
	if err == nil || !strings.Contains(err.Error(), `no stream is named "DDATA pump"; streams: NDATA, DDATA motor`) {
		t.Fatalf("a switch of a device the node does not have: %v", err)
	}
}
