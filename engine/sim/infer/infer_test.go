package infer

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// plant is a synthetic capture: devices × perDevice messages on
// plant/devNN/telemetry every 5 s (± 40 ms), from client sensor-devNN,
// each {"temp": walk 18..25 (2 decimals), "hum": 40..60 (1 decimal),
// "seq": counter, "ts": unix ms, "state": on/off, "meta": {"fw": const,
// "rssi": -90..-40}}. It returns the observed ranges too.
type plantData struct {
	msgs             []message.Message
	tempMin, tempMax float64
	humMin, humMax   float64
	rssiMin, rssiMax float64
	on, off          int
}

func plant(devices, perDevice int, start time.Time) plantData {
	rng := rand.New(rand.NewPCG(1, 2))
	d := plantData{tempMin: math.Inf(1), tempMax: math.Inf(-1), humMin: math.Inf(1), humMax: math.Inf(-1), rssiMin: math.Inf(1), rssiMax: math.Inf(-1)}
	for dev := range devices {
		id := fmt.Sprintf("dev%02d", dev+1)
		temp := 18 + rng.Float64()*7
		offset := time.Duration(rng.IntN(5000)) * time.Millisecond
		for i := range perDevice {
			temp = math.Max(18, math.Min(25, temp+(rng.Float64()-0.5)*0.6))
			temp = math.Round(temp*100) / 100
			hum := math.Round((40+rng.Float64()*20)*10) / 10
			rssi := -90 + rng.IntN(51)
			state := "off"
			if rng.IntN(3) > 0 {
				state = "on"
				d.on++
			} else {
				d.off++
			}
			at := start.Add(offset + time.Duration(i)*5*time.Second + time.Duration(rng.IntN(81)-40)*time.Millisecond)
			payload := fmt.Sprintf(`{"temp":%s,"hum":%s,"seq":%d,"ts":%d,"state":%q,"meta":{"fw":"1.4.2","rssi":%d}}`,
				num(temp), num(hum), i, at.UnixMilli(), state, rssi)
			d.msgs = append(d.msgs, message.Message{
				Time: at, ClientID: "sensor-" + id, Protocol: 5, Topic: "plant/" + id + "/telemetry",
				Payload: []byte(payload), QoS: 1,
			})
			d.tempMin, d.tempMax = math.Min(d.tempMin, temp), math.Max(d.tempMax, temp)
			d.humMin, d.humMax = math.Min(d.humMin, hum), math.Max(d.humMax, hum)
			d.rssiMin, d.rssiMax = math.Min(d.rssiMin, float64(rssi)), math.Max(d.rssiMax, float64(rssi))
		}
	}
	// A capture holds messages interleaved across devices.
	rng.Shuffle(len(d.msgs), func(i, j int) { d.msgs[i], d.msgs[j] = d.msgs[j], d.msgs[i] })
	return d
}

func names(fs scenario.Fields) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func field(t *testing.T, fs scenario.Fields, name string) scenario.Field {
	t.Helper()
	for _, f := range fs {
		if f.Name == name {
			return f.Field
		}
	}
	t.Fatalf("no field %q in %v", name, names(fs))
	return scenario.Field{}
}

func inferOK(t *testing.T, msgs []message.Message, opt Options) (*scenario.File, Report) {
	t.Helper()
	f, rep, err := Infer(msgs, opt)
	if err != nil {
		t.Fatalf("Infer: %v", err)
	}
	if len(f.Profiles) != 1 || len(f.Fleets) != 1 {
		t.Fatalf("got %d profiles and %d fleets, want 1 and 1", len(f.Profiles), len(f.Fleets))
	}
	return f, rep
}

// within fails unless a walk stays inside the observed [lo, hi].
func within(t *testing.T, name string, w *scenario.Walk, lo, hi float64) {
	t.Helper()
	if w == nil {
		t.Fatalf("%s: not a walk", name)
	}
	if w.Min < lo || w.Max > hi || w.Min >= w.Max {
		t.Errorf("%s: walk %v..%v, observed %v..%v", name, w.Min, w.Max, lo, hi)
	}
	if w.Step <= 0 || w.Step > w.Max-w.Min {
		t.Errorf("%s: step %v for a range of %v", name, w.Step, w.Max-w.Min)
	}
}

