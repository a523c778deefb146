package gen

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// sensorPayload is a typical telemetry message: six fields of the common
// kinds, one of them computed from two others.
var sensorPayload = scenario.Field{Object: scenario.Fields{
	{Name: "temp", Field: scenario.Field{Walk: &scenario.Walk{Min: 15, Max: 30, Step: 0.2, Revert: 0.05}, Precision: ptr(2)}},
	{Name: "light", Field: scenario.Field{Sine: &scenario.Wave{Min: 0, Max: 1000, Period: scenario.Duration(time.Hour), RandomPhase: true}}},
	{Name: "seq", Field: scenario.Field{Counter: &scenario.Counter{Wrap: 65536}}},
	{Name: "ts", Field: scenario.Field{Timestamp: &scenario.Timestamp{Format: "unix_ms"}}},
	{Name: "status", Field: scenario.Field{Choice: &scenario.Choice{Values: []any{"ok", "warn", "alarm"}, Weights: []float64{90, 9, 1}}}},
	{Name: "heat_index", Field: scenario.Field{Expr: "temp + light / 1000"}},
}}

// BenchmarkFieldsPayload is one message of that payload generated and
// encoded, as the scheduler does for every device every second.
func BenchmarkFieldsPayload(b *testing.B) {
	g, err := New(sensorPayload, 1, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := &Sample{Now: t0, ID: "dev-1", State: map[string]any{}, Vars: map[string]any{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Seq, s.Now = uint64(i), s.Now.Add(time.Second)
		if _, err := json.Marshal(g.Next(s)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFieldsPayloadAppend is the same through AppendJSON into a
// reused buffer, the path the device model can take to skip encoding/json's
// validation copy.
func BenchmarkFieldsPayloadAppend(b *testing.B) {
	g, err := New(sensorPayload, 1, Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := &Sample{Now: t0, ID: "dev-1", State: map[string]any{}, Vars: map[string]any{}}
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Seq, s.Now = uint64(i), s.Now.Add(time.Second)
		if buf, err = g.Next(s).(Object).AppendJSON(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSensorPayloadShape(t *testing.T) {
	g := mustNew(t, sensorPayload, 1)
	b, err := json.Marshal(g.Next(&Sample{Now: t0}))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m) != 6 || m["heat_index"] == nil {
		t.Fatalf("payload %s: want six fields, heat_index computed", b)
	}
}

// BenchmarkNewSensorPayload is the cost of one device's payload
// generators, paid by every device of a fleet as it is created.
func BenchmarkNewSensorPayload(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := New(sensorPayload, uint64(i), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFleetSharesCompiledExpressions(t *testing.T) {
	mustNew(t, sensorPayload, 0)
	// Compiling the expression again for every device costs ~150
	// allocations and half a millisecond each: seconds for a fleet's ramp.
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := New(sensorPayload, 1, Options{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 60 {
		t.Fatalf("%.0f allocations per device's payload; is every device compiling its expressions again?", allocs)
	}
}

func TestProgramCacheStaysBounded(t *testing.T) {
	for i := range programCacheSize + 100 {
		g := mustNew(t, scenario.Field{Expr: fmt.Sprintf("%d + 1", i)}, 1)
		if got := g.Next(&Sample{}); got != int64(i+1) {
			t.Fatalf("%d + 1 = %v", i, got)
		}
	}
	compiled.mu.Lock()
	n := len(compiled.m)
	compiled.mu.Unlock()
	if n > programCacheSize {
		t.Fatalf("%d programs cached, more than %d", n, programCacheSize)
	}
	// A bad expression is reported every time, not only the first.
	for range 2 {
		if _, err := New(scenario.Field{Expr: "1 +"}, 1, Options{}); err == nil {
			t.Fatal("no error for 1 +")
		}
	}
}
