package device

import (
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// benchReading is the reading of app's BenchmarkSimulate10k: four JSON
// fields, one message a second per device.
const benchReading = `profiles:
  - name: bench-sensor
    streams:
      - name: telemetry
        topic: bench/{{.ID}}/telemetry
        every: 1s
        fields:
          seq: {counter: {}}
          ts: {timestamp: unix_ms}
          temperature: {walk: {min: 16, max: 30, step: 0.2}, precision: 1}
          humidity: {uniform: {min: 40, max: 60}, precision: 0}
fleets:
  - profile: bench-sensor
    count: 1
    seed: 1
`

// BenchmarkNext is the cost of one device's reading: its values drawn and
// its JSON payload and topic built, what a fleet does 10,000 times a
// second at 10,000 devices.
func BenchmarkNext(b *testing.B) {
	f, err := scenario.Parse("bench.yaml", []byte(benchReading))
	if err != nil {
		b.Fatal(err)
	}
	s, err := Compile(f, nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	d := s.Fleets[0].NewDevice(0)
	now := time.Unix(1_796_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		if _, ok := d.Next(0, now); !ok {
			b.Fatal(d.Err())
		}
	}
}