func TestInferPlantTelemetry(t *testing.T) {
	d := plant(20, 60, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	f, rep := inferOK(t, d.msgs, Options{Name: "greenhouse"})
	p, fl := f.Profiles[0], f.Fleets[0]

	if p.Name != "greenhouse" || fl.Profile != "greenhouse" {
		t.Errorf("profile %q, fleet profile %q; want greenhouse", p.Name, fl.Profile)
	}
	if fl.Count != 20 {
		t.Errorf("fleet count %d, want 20 (devices seen)", fl.Count)
	}
	if fl.ClientID != "sensor-{{.ID}}" {
		t.Errorf("client_id %q, want sensor-{{.ID}}", fl.ClientID)
	}
	if fl.ID != `dev{{printf "%02d" .Index}}` {
		t.Errorf("id template %q", fl.ID)
	}
	if len(p.Streams) != 1 {
		t.Fatalf("%d streams, want 1: %+v", len(p.Streams), p.Streams)
	}
	st := p.Streams[0]
	if st.Topic != "plant/{{.ID}}/telemetry" || st.Name != "telemetry" {
		t.Errorf("stream %q on %q, want telemetry on plant/{{.ID}}/telemetry", st.Name, st.Topic)
	}
	if every := time.Duration(st.Every); every < 4900*time.Millisecond || every > 5100*time.Millisecond {
		t.Errorf("every %v, want ≈5s", every)
	}
	if j := time.Duration(st.Jitter); j <= 0 || j > 100*time.Millisecond {
		t.Errorf("jitter %v, want within (0, 100ms] for ±40ms gaps", j)
	}
	if st.QoS != 1 || st.Retain {
		t.Errorf("qos %d retain %v, want 1 false", st.QoS, st.Retain)
	}

	if got, want := strings.Join(names(st.Fields), ","), "temp,hum,seq,ts,state,meta"; got != want {
		t.Fatalf("fields %s, want %s (the payload's order)", got, want)
	}
	temp := field(t, st.Fields, "temp")
	within(t, "temp", temp.Walk, d.tempMin, d.tempMax)
	if temp.Precision == nil || *temp.Precision != 2 {
		t.Errorf("temp precision %s, want 2", ptrString(temp.Precision))
	}
	within(t, "hum", field(t, st.Fields, "hum").Walk, d.humMin, d.humMax)
	if c := field(t, st.Fields, "seq").Counter; c == nil || c.Start != 0 || c.Step != 1 {
		t.Errorf("seq: %+v, want counter from 0 step 1", c)
	}
	if ts := field(t, st.Fields, "ts").Timestamp; ts == nil || ts.Format != "unix_ms" {
		t.Errorf("ts: %+v, want timestamp unix_ms", ts)
	}
	ch := field(t, st.Fields, "state").Choice
	if ch == nil || fmt.Sprint(ch.Values) != "[on off]" || fmt.Sprint(ch.Weights) != fmt.Sprint([]float64{float64(d.on), float64(d.off)}) {
		t.Errorf("state: %+v, want choice [on off] weighted %d/%d", ch, d.on, d.off)
	}
	meta := field(t, st.Fields, "meta").Object
	if got := strings.Join(names(meta), ","); got != "fw,rssi" {
		t.Fatalf("meta fields %s, want fw,rssi", got)
	}
	if c := field(t, meta, "fw").Const; c != "1.4.2" {
		t.Errorf("meta.fw: %v, want const 1.4.2", c)
	}
	rssi := field(t, meta, "rssi")
	within(t, "meta.rssi", rssi.Walk, d.rssiMin, d.rssiMax)
	if rssi.Precision == nil || *rssi.Precision != 0 {
		t.Errorf("meta.rssi precision %s, want 0 (integers)", ptrString(rssi.Precision))
	}

	if len(rep.Devices) != 20 || rep.IDSource != "topic level 2" || rep.Messages != 1200 || rep.Topics != 20 {
		t.Errorf("report: %d devices from %q, %d messages, %d topics", len(rep.Devices), rep.IDSource, rep.Messages, rep.Topics)
	}
	if fr, ok := rep.Field("telemetry", "temp"); !ok || fr.Kind != "walk" || *fr.Min != d.tempMin || *fr.Max != d.tempMax {
		t.Errorf("report of temp: %+v, want walk over the observed %v..%v", fr, d.tempMin, d.tempMax)
	}
	if fr, ok := rep.Field("telemetry", "meta.rssi"); !ok || *fr.Min != d.rssiMin || *fr.Max != d.rssiMax {
		t.Errorf("report of meta.rssi: %+v, want the observed %v..%v", fr, d.rssiMin, d.rssiMax)
	}
	text := strings.Join(rep.Lines(), "\n")
	t.Logf("report:\n%s", text)
	for _, want := range []string{"1200 messages on 20 topics", "devices: 20", "meta.rssi", "ts: number", "→ timestamp"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lines lack %q:\n%s", want, text)
		}
	}
}

