package device

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/iotstudio/iotstudio/engine/decode/sparkplugb"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
	"github.com/iotstudio/iotstudio/engine/sim/gen"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// Fleet is Count devices of one compiled profile. It is never changed
// after Compile; WithCount and WithSeed return changed copies.
type Fleet struct {
	Name, Profile string
	Count         int
	Ramp          scenario.Ramp // defaults applied
	Seed          int64

	prof         *profile
	id, clientID *tmpl // clientID nil: the device ID
	opt          Options
}

// Len is the number of devices.
func (f *Fleet) Len() int { return f.Count }

// WithCount is f with n devices (at least 1), for --count.
func (f *Fleet) WithCount(n int) *Fleet {
	c := *f
	c.Count = max(n, 1)
	return &c
}

// WithSeed is f with another seed, for --seed.
func (f *Fleet) WithSeed(s int64) *Fleet {
	c := *f
	c.Seed = s
	return &c
}

// WithRamp returns the fleet connecting at r instead (the CLI's --ramp).
func (f *Fleet) WithRamp(r scenario.Ramp) *Fleet {
	c := *f
	c.Ramp = r
	return &c
}

// Source is a fleet as the runtime takes it (engine/sim/fleet's Devices
// interface): Name and Ramp are fields of Fleet, so they cannot also be
// its methods.
type Source struct{ f *Fleet }

// Source wraps f for the runtime.
func (f *Fleet) Source() Source { return Source{f} }

// Name is the fleet's name.
func (s Source) Name() string { return s.f.Name }

// Len is the number of devices.
func (s Source) Len() int { return s.f.Count }

// Device makes device i.
func (s Source) Device(i int) sim.Behaviour { return s.f.Device(i) }

// Ramp is how fast the devices connect, defaults applied.
func (s Source) Ramp() scenario.Ramp { return s.f.Ramp }

// identity renders device index's ID and client ID.
func (f *Fleet) identity(index int) (id, clientID string, err error) {
	d := &tdata{Index: index, Fleet: f.Name, Profile: f.Profile}
	if id, err = f.id.render(d); err != nil {
		return "", "", fmt.Errorf("id template: %w", err)
	}
	d.ID = id
	if f.clientID == nil {
		return id, id, nil
	}
	if clientID, err = f.clientID.render(d); err != nil {
		return "", "", fmt.Errorf("client_id template: %w", err)
	}
	return id, clientID, nil
}

// Identity is device index's ID and client ID, as NewDevice gives them,
// without making the device (its generators and state): for checks over
// a whole fleet.
func (f *Fleet) Identity(index int) (id, clientID string) {
	id, clientID, err := f.identity(index)
	if err != nil {
		id = fallbackID(f, index)
		return id, id
	}
	return id, clientID
}

// fallbackID names a device whose ID template failed for its index.
func fallbackID(f *Fleet, index int) string { return fmt.Sprintf("%s-%d", f.Name, index) }

// Device makes device index of the fleet: the same index, file and seed
// always make a device with the same values. The result is a *Device.
func (f *Fleet) Device(index int) sim.Behaviour { return f.NewDevice(index) }

// NewDevice is Device with its concrete type, for the window's device
// detail (State, Err).
func (f *Fleet) NewDevice(index int) *Device {
	p := f.prof
	d := &Device{fleet: f, prof: p, index: index, state: copyState(p.state)}
	var err error
	if d.id, d.clientID, err = f.identity(index); err != nil {
		// Compile tried index 0; another index failing is a template that
		// depends on the index in a way that breaks, worth showing, not fatal.
		d.setErr(err)
		d.id = fallbackID(f, index)
		d.clientID = d.id
	}
	d.gens = make([][]gen.Generator, len(p.lists))
	for _, l := range p.lists {
		d.gens[l.id] = d.newGens(l)
	}
	d.listSeq = make([]uint64, len(p.lists))
	d.draw = make([]drawScratch, len(p.lists))
	d.vars = map[string]any{}
	d.drawVars()
	d.on = make([]bool, len(p.streams))
	for i, s := range p.streams {
		d.on[i] = !s.off
	}
	if p.spark != nil {
		for range 1 + len(p.spark.devices) {
			d.on = append(d.on, true)
		}
	}
	d.subscriptions()
	if p.spark != nil {
		d.spark = &sparkRun{group: p.spark.group, types: map[int][]sparkplugb.DataType{}, written: map[int]map[string]any{}}
		d.spark.node, err = p.spark.node.render(d.data(time.Time{}))
		if err != nil {
			d.setErr(fmt.Errorf("sparkplug node template: %w", err))
		}
		// Sparkplug B 3.0: an edge node subscribes to its NCMD and, with
		// devices, its DCMD topics at QoS 1 before its NBIRTH.
		d.subs = append(d.subs, sim.Subscription{Filter: d.spark.topic(sparkplugb.NCMD, ""), QoS: 1})
		if len(p.spark.devices) > 0 {
			d.subs = append(d.subs, sim.Subscription{Filter: d.spark.topic(sparkplugb.DCMD, "+"), QoS: 1})
		}
	}
	return d
}

