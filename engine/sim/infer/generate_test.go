package infer

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// What an inferred profile generates stays inside what was observed: the
// proposed file goes through Marshal and Parse as the user would save and
// run it, every device of the fleet publishes on the observed topic shape,
// and every numeric field stays within its observed range and every
// choice within its observed values.
func TestInferredProfileGeneratesWithinTheObservedRanges(t *testing.T) {
	start := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	d := plant(20, 60, start)
	f, rep := inferOK(t, d.msgs, Options{})
	text, err := scenario.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := scenario.Parse("inferred.yaml", text)
	if err != nil {
		t.Fatalf("the proposed file does not parse back:\n%v\n%s", err, text)
	}
	s, err := device.Compile(saved, nil, device.Options{Protocol: 5})
	if err != nil {
		t.Fatalf("the proposed file does not compile:\n%v\n%s", err, text)
	}
	fl := s.Fleets[0]
	if fl.Count != 20 {
		t.Fatalf("fleet of %d devices, 20 were seen", fl.Count)
	}
	stream := rep.Streams[0]
	checked := 0
	for dev := range fl.Count {
		for _, m := range device.Preview(fl, dev, 200, start) {
			if !strings.HasPrefix(m.Topic, "plant/") || !strings.HasSuffix(m.Topic, "/telemetry") {
				t.Fatalf("device %d publishes on %s, outside the observed plant/<id>/telemetry", dev, m.Topic)
			}
			var v map[string]any
			if err := json.Unmarshal(m.Payload, &v); err != nil {
				t.Fatalf("device %d: payload %s is not JSON: %v", dev, m.Payload, err)
			}
			checked += checkFields(t, rep, stream.Name, "", v)
		}
	}
	if checked < 20*200*5 {
		t.Fatalf("only %d field values checked", checked)
	}
}

// checkFields checks each value against the report's observations and
// returns how many it checked.
func checkFields(t *testing.T, rep Report, stream, prefix string, v map[string]any) int {
	t.Helper()
	n := 0
	for k, x := range v {
		path := prefix + k
		fr, ok := rep.Field(stream, path)
		if !ok {
			t.Fatalf("generated field %s was never observed", path)
		}
		switch x := x.(type) {
		case map[string]any:
			n += checkFields(t, rep, stream, path+".", x)
			continue
		case float64:
			if fr.Kind == "counter" || fr.Kind == "timestamp" {
				continue // rise past what was seen by design
			}
			if fr.Min == nil || fr.Max == nil || x < *fr.Min || x > *fr.Max {
				t.Fatalf("%s = %v outside the observed [%v, %v] (%s)", path, x, deref(fr.Min), deref(fr.Max), fr.Kind)
			}
		case string, bool:
			if fr.Kind == "choice" && !slices.ContainsFunc(fr.Values, func(o any) bool { return fmt.Sprint(o) == fmt.Sprint(x) }) {
				t.Fatalf("%s = %v, never observed (observed %v)", path, x, fr.Values)
			}
		}
		n++
	}
	return n
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