// msg is a message at t on topic from client with a payload.
func msg(t time.Time, topic, client, payload string) message.Message {
	return message.Message{Time: t, Topic: topic, ClientID: client, Payload: []byte(payload)}
}

// series makes n messages per device 1 s apart, payload(i, device).
func series(devices, n int, topic func(dev int) string, client func(dev int) string, payload func(i, dev int, at time.Time) string) []message.Message {
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var out []message.Message
	for dev := range devices {
		for i := range n {
			at := base.Add(time.Duration(i)*time.Second + time.Duration(dev)*time.Millisecond)
			out = append(out, msg(at, topic(dev), client(dev), payload(i, dev, at)))
		}
	}
	return out
}

func TestInferFieldKinds(t *testing.T) {
	topic := func(dev int) string { return fmt.Sprintf("site/d%d/state", dev) }
	client := func(dev int) string { return fmt.Sprintf("d%d", dev) }
	uuids := []string{"0b6a7f43-8a2c-4c0e-9d9b-3c1f2a4e5d60", "1c7b8f54-9b3d-4d1f-8e0c-4d2f3b5e6f71", "2d8c9065-ac4e-4e20-9f1d-5e3f4c6f7082"}
	cases := []struct {
		name  string
		value func(i, dev int, at time.Time) string
		check func(f scenario.Field) bool
	}{
		{"unix seconds", func(i, dev int, at time.Time) string { return fmt.Sprint(at.Unix()) },
			func(f scenario.Field) bool { return f.Timestamp != nil && f.Timestamp.Format == "unix" }},
		{"unix seconds with a fraction", func(i, dev int, at time.Time) string { return fmt.Sprintf("%.3f", float64(at.UnixMilli())/1000) },
			func(f scenario.Field) bool { return f.Timestamp != nil && f.Timestamp.Format == "unix" }},
		{"rfc3339", func(i, dev int, at time.Time) string { return fmt.Sprintf("%q", at.UTC().Format(time.RFC3339Nano)) },
			func(f scenario.Field) bool { return f.Timestamp != nil && f.Timestamp.Format == "rfc3339" }},
		{"counter step 10 from 100", func(i, dev int, at time.Time) string { return fmt.Sprint(100 + 10*i + 1000*dev) },
			func(f scenario.Field) bool { return f.Counter != nil && f.Counter.Step == 10 && f.Counter.Start == 100 }},
		{"uuid per message", func(i, dev int, at time.Time) string { return fmt.Sprintf("%q", uuids[(i+dev)%3]) },
			func(f scenario.Field) bool { return f.UUID != nil && !f.UUID.PerDevice }},
		{"uuid per device", func(i, dev int, at time.Time) string { return fmt.Sprintf("%q", uuids[dev]) },
			func(f scenario.Field) bool { return f.UUID != nil && f.UUID.PerDevice }},
		{"bool with probability", func(i, dev int, at time.Time) string { return fmt.Sprint(i%4 == 0) },
			func(f scenario.Field) bool { return f.Bool != nil && f.Bool.P == 0.25 }},
		{"constant bool", func(i, dev int, at time.Time) string { return "true" },
			func(f scenario.Field) bool { return f.Const == true }},
		{"the device ID", func(i, dev int, at time.Time) string { return fmt.Sprintf(`"d%d"`, dev) },
			func(f scenario.Field) bool { return f.Expr == "id" }},
		{"status code among few integers", func(i, dev int, at time.Time) string { return fmt.Sprint([]int{200, 200, 404, 500}[i%4]) },
			func(f scenario.Field) bool {
				return f.Choice != nil && fmt.Sprint(f.Choice.Values) == "[200 404 500]" && fmt.Sprint(f.Choice.Weights) == "[60 30 30]"
			}},
		{"many strings keep the 20 most common", func(i, dev int, at time.Time) string { return fmt.Sprintf(`"w%d"`, i%30) },
			func(f scenario.Field) bool {
				return f.Choice != nil && len(f.Choice.Values) == 20 && len(f.Choice.Weights) == 20
			}},
		{"null and numbers mixed", func(i, dev int, at time.Time) string {
			if i%2 == 0 {
				return "null"
			}
			return "7"
		}, func(f scenario.Field) bool { return f.Choice != nil && len(f.Choice.Values) == 2 }},
		{"array", func(i, dev int, at time.Time) string { return "[1,2]" },
			func(f scenario.Field) bool { return fmt.Sprint(f.Const) == "[1 2]" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msgs := series(3, 40, topic, client, func(i, dev int, at time.Time) string {
				return `{"v":` + tc.value(i, dev, at) + `}`
			})
			f, rep := inferOK(t, msgs, Options{})
			fs := f.Profiles[0].Streams[0].Fields
			got := field(t, fs, "v")
			if !tc.check(got) {
				b, _ := json.Marshal(got)
				t.Errorf("field %s; report %s", b, strings.Join(rep.Lines(), " | "))
			}
		})
	}
}