// Device is one simulated device. Its methods may be called from several
// goroutines.
type Device struct {
	fleet        *Fleet
	prof         *profile
	index        int
	id, clientID string
	filters      []string // per handler, rendered once: subscriptions do not change
	subs         []sim.Subscription

	mu      sync.Mutex
	vars    map[string]any
	state   map[string]any
	gens    [][]gen.Generator // per field list id
	listSeq []uint64          // per field list id: how many times it was drawn
	draw    []drawScratch     // per field list id: reused by generate
	on      []bool            // per stream
	rngs    map[*actionSpec]*rand.Rand
	topics  map[*msgSpec]string // fixed topics, rendered once
	spark   *sparkRun
	err     error
}

func (d *Device) newGens(l *fieldList) []gen.Generator {
	gs := make([]gen.Generator, len(l.specs))
	for i, s := range l.specs {
		g, err := gen.New(s.field, deriveSeed(d.fleet.Seed, d.index, s.path), gen.Options{Replay: d.fleet.opt.Replay})
		if err != nil {
			// Compile built this field once already, so this is not
			// expected; the field then stays null and the error shows.
			d.setErr(fmt.Errorf("field %s: %w", s.path, err))
			g = nullGen{}
		}
		gs[i] = g
	}
	return gs
}

type nullGen struct{}

func (nullGen) Next(*gen.Sample) any { return nil }

// drawVars fixes the device's variables; each sees the ones before it.
func (d *Device) drawVars() {
	l := d.prof.vars
	s := &gen.Sample{Now: time.Now(), Fields: d.vars, State: d.state, Vars: d.vars, ID: d.id, Index: d.index}
	for i, spec := range l.specs {
		d.vars[spec.name] = d.gens[l.id][i].Next(s)
	}
}

func (d *Device) subscriptions() {
	byFilter := map[string]int{}
	data := d.data(time.Time{})
	for _, h := range d.prof.handlers {
		f, err := h.filter.render(data)
		if err != nil {
			d.setErr(fmt.Errorf("handler %q filter: %w", h.name, err))
		}
		d.filters = append(d.filters, f)
		if f == "" {
			continue
		}
		if i, ok := byFilter[f]; ok {
			d.subs[i].QoS = max(d.subs[i].QoS, h.qos)
			continue
		}
		byFilter[f] = len(d.subs)
		d.subs = append(d.subs, sim.Subscription{Filter: f, QoS: h.qos})
	}
}

// Identity implements sim.Behaviour.
func (d *Device) Identity() (id, clientID string) { return d.id, d.clientID }

// Subscriptions implements sim.Behaviour.
func (d *Device) Subscriptions() []sim.Subscription {
	return append([]sim.Subscription(nil), d.subs...)
}

// Streams implements sim.Behaviour: the profile's streams, then for a
// Sparkplug node its NDATA and each device's DDATA.
func (d *Device) Streams() []sim.Stream {
	var out []sim.Stream
	for _, s := range d.prof.streams {
		out = append(out, sim.Stream{Name: s.name, Every: s.every, Jitter: s.jitter})
	}
	if sp := d.prof.spark; sp != nil {
		out = append(out, sim.Stream{Name: sparkplugb.NDATA, Every: sp.every})
		for _, dev := range sp.devices {
			out = append(out, sim.Stream{Name: sparkplugb.DDATA + " " + dev.name, Every: sp.every})
		}
	}
	return out
}