func TestInferDevicesFromClientID(t *testing.T) {
	// Every device publishes to the same topic: the client ID tells them apart.
	msgs := series(5, 10, func(int) string { return "line/telemetry" }, func(dev int) string { return fmt.Sprintf("press-%d", dev+1) },
		func(i, dev int, at time.Time) string { return fmt.Sprintf(`{"n":%d}`, i) })
	f, rep := inferOK(t, msgs, Options{})
	fl, st := f.Fleets[0], f.Profiles[0].Streams[0]
	if rep.IDSource != "publisher client ID" || fl.Count != 5 {
		t.Errorf("ids from %q, count %d; want publisher client ID, 5", rep.IDSource, fl.Count)
	}
	if st.Topic != "line/telemetry" || time.Duration(st.Every) != time.Second {
		t.Errorf("stream %q every %v, want line/telemetry every 1s", st.Topic, time.Duration(st.Every))
	}
	if fl.ID != `press-{{printf "%d" .Index}}` || fl.ClientID != "" {
		t.Errorf("id %q client_id %q; want press-{{printf \"%%d\" .Index}} and the default client ID", fl.ID, fl.ClientID)
	}
}

func TestInferSkipsTopicsNotPerDevice(t *testing.T) {
	msgs := series(6, 10, func(dev int) string { return fmt.Sprintf("farm/%c/data", 'a'+dev) }, func(dev int) string { return fmt.Sprintf("c%d", dev) },
		func(i, dev int, at time.Time) string { return fmt.Sprintf(`{"x":%d.5}`, i%3) })
	base := msgs[0].Time
	for i := range 10 {
		msgs = append(msgs,
			msg(base.Add(time.Duration(i)*time.Second), "farm/status", "gw", "up"),
			msg(base.Add(time.Duration(i)*time.Second), "farm/gateway/health", "gw", `{"x":1}`))
	}
	f, rep := inferOK(t, msgs, Options{})
	p := f.Profiles[0]
	if len(p.Streams) != 1 || p.Streams[0].Topic != "farm/{{.ID}}/data" {
		t.Fatalf("streams %+v, want only farm/{{.ID}}/data", p.Streams)
	}
	if f.Fleets[0].Count != 6 {
		t.Errorf("count %d, want 6 (the gateway is not one of the devices)", f.Fleets[0].Count)
	}
	if got := strings.Join(rep.Skipped, "\n"); len(rep.Skipped) != 2 || !strings.Contains(got, "farm/{{.ID}}/health: 10 messages from 1 of 6 devices") ||
		!strings.Contains(got, "farm/{{.ID}}: 10 messages from 1 of 6 devices") {
		t.Errorf("skipped:\n%s\nwant the gateway's two topics", got)
	}
}