// State is a copy of the device's state.
func (d *Device) State() map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return copyState(d.state)
}

// Vars is a copy of the device's variables.
func (d *Device) Vars() map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return copyState(d.vars)
}

// Err is the last thing that went wrong rendering or handling (a template
// failing on a state value, a command the expressions could not read), or
// nil. Such a failure skips the message or action; it does not stop the
// device.
func (d *Device) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

func (d *Device) setErr(err error) { d.err = err }

// Next implements sim.Behaviour.
func (d *Device) Next(i int, now time.Time) (message.Message, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.prof.streams)
	switch {
	case i < 0:
		return message.Message{}, false
	case i < n:
		if !d.on[i] {
			return message.Message{}, false
		}
		m, err := d.build(d.prof.streams[i].msg, d.data(now))
		if err != nil {
			d.setErr(fmt.Errorf("stream %q: %w", d.prof.streams[i].name, err))
			return message.Message{}, false
		}
		return m, true
	case d.spark != nil && i <= n+len(d.prof.spark.devices):
		if !d.on[i] {
			return message.Message{}, false
		}
		return d.sparkData(i-n, now)
	}
	return message.Message{}, false
}

// Connect implements sim.Behaviour. It may be called any number of times:
// a Sparkplug node's bdSeq advances when a connection is born (Online).
func (d *Device) Connect() sim.Connect {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := &d.prof.life
	c := sim.Connect{
		KeepAlive: l.keepAlive, CleanStart: l.cleanStart, SessionExpiry: l.expiry,
		ReconnectMin: l.reconnMin, ReconnectMax: l.reconnMax,
		MTBF: l.mtbf, Downtime: l.downtime, DropPercent: l.dropPercent,
	}
	now := time.Now()
	switch {
	case d.spark != nil:
		c.Will = d.sparkConnect()
	case l.will != nil:
		m, err := d.build(l.will, d.data(now))
		if err != nil {
			d.setErr(fmt.Errorf("lifecycle will: %w", err))
			break
		}
		c.Will = &m
	case l.status != nil:
		if m, ok := d.status(l.status.offline, now); ok {
			c.Will = &m
		}
	}
	if c.Will != nil {
		c.Will.Time = time.Time{} // sent by the broker, whenever it fires
	}
	return c
}

// Online implements sim.Behaviour: Sparkplug births first (a node's first
// message must be its NBIRTH), then the retained status and the birth.
func (d *Device) Online(now time.Time) []message.Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []message.Message
	if d.spark != nil {
		out = d.sparkOnline(now)
	}
	l := &d.prof.life
	if l.status != nil {
		if m, ok := d.status(l.status.online, now); ok {
			out = append(out, m)
		}
	}
	if l.birth != nil {
		m, err := d.build(l.birth, d.data(now))
		if err != nil {
			d.setErr(fmt.Errorf("lifecycle birth: %w", err))
		} else {
			out = append(out, m)
		}
	}
	return out
}

// Offline implements sim.Behaviour: the retained offline status and, for
// a Sparkplug node, its NDEATH (a graceful stop fires no will).
func (d *Device) Offline(now time.Time) []message.Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []message.Message
	if l := &d.prof.life; l.status != nil {
		if m, ok := d.status(l.status.offline, now); ok {
			out = append(out, m)
		}
	}
	if d.spark != nil {
		ts := uint64(now.UnixMilli())
		m, err := d.sparkMessage(sparkplugb.NDEATH, "", &sparkplugb.Payload{Timestamp: &ts, Metrics: []sparkplugb.Metric{bdSeqMetric(d.spark.bdSeq)}})
		if err != nil {
			d.setErr(err)
		} else {
			m.Time = now
			out = append(out, m)
		}
	}
	return out
}

// status is the retained status message with value.
func (d *Device) status(value string, now time.Time) (message.Message, bool) {
	s := d.prof.life.status
	topic, err := s.topic.render(d.data(now))
	if err != nil {
		d.setErr(fmt.Errorf("lifecycle status topic: %w", err))
		return message.Message{}, false
	}
	return d.message(topic, []byte(value), s.qos, true, now), true
}

// data is the template data of the device at now.
func (d *Device) data(now time.Time) *tdata {
	return &tdata{ID: d.id, Index: d.index, Fleet: d.fleet.Name, Profile: d.fleet.Profile, Vars: d.vars, State: d.state, Now: now}
}