func TestInferTextAndBinaryPayloads(t *testing.T) {
	topic := func(dev int) string { return fmt.Sprintf("home/plug%d/relay", dev) }
	client := func(dev int) string { return fmt.Sprintf("plug%d", dev) }

	t.Run("constant text", func(t *testing.T) {
		f, _ := inferOK(t, series(3, 5, topic, client, func(i, dev int, at time.Time) string { return "online {{x}}" }), Options{})
		if got := f.Profiles[0].Streams[0].Template; got != `{{"online {{x}}"}}` {
			t.Errorf("template %q, want the text quoted so it prints as is", got)
		}
	})
	t.Run("text choice", func(t *testing.T) {
		f, _ := inferOK(t, series(3, 6, topic, client, func(i, dev int, at time.Time) string { return []string{"ON", "OFF"}[i%2] }), Options{})
		p := f.Profiles[0]
		st := p.Streams[0]
		if st.Template != "{{.Vars.relay}}" || len(p.Vars) != 1 || p.Vars[0].Name != "relay" ||
			p.Vars[0].Field.Choice == nil || fmt.Sprint(p.Vars[0].Field.Choice.Values) != "[OFF ON]" {
			t.Errorf("template %q vars %+v, want {{.Vars.relay}} over a choice of OFF/ON", st.Template, p.Vars)
		}
	})
	t.Run("binary", func(t *testing.T) {
		f, rep := inferOK(t, series(3, 5, topic, client, func(i, dev int, at time.Time) string {
			return []string{"\xff\x01", "\xff\x01", "\xfe"}[i%3]
		}), Options{})
		st := f.Profiles[0].Streams[0]
		if st.Raw == nil || st.Raw.Base64 != "/wE=" || rep.Streams[0].Payload != "binary" {
			t.Errorf("raw %+v, want the most common payload ff01 in base64", st.Raw)
		}
	})
}

func TestInferForcedIDLevelAndLimits(t *testing.T) {
	msgs := series(4, 5, func(dev int) string { return fmt.Sprintf("x/y%d/z", dev) }, func(dev int) string { return "same" },
		func(i, dev int, at time.Time) string { return `{"a":1}` })
	for dev := range 4 {
		for k := range 3 {
			extra := series(1, 5, func(int) string { return fmt.Sprintf("x/y%d/z%d", dev, k) }, func(int) string { return "same" },
				func(i, _ int, at time.Time) string { return `{"b":2}` })
			msgs = append(msgs, extra...)
		}
	}
	f, rep := inferOK(t, msgs, Options{IDLevel: 2, MaxStreams: 2})
	if len(f.Profiles[0].Streams) != 2 || f.Fleets[0].Count != 4 || rep.IDSource != "topic level 2" {
		t.Errorf("%d streams, %d devices from %s; want 2, 4, topic level 2", len(f.Profiles[0].Streams), f.Fleets[0].Count, rep.IDSource)
	}
	if len(rep.Skipped) != 2 {
		t.Errorf("skipped %q, want the 2 streams beyond the limit", rep.Skipped)
	}
	if !strings.Contains(strings.Join(rep.Notes, " "), "one to one") {
		t.Errorf("notes %q: one client for four devices should be said", rep.Notes)
	}
}

func TestInferNothing(t *testing.T) {
	if _, _, err := Infer(nil, Options{}); err == nil || !strings.Contains(err.Error(), "no messages") {
		t.Fatalf("Infer(nil) = %v, want an error saying there are no messages", err)
	}
	msgs := series(2, 3, func(dev int) string { return fmt.Sprintf("a/%d", dev) }, func(dev int) string { return fmt.Sprint(dev) },
		func(i, dev int, at time.Time) string { return "x" })
	if _, _, err := Infer(msgs, Options{IDLevel: 5}); err == nil || !strings.Contains(err.Error(), "no topic has a device ID at topic level 5") {
		t.Fatalf("ID level beyond the topics: %v, want an error saying no topic has one there", err)
	}
}

func TestInferEdgeCases(t *testing.T) {
	topic := func(dev int) string { return fmt.Sprintf("m/d%d/x", dev) }
	client := func(dev int) string { return fmt.Sprintf("d%d", dev) }
	one := func(t *testing.T, payload func(i, dev int, at time.Time) string) (scenario.Stream, Report) {
		t.Helper()
		f, rep := inferOK(t, series(3, 30, topic, client, payload), Options{})
		return f.Profiles[0].Streams[0], rep
	}

	t.Run("a counter with lost messages is still a counter", func(t *testing.T) {
		st, _ := one(t, func(i, dev int, at time.Time) string {
			if i%10 == 9 {
				return "garbled" // not JSON: left out of the fields, as if lost
			}
			return fmt.Sprintf(`{"seq":%d}`, 2*i)
		})
		if c := field(t, st.Fields, "seq").Counter; c == nil || c.Step != 2 || c.Start != 0 {
			t.Errorf("seq: %+v, want a counter of step 2 despite the gaps", c)
		}
	})
	t.Run("a value constant per device walks with a finite step", func(t *testing.T) {
		st, _ := one(t, func(i, dev int, at time.Time) string { return fmt.Sprintf(`{"floor":%d.5}`, dev) })
		w := field(t, st.Fields, "floor").Walk
		within(t, "floor", w, 0.5, 2.5)
		if math.IsNaN(w.Step) {
			t.Errorf("step is NaN")
		}
	})
	t.Run("long decimals are kept to 6 within the observed range", func(t *testing.T) {
		st, _ := one(t, func(i, dev int, at time.Time) string {
			return fmt.Sprintf(`{"v":%s}`, num(21+float64(i)/3+float64(dev)*1e-9))
		})
		fl := field(t, st.Fields, "v")
		lo, hi := 21.0, 21+29.0/3+2e-9
		within(t, "v", fl.Walk, lo, hi)
		if fl.Precision == nil || *fl.Precision != 6 {
			t.Errorf("precision %v, want 6", ptrString(fl.Precision))
		}
		p := math.Pow(10, 6)
		if fl.Walk.Min*p != math.Round(fl.Walk.Min*p) || fl.Walk.Max*p != math.Round(fl.Walk.Max*p) {
			t.Errorf("walk bounds %v..%v are not at the precision, so rounding could leave them", fl.Walk.Min, fl.Walk.Max)
		}
	})
	t.Run("jitter stays shorter than the interval", func(t *testing.T) {
		var msgs []message.Message
		at := time.Now().Add(-time.Hour)
		for i := range 40 {
			at = at.Add([]time.Duration{100 * time.Millisecond, 5 * time.Second, 20 * time.Second}[i%3])
			msgs = append(msgs, msg(at, "j/a/x", "a", `{"v":1}`))
		}
		f, _ := inferOK(t, msgs, Options{})
		st := f.Profiles[0].Streams[0]
		if st.Jitter >= st.Every || st.Every <= 0 {
			t.Errorf("every %v jitter %v: the parser refuses a jitter not shorter than every", time.Duration(st.Every), time.Duration(st.Jitter))
		}
	})
	t.Run("an empty text payload still is a payload", func(t *testing.T) {
		st, _ := one(t, func(i, dev int, at time.Time) string { return "" })
		if st.Template != `{{""}}` {
			t.Errorf("template %q, want {{\"\"}} (a stream needs one of fields, template, raw)", st.Template)
		}
	})
}