func (d *Device) message(topic string, payload []byte, qos byte, retain bool, now time.Time) message.Message {
	return message.Message{Time: now, ClientID: d.clientID, Protocol: d.fleet.opt.Protocol, Topic: topic, Payload: payload, QoS: qos, Retain: retain}
}

// drawScratch is what generate needs for one field list, kept between
// draws: a device sends every second for hours, and a fresh map and
// sample per message were a fifth of a fleet's garbage.
type drawScratch struct {
	fields map[string]any
	sample gen.Sample
}

// generate draws l's next values into data.Fields (and data.Seq) and
// returns them in order. data.Fields is valid until l's next draw: the
// message is built from it under d.mu, before anything draws again.
func (d *Device) generate(l *fieldList, data *tdata) gen.Object {
	data.Seq = d.listSeq[l.id]
	d.listSeq[l.id]++
	sc := &d.draw[l.id]
	if sc.fields == nil {
		sc.fields = make(map[string]any, len(l.specs))
	}
	clear(sc.fields)
	sc.sample = gen.Sample{Now: data.Now, Seq: data.Seq, Fields: sc.fields, State: d.state, Vars: d.vars, ID: d.id, Index: d.index}
	obj := make(gen.Object, len(l.specs))
	for i, spec := range l.specs {
		v := d.gens[l.id][i].Next(&sc.sample)
		sc.fields[spec.name] = v
		obj[i] = gen.KV{Key: spec.name, Value: v}
	}
	data.Fields = sc.fields
	return obj
}

// build makes one message of m.
func (d *Device) build(m *msgSpec, data *tdata) (message.Message, error) {
	obj := d.generate(m.fields, data)
	var payload []byte
	switch {
	case m.raw != nil:
		payload = m.raw
	case m.payload != nil:
		s, err := m.payload.render(data)
		if err != nil {
			return message.Message{}, fmt.Errorf("payload: %w", err)
		}
		payload = []byte(s)
	case len(obj) > 0:
		var err error
		if payload, err = obj.AppendJSON(make([]byte, 0, m.jsonSize.Load())); err != nil {
			return message.Message{}, fmt.Errorf("payload as JSON: %w", err)
		}
		if n := int64(len(payload)); n > m.jsonSize.Load() {
			m.jsonSize.Store(n) // a high-water mark: a lost race only costs a regrow
		}
	}
	topic, err := d.topic(m, data)
	if err != nil {
		return message.Message{}, fmt.Errorf("topic: %w", err)
	}
	out := d.message(topic, payload, m.qos, m.retain, data.Now)
	if m.props != nil && d.fleet.opt.Protocol >= 5 {
		if err := m.props.apply(&out, data); err != nil {
			return message.Message{}, err
		}
	}
	return out, nil
}

// topic renders m's topic, once per device when it cannot change: most
// topics are like devices/{{.ID}}/telemetry, and rendering them on every
// message was most of a message's allocations.
func (d *Device) topic(m *msgSpec, data *tdata) (string, error) {
	if m.topic == nil || !m.topic.fixed {
		return m.topic.render(data)
	}
	if t, ok := d.topics[m]; ok {
		return t, nil
	}
	t, err := m.topic.render(data)
	if err != nil {
		return "", err
	}
	if d.topics == nil {
		d.topics = map[*msgSpec]string{}
	}
	d.topics[m] = t
	return t, nil
}

func (p *propsSpec) apply(m *message.Message, data *tdata) error {
	m.ContentType, m.PayloadFormat, m.MessageExpiry = p.contentType, p.payloadFormat, p.expiry
	var err error
	if m.ResponseTopic, err = p.responseTopic.render(data); err != nil {
		return fmt.Errorf("response_topic: %w", err)
	}
	if p.correlation != nil {
		s, err := p.correlation.render(data)
		if err != nil {
			return fmt.Errorf("correlation_data: %w", err)
		}
		m.CorrelationData = []byte(s)
	}
	for _, u := range p.user {
		v, err := u.val.render(data)
		if err != nil {
			return fmt.Errorf("user property %s: %w", u.key, err)
		}
		m.UserProps = append(m.UserProps, message.UserProp{Key: u.key, Value: v})
	}
	return nil
}