func ptrString(p *int) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestInferSine(t *testing.T) {
	// 10 devices every 5 s for 10 min of a 2 min sine between 10 and 30,
	// with a little noise: each device its own phase, or all in step.
	const period = 2 * time.Minute
	rng := rand.New(rand.NewPCG(3, 4))
	make := func(inStep bool) ([]message.Message, float64, float64) {
		base := time.Now().Add(-time.Hour).Truncate(time.Minute)
		lo, hi := math.Inf(1), math.Inf(-1)
		var msgs []message.Message
		for dev := range 10 {
			phase := 0.25
			if !inStep {
				phase = rng.Float64()
			}
			for i := range 120 {
				at := base.Add(time.Duration(i)*5*time.Second + time.Duration(dev)*time.Second + time.Duration(rng.IntN(41)-20)*time.Millisecond)
				x := float64(at.UnixNano()%int64(period))/float64(period) + phase
				v := math.Round((20+9.5*math.Sin(2*math.Pi*x)+rng.NormFloat64()*0.2)*10) / 10
				lo, hi = math.Min(lo, v), math.Max(hi, v)
				msgs = append(msgs, msg(at, fmt.Sprintf("tank/t%d/level", dev), fmt.Sprintf("t%d", dev), fmt.Sprintf(`{"level":%s}`, num(v))))
			}
		}
		return msgs, lo, hi
	}
	for _, inStep := range []bool{false, true} {
		t.Run(fmt.Sprintf("in step %v", inStep), func(t *testing.T) {
			msgs, lo, hi := make(inStep)
			f, rep := inferOK(t, msgs, Options{})
			fl := field(t, f.Profiles[0].Streams[0].Fields, "level")
			w := fl.Sine
			if w == nil {
				b, _ := json.Marshal(fl)
				t.Fatalf("level: %s, want a sine; %s", b, strings.Join(rep.Lines(), " | "))
			}
			if p := time.Duration(w.Period); p < period*97/100 || p > period*103/100 {
				t.Errorf("period %v, want ≈%v", p, period)
			}
			if w.Min < lo || w.Max > hi {
				t.Errorf("sine %v..%v outside the observed %v..%v", w.Min, w.Max, lo, hi)
			}
			if w.RandomPhase == inStep {
				t.Errorf("random phase %v for devices in step %v", w.RandomPhase, inStep)
			}
			if inStep && math.Abs(w.Phase-0.25) > 0.03 {
				t.Errorf("phase %v, want ≈0.25 (what the devices had)", w.Phase)
			}
		})
	}
}

func TestInferWalkIsNotASine(t *testing.T) {
	// One device's long bounded random walk can look wavy; it must stay a walk.
	for seed := range uint64(10) {
		rng := rand.New(rand.NewPCG(seed, 9))
		base := time.Now().Add(-2 * time.Hour)
		v := 50.0
		var msgs []message.Message
		for i := range 600 {
			v = math.Abs(v + (2*rng.Float64()-1)*5)
			if v > 100 {
				v = 200 - v
			}
			msgs = append(msgs, msg(base.Add(time.Duration(i)*time.Second), "a/b", "c", fmt.Sprintf(`{"v":%s}`, num(math.Round(v*100)/100))))
		}
		f, _ := inferOK(t, msgs, Options{})
		if fl := f.Profiles[0].Streams[0].Fields[0].Field; fl.Walk == nil {
			b, _ := json.Marshal(fl)
			t.Errorf("seed %d: %s, want a walk", seed, b)
		}
	}
}

func TestParseObject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		keys string // "" when not one JSON object
	}{
		{` {"b":1,"a":{"y":2,"x":3}} `, "b,a"},
		{`{"a":1}{"b":2}`, ""},
		{`{"a":1} x`, ""},
		{`[1]`, ""},
		{`21.5`, ""},
		{`{"a":1,"a":2}`, "a"},
		{`{"a":`, ""},
	} {
		obj, ok := parseObject([]byte(tc.in))
		var keys []string
		for _, kv := range obj {
			keys = append(keys, kv.key)
		}
		if got := strings.Join(keys, ","); ok != (tc.keys != "") || got != tc.keys {
			t.Errorf("parseObject(%q) = %q, %v; want %q", tc.in, got, ok, tc.keys)
		}
	}
}

func TestInferLeavesOutWhatNoGeneratorMakes(t *testing.T) {
	msgs := series(2, 10, func(dev int) string { return fmt.Sprintf("a/%d/b", dev) }, func(dev int) string { return fmt.Sprint(dev) },
		func(i, dev int, at time.Time) string { return `{"a":1,"n":null,"e":{},"o":{"z":null}}` })
	f, rep := inferOK(t, msgs, Options{})
	if got := strings.Join(names(f.Profiles[0].Streams[0].Fields), ","); got != "a" {
		t.Errorf("fields %s, want only a: a field with no generator fails the scenario's validation", got)
	}
	var left []string
	for _, fr := range rep.Streams[0].Fields {
		if fr.Kind == leftOut {
			left = append(left, fr.Path)
		}
	}
	if got := strings.Join(left, ","); got != "n,e,o,o.z" {
		t.Errorf("reported as left out: %s, want n,e,o,o.z", got)
	}
}

func TestInferMeasurementTopics(t *testing.T) {
	// A device publishing one topic per measurement, in one burst every 10 s.
	burst := func(devices int) []message.Message {
		base := time.Now().Add(-time.Hour)
		var msgs []message.Message
		for dev := range devices {
			for i := range 20 {
				at := base.Add(time.Duration(i)*10*time.Second + time.Duration(dev)*time.Second)
				id := fmt.Sprintf("node%d", dev+1)
				msgs = append(msgs,
					msg(at, "home/"+id+"/temp", id, fmt.Sprint(20+i%3)),
					msg(at.Add(300*time.Microsecond), "home/"+id+"/hum", id, fmt.Sprint(50+i%5)))
			}
		}
		return msgs
	}
	for _, devices := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d devices", devices), func(t *testing.T) {
			f, rep := inferOK(t, burst(devices), Options{})
			var topics []string
			for _, st := range f.Profiles[0].Streams {
				topics = append(topics, st.Topic)
			}
			want := "home/{{.ID}}/hum,home/{{.ID}}/temp" // one device too: its client ID names the level
			if got := strings.Join(topics, ","); got != want || f.Fleets[0].Count != devices {
				t.Errorf("streams %s, %d devices (IDs from %s); want %s, %d: temp and hum are measurements, not devices",
					got, f.Fleets[0].Count, rep.IDSource, want, devices)
			}
		})
	}
}

func TestInferOneDeviceSaysWhereTheIDGoes(t *testing.T) {
	msgs := series(1, 5, func(int) string { return "lab/bench/scale" }, func(int) string { return "" },
		func(i, _ int, at time.Time) string { return fmt.Sprintf(`{"g":%d}`, 100+i%2) })
	f, rep := inferOK(t, msgs, Options{})
	if f.Profiles[0].Streams[0].Topic != "lab/bench/scale" || f.Fleets[0].Count != 1 {
		t.Errorf("topic %q count %d, want the topic as is and 1", f.Profiles[0].Streams[0].Topic, f.Fleets[0].Count)
	}
	if !strings.Contains(strings.Join(rep.Lines(), "\n"), "put {{.ID}} where it belongs") {
		t.Errorf("the report does not say how to make copies of the one device: %q", rep.Lines())
	}
}

func TestInferIsDeterministic(t *testing.T) {
	// The same capture in another order gives the same proposal, so a
	// user re-running infer gets the same file to diff.
	d := plant(8, 30, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	f1, r1 := inferOK(t, d.msgs, Options{})
	rng := rand.New(rand.NewPCG(7, 7))
	rng.Shuffle(len(d.msgs), func(i, j int) { d.msgs[i], d.msgs[j] = d.msgs[j], d.msgs[i] })
	f2, r2 := inferOK(t, d.msgs, Options{})
	a, _ := json.Marshal(f1)
	b, _ := json.Marshal(f2)
	if string(a) != string(b) || strings.Join(r1.Lines(), "\n") != strings.Join(r2.Lines(), "\n") {
		t.Errorf("two inferences differ:\n%s\n%s", a, b)
	}
}

func TestInferSkippedListIsBounded(t *testing.T) {
	msgs := series(4, 5, func(dev int) string { return fmt.Sprintf("f/d%d/t", dev) }, func(dev int) string { return fmt.Sprint(dev) },
		func(i, dev int, at time.Time) string { return `{"a":1}` })
	for k := range 100 {
		msgs = append(msgs, msg(msgs[0].Time, fmt.Sprintf("other%d", k), "x", "1"))
	}
	_, rep := inferOK(t, msgs, Options{})
	if len(rep.Skipped) != maxSkipped+1 || rep.Skipped[maxSkipped] != "… and 80 more" {
		t.Errorf("%d skipped lines ending %q; want %d and a count of the rest", len(rep.Skipped), rep.Skipped[len(rep.Skipped)-1], maxSkipped+1)
	}
}
