package gen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func dur(d time.Duration) scenario.Duration { return scenario.Duration(d) }

func mustNew(t testing.TB, f scenario.Field, seed uint64) Generator {
	t.Helper()
	g, err := New(f, seed, Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

// run takes n samples one second apart from t0, with fields as the
// earlier fields of the payload.
func run(g Generator, n int, fields map[string]any) []any {
	out := make([]any, n)
	for i := range n {
		s := &Sample{Now: t0.Add(time.Duration(i) * time.Second), Seq: uint64(i), Fields: fields,
			State: map[string]any{"setpoint": 21.0}, Vars: map[string]any{"base": 20.0}, ID: "dev-1", Index: 1}
		out[i] = g.Next(s)
	}
	return out
}

func floats(t testing.TB, vs []any) []float64 {
	t.Helper()
	out := make([]float64, len(vs))
	for i, v := range vs {
		x, ok := v.(float64)
		if !ok {
			t.Fatalf("sample %d is %T %v, want float64", i, v, v)
		}
		out[i] = x
	}
	return out
}

func meanSD(xs []float64) (mean, sd float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)))
}

// every is one field of each kind, and whether its values are random
// (so different seeds must give different values).
var every = []struct {
	name   string
	f      scenario.Field
	random bool
}{
	{"const", scenario.Field{Const: 21.5}, false},
	{"counter", scenario.Field{Counter: &scenario.Counter{Wrap: 100}}, false},
	{"uniform", scenario.Field{Uniform: &scenario.Uniform{Min: 0, Max: 10}}, true},
	{"uniform integer", scenario.Field{Uniform: &scenario.Uniform{Min: 0, Max: 1000, Integer: true}}, true},
	{"gaussian", scenario.Field{Gaussian: &scenario.Gaussian{Mean: 20, StdDev: 2}}, true},
	{"walk", scenario.Field{Walk: &scenario.Walk{Min: 10, Max: 30, Step: 0.5}}, true},
	{"sine", scenario.Field{Sine: &scenario.Wave{Min: 0, Max: 1, Period: dur(time.Minute), RandomPhase: true}}, true},
	{"square", scenario.Field{Square: &scenario.Wave{Min: 0, Max: 1, Period: dur(time.Minute), RandomPhase: true}}, true},
	{"triangle", scenario.Field{Triangle: &scenario.Wave{Min: 0, Max: 1, Period: dur(time.Minute), RandomPhase: true}}, true},
	{"sawtooth", scenario.Field{Sawtooth: &scenario.Wave{Min: 0, Max: 1, Period: dur(time.Minute), RandomPhase: true}}, true},
	{"daily", scenario.Field{Daily: &scenario.Daily{Points: map[string]float64{"06:00": 10, "18:00": 20}, TZ: "UTC"}}, false},
	{"approach", scenario.Field{Approach: &scenario.Approach{Start: 0, Target: scenario.Number{Expr: "state.setpoint"}, HalfLife: dur(time.Minute)}}, false},
	{"choice", scenario.Field{Choice: &scenario.Choice{Values: []any{"a", "b", "c"}, Weights: []float64{1, 2, 3}}}, true},
	{"bool", scenario.Field{Bool: &scenario.Bool{P: 0.5}}, true},
	{"toggle", scenario.Field{Toggle: &scenario.Toggle{P: ptr(0.5)}}, true},
	{"markov", scenario.Field{Markov: &scenario.Markov{Start: "idle", Transitions: map[string]map[string]float64{"idle": {"run": 0.3}, "run": {"idle": 0.2, "fault": 0.1}, "fault": {"idle": 0.5}}}}, true},
	{"timestamp", scenario.Field{Timestamp: &scenario.Timestamp{Format: "rfc3339"}}, false},
	{"uuid", scenario.Field{UUID: &scenario.IDGen{}}, true},
	{"uuid per device", scenario.Field{UUID: &scenario.IDGen{PerDevice: true}}, true},
	{"ulid", scenario.Field{ULID: &scenario.IDGen{}}, true},
	{"gps route", scenario.Field{GPS: &scenario.GPS{Route: [][2]float64{{48.85, 2.35}, {48.86, 2.36}}, SpeedKMH: 50}}, false},
	{"gps radius", scenario.Field{GPS: &scenario.GPS{Center: &[2]float64{48.85, 2.35}, RadiusM: 500}}, true},
	{"fake", scenario.Field{Fake: &scenario.Fake{Kind: "name"}}, true},
	{"expr", scenario.Field{Expr: "speed * 2 + seq"}, false},
	{"integrate", scenario.Field{Integrate: &scenario.Calculus{Of: "speed"}}, false},
	{"derive", scenario.Field{Derive: &scenario.Calculus{Of: "speed"}}, false},
	{"object", scenario.Field{Object: scenario.Fields{{Name: "t", Field: scenario.Field{Uniform: &scenario.Uniform{Min: 0, Max: 1}}}, {Name: "n", Field: scenario.Field{Counter: &scenario.Counter{}}}}}, true},
	{"noise", scenario.Field{Const: 5.0, Noise: 1}, true},
}

func TestEveryKindIsCovered(t *testing.T) {
	seen := map[string]bool{"replay": true} // replay needs Options; TestReplay
	for _, c := range every {
		for _, k := range setKinds(c.f) {
			seen[k] = true
		}
	}
	for _, k := range Kinds() {
		if !seen[k] {
			t.Errorf("kind %s has no case in the determinism table", k)
		}
	}
}

func TestSameSeedSameValuesOtherSeedOthers(t *testing.T) {
	fields := map[string]any{"speed": 36.0}
	for _, c := range every {
		t.Run(c.name, func(t *testing.T) {
			a := run(mustNew(t, c.f, 42), 200, fields)
			b := run(mustNew(t, c.f, 42), 200, fields)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("same seed, different values:\n%v\n%v", a[:5], b[:5])
			}
			if !c.random {
				return
			}
			o := run(mustNew(t, c.f, 43), 200, fields)
			if reflect.DeepEqual(a, o) {
				t.Fatalf("seeds 42 and 43 give the same values: %v", a[:5])
			}
		})
	}
}

func TestSeedZeroIsDeterministic(t *testing.T) {
	// gofakeit.New(0) would seed from the OS; seed 0 must replay like any other.
	for _, c := range every {
		a := run(mustNew(t, c.f, 0), 20, map[string]any{"speed": 1.0})
		b := run(mustNew(t, c.f, 0), 20, map[string]any{"speed": 1.0})
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: seed 0 gives different values on two runs", c.name)
		}
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		name string
		f    scenario.Field
		want string
	}{
		{"none", scenario.Field{}, "no generator: give a value or one of const, counter"},
		{"two", scenario.Field{Const: 1, Expr: "2"}, "const and expr are set together"},
		{"walk bounds", scenario.Field{Walk: &scenario.Walk{Min: 30, Max: 10, Step: 1}}, "walk: min 30 is above max 10"},
		{"walk start", scenario.Field{Walk: &scenario.Walk{Min: 0, Max: 10, Step: 1, Start: ptr(11.0)}}, "walk: start 11 is outside min 0 and max 10"},
		{"walk revert", scenario.Field{Walk: &scenario.Walk{Min: 0, Max: 10, Step: 1, Revert: 2}}, "walk: revert 2 is out of range"},
		{"walk step", scenario.Field{Walk: &scenario.Walk{Min: 0, Max: 10, Step: -1}}, "walk: step -1 is negative"},
		{"uniform", scenario.Field{Uniform: &scenario.Uniform{Min: 2, Max: 1}}, "uniform: min 2 is above max 1"},
		{"uniform integer", scenario.Field{Uniform: &scenario.Uniform{Min: 0.2, Max: 0.8, Integer: true}}, "uniform: no whole number between min 0.2 and max 0.8"},
		{"gaussian", scenario.Field{Gaussian: &scenario.Gaussian{StdDev: -1}}, "gaussian: stddev -1 is negative"},
		{"gaussian clamp", scenario.Field{Gaussian: &scenario.Gaussian{StdDev: 1, Min: ptr(5.0), Max: ptr(1.0)}}, "gaussian: min 5 is above max 1"},
		{"counter wrap", scenario.Field{Counter: &scenario.Counter{Start: 10, Wrap: 5}}, "counter: wrap 5 is not above start 10"},
		{"sine period", scenario.Field{Sine: &scenario.Wave{Max: 1}}, "sine: period 0s must be positive"},
		{"square phase", scenario.Field{Square: &scenario.Wave{Max: 1, Period: dur(time.Second), Phase: 1.5}}, "square: phase 1.5 is out of range"},
		{"daily none", scenario.Field{Daily: &scenario.Daily{}}, "daily: no points"},
		{"daily time", scenario.Field{Daily: &scenario.Daily{Points: map[string]float64{"25:00": 1}}}, `daily: point "25:00" is not a time of day; write HH:MM`},
		{"daily tz", scenario.Field{Daily: &scenario.Daily{Points: map[string]float64{"01:00": 1}, TZ: "Mars/Olympus"}}, `daily: tz "Mars/Olympus" is not a known time zone`},
		{"approach", scenario.Field{Approach: &scenario.Approach{Target: scenario.Number{Value: 1}}}, "approach: half_life 0s must be positive"},
		{"approach expr", scenario.Field{Approach: &scenario.Approach{Target: scenario.Number{Expr: "state.("}, HalfLife: dur(time.Second)}}, `approach: target: expression "state.(" is not valid`},
		{"choice empty", scenario.Field{Choice: &scenario.Choice{}}, "choice: no values"},
		{"choice weights", scenario.Field{Choice: &scenario.Choice{Values: []any{1, 2}, Weights: []float64{1}}}, "choice: 1 weights for 2 values"},
		{"choice zero", scenario.Field{Choice: &scenario.Choice{Values: []any{1}, Weights: []float64{0}}}, "choice: all weights are 0"},
		{"bool", scenario.Field{Bool: &scenario.Bool{P: 1.5}}, "bool: p 1.5 is not a probability"},
		{"toggle", scenario.Field{Toggle: &scenario.Toggle{P: ptr(-0.1)}}, "toggle: p -0.1 is not a probability"},
		{"markov start", scenario.Field{Markov: &scenario.Markov{Start: "x", Transitions: map[string]map[string]float64{"a": {"b": 1}}}}, `markov: start "x" is not one of the states a, b`},
		{"markov sum", scenario.Field{Markov: &scenario.Markov{Start: "a", Transitions: map[string]map[string]float64{"a": {"b": 0.7, "c": 0.6}}}}, "markov: probabilities from a add up to 1.3"},
		{"timestamp", scenario.Field{Timestamp: &scenario.Timestamp{Format: "iso"}}, "timestamp: unknown format `iso`; formats: unix, unix_ms, rfc3339"},
		{"gps none", scenario.Field{GPS: &scenario.GPS{}}, "gps: no route and no center"},
		{"gps both", scenario.Field{GPS: &scenario.GPS{Route: [][2]float64{{0, 0}, {1, 1}}, Center: &[2]float64{0, 0}}}, "gps: route and center are both set"},
		{"gps one point", scenario.Field{GPS: &scenario.GPS{Route: [][2]float64{{0, 0}}, SpeedKMH: 1}}, "gps: route has 1 waypoint; give at least 2"},
		{"gps speed", scenario.Field{GPS: &scenario.GPS{Route: [][2]float64{{0, 0}, {1, 1}}}}, "gps: speed_kmh 0 must be positive"},
		{"gps latlon", scenario.Field{GPS: &scenario.GPS{Center: &[2]float64{95, 0}, RadiusM: 1}}, "gps: center: [95, 0] is not [lat, lon]"},
		{"gps radius", scenario.Field{GPS: &scenario.GPS{Center: &[2]float64{45, 0}}}, "gps: radius_m 0 must be positive"},
		{"fake", scenario.Field{Fake: &scenario.Fake{Kind: "nam"}}, "fake: unknown kind `nam`; kinds: address, city, color, company, country, email, first_name"},
		{"expr", scenario.Field{Expr: "1 +"}, `expr: expression "1 +" is not valid`},
		{"integrate", scenario.Field{Integrate: &scenario.Calculus{}}, "integrate: of is empty"},
		{"replay no capture", scenario.Field{Replay: &scenario.Replay{Topic: "a/b"}}, `replay: no capture to replay topic "a/b" from`},
		{"object dup", scenario.Field{Object: scenario.Fields{{Name: "a", Field: scenario.Field{Const: 1}}, {Name: "a", Field: scenario.Field{Const: 2}}}}, `a: field "a" is given twice`},
		{"object inner", scenario.Field{Object: scenario.Fields{{Name: "t", Field: scenario.Field{Walk: &scenario.Walk{Min: 3, Max: 1}}}}}, "t: walk: min 3 is above max 1"},
		{"noise on string", scenario.Field{Fake: &scenario.Fake{Kind: "email"}, Noise: 1}, "fake: noise and precision apply to numbers only"},
		{"precision on bool", scenario.Field{Bool: &scenario.Bool{P: 0.5}, Precision: ptr(1)}, "bool: noise and precision apply to numbers only"},
		{"precision on gps", scenario.Field{GPS: &scenario.GPS{Center: &[2]float64{1, 1}, RadiusM: 5}, Precision: ptr(1)}, "gps: noise and precision apply to numbers only"},
		{"negative noise", scenario.Field{Const: 1.0, Noise: -1}, "const: noise -1 is negative"},
		{"precision range", scenario.Field{Const: 1.0, Precision: ptr(-1)}, "const: precision -1 is out of range"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.f, 1, Options{})
			if err == nil {
				t.Fatalf("New gave no error, want %q", c.want)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error\n  %v\nwant it to start with\n  %s", err, c.want)
			}
		})
	}
}

func TestCounter(t *testing.T) {
	cases := []struct {
		name string
		c    scenario.Counter
		want []any
	}{
		{"defaults", scenario.Counter{}, []any{int64(0), int64(1), int64(2), int64(3)}},
		{"start step", scenario.Counter{Start: 10, Step: 5}, []any{int64(10), int64(15), int64(20), int64(25)}},
		{"wrap", scenario.Counter{Wrap: 3}, []any{int64(0), int64(1), int64(2), int64(0), int64(1), int64(2), int64(0)}},
		{"wrap 16 bit", scenario.Counter{Start: 65534, Wrap: 65536}, []any{int64(65534), int64(65535), int64(65534)}},
		{"down", scenario.Counter{Start: 3, Step: -1, Wrap: -1}, []any{int64(3), int64(2), int64(1), int64(0), int64(3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(mustNew(t, scenario.Field{Counter: &c.c}, 1), len(c.want), nil)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestUniform(t *testing.T) {
	t.Run("float stays in range and covers it", func(t *testing.T) {
		xs := floats(t, run(mustNew(t, scenario.Field{Uniform: &scenario.Uniform{Min: -5, Max: 15}}, 7), 10000, nil))
		var buckets [10]int
		for _, x := range xs {
			if x < -5 || x > 15 {
				t.Fatalf("%v outside [-5, 15]", x)
			}
			buckets[min(int((x+5)/2), 9)]++
		}
		for i, n := range buckets {
			if n < 800 || n > 1200 {
				t.Errorf("bucket %d has %d of 10000 samples, want about 1000", i, n)
			}
		}
	})
	t.Run("integer gives every whole number, ends included", func(t *testing.T) {
		vs := run(mustNew(t, scenario.Field{Uniform: &scenario.Uniform{Min: 1, Max: 6, Integer: true}}, 7), 10000, nil)
		count := map[int64]int{}
		for _, v := range vs {
			n, ok := v.(int64)
			if !ok || n < 1 || n > 6 {
				t.Fatalf("got %T %v, want an int64 in 1..6", v, v)
			}
			count[n]++
		}
		for n := int64(1); n <= 6; n++ {
			if count[n] < 1500 || count[n] > 1830 {
				t.Errorf("%d came %d times of 10000, want about 1667", n, count[n])
			}
		}
	})
}

func TestGaussian(t *testing.T) {
	xs := floats(t, run(mustNew(t, scenario.Field{Gaussian: &scenario.Gaussian{Mean: 20, StdDev: 3}}, 3), 10000, nil))
	m, sd := meanSD(xs)
	if math.Abs(m-20) > 0.1 || math.Abs(sd-3) > 0.1 {
		t.Fatalf("mean %.3f stddev %.3f, want 20 and 3", m, sd)
	}
	xs = floats(t, run(mustNew(t, scenario.Field{Gaussian: &scenario.Gaussian{Mean: 20, StdDev: 3, Min: ptr(19.0), Max: ptr(22.0)}}, 3), 10000, nil))
	for _, x := range xs {
		if x < 19 || x > 22 {
			t.Fatalf("%v outside the clamp [19, 22]", x)
		}
	}
}

func TestWalk(t *testing.T) {
	t.Run("stays in bounds", func(t *testing.T) {
		xs := floats(t, run(mustNew(t, scenario.Field{Walk: &scenario.Walk{Min: 10, Max: 12, Step: 0.7}}, 9), 10000, nil))
		lo, hi := math.Inf(1), math.Inf(-1)
		atBound := 0
		for i, x := range xs {
			if x == 10 || x == 12 {
				atBound++
			}
			if x < 10 || x > 12 {
				t.Fatalf("sample %d: %v outside [10, 12]", i, x)
			}
			if i > 0 && math.Abs(x-xs[i-1]) > 0.7+1e-9 {
				t.Fatalf("sample %d moved %v, more than step 0.7", i, x-xs[i-1])
			}
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		if lo > 10.1 || hi < 11.9 {
			t.Fatalf("walk only went over [%v, %v] of [10, 12] in 10000 samples", lo, hi)
		}
		// A walk clamped at its bounds sits on them, a flat line on a chart; it must bounce off.
		if atBound > 10 {
			t.Fatalf("%d samples exactly on a bound", atBound)
		}
	})
	t.Run("starts at start and reverts to mean", func(t *testing.T) {
		xs := floats(t, run(mustNew(t, scenario.Field{Walk: &scenario.Walk{Min: 0, Max: 100, Step: 1, Start: ptr(0.0), Mean: ptr(60.0), Revert: 0.1}}, 9), 10000, nil))
		if xs[0] != 0 {
			t.Fatalf("first value %v, want start 0", xs[0])
		}
		m, _ := meanSD(xs[100:])
		if math.Abs(m-60) > 1 {
			t.Fatalf("mean after settling %.2f, want about 60", m)
		}
	})
	t.Run("without revert it does not stay near the start", func(t *testing.T) {
		// The same walk with no revert drifts: the revert above is what held it.
		xs := floats(t, run(mustNew(t, scenario.Field{Walk: &scenario.Walk{Min: 0, Max: 100, Step: 1, Start: ptr(0.0), Mean: ptr(60.0)}}, 9), 10000, nil))
		_, sd := meanSD(xs[100:])
		if sd < 3 {
			t.Fatalf("stddev %.2f without revert; the revert test would prove nothing", sd)
		}
	})
}

func TestWaveAtKnownInstants(t *testing.T) {
	wave := func(phase float64) *scenario.Wave {
		return &scenario.Wave{Min: 0, Max: 10, Period: dur(time.Minute), Phase: phase}
	}
	cases := []struct {
		name string
		f    scenario.Field
		at   time.Duration
		want float64
	}{
		{"sine 0", scenario.Field{Sine: wave(0)}, 0, 5},
		{"sine quarter", scenario.Field{Sine: wave(0)}, 15 * time.Second, 10},
		{"sine half", scenario.Field{Sine: wave(0)}, 30 * time.Second, 5},
		{"sine three quarters", scenario.Field{Sine: wave(0)}, 45 * time.Second, 0},
		{"sine next period", scenario.Field{Sine: wave(0)}, 75 * time.Second, 10},
		{"sine phase", scenario.Field{Sine: wave(0.25)}, 0, 10},
		{"square first half", scenario.Field{Square: wave(0)}, 10 * time.Second, 10},
		{"square second half", scenario.Field{Square: wave(0)}, 40 * time.Second, 0},
		{"triangle 0", scenario.Field{Triangle: wave(0)}, 0, 0},
		{"triangle quarter", scenario.Field{Triangle: wave(0)}, 15 * time.Second, 5},
		{"triangle half", scenario.Field{Triangle: wave(0)}, 30 * time.Second, 10},
		{"triangle three quarters", scenario.Field{Triangle: wave(0)}, 45 * time.Second, 5},
		{"sawtooth half", scenario.Field{Sawtooth: wave(0)}, 30 * time.Second, 5},
		{"sawtooth before the drop", scenario.Field{Sawtooth: wave(0)}, 59 * time.Second, 59.0 / 6},
		{"sawtooth phase", scenario.Field{Sawtooth: wave(0.5)}, 0, 5},
		{"before 1970", scenario.Field{Sawtooth: wave(0)}, -t0.Sub(time.Unix(-30, 0)), 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mustNew(t, c.f, 1).Next(&Sample{Now: t0.Add(c.at)}).(float64)
			if math.Abs(got-c.want) > 1e-9 {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	t.Run("random phase differs per seed and stays in range", func(t *testing.T) {
		f := scenario.Field{Sine: &scenario.Wave{Min: 0, Max: 10, Period: dur(time.Minute), RandomPhase: true}}
		a := mustNew(t, f, 1).Next(&Sample{Now: t0}).(float64)
		b := mustNew(t, f, 2).Next(&Sample{Now: t0}).(float64)
		if a == b {
			t.Fatalf("seeds 1 and 2 have the same phase (%v)", a)
		}
		for _, x := range floats(t, run(mustNew(t, f, 3), 200, nil)) {
			if x < 0 || x > 10 {
				t.Fatalf("%v outside [0, 10]", x)
			}
		}
	})
}

func TestDaily(t *testing.T) {
	cases := []struct {
		name   string
		points map[string]float64
		tz     string
		at     time.Time
		want   float64
	}{
		{"on a point", map[string]float64{"06:00": 10, "18:00": 20}, "UTC", time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC), 10},
		{"between points", map[string]float64{"06:00": 10, "18:00": 20}, "UTC", time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), 15},
		{"across midnight", map[string]float64{"06:00": 10, "18:00": 20}, "UTC", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 15},
		{"late evening", map[string]float64{"06:00": 10, "18:00": 20}, "UTC", time.Date(2026, 1, 1, 21, 0, 0, 0, time.UTC), 17.5},
		{"seconds", map[string]float64{"00:00": 0, "00:00:10": 10, "12:00": 0}, "UTC", time.Date(2026, 1, 1, 0, 0, 4, 500_000_000, time.UTC), 4.5},
		{"one point", map[string]float64{"08:00": 3}, "UTC", time.Date(2026, 1, 1, 20, 0, 0, 0, time.UTC), 3},
		// 11:00 UTC is 12:00 in Paris in winter.
		{"tz", map[string]float64{"00:00": 0, "12:00": 12}, "Europe/Paris", time.Date(2026, 1, 1, 11, 0, 0, 0, time.UTC), 12},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := mustNew(t, scenario.Field{Daily: &scenario.Daily{Points: c.points, TZ: c.tz}}, 1)
			got := g.Next(&Sample{Now: c.at}).(float64)
			if math.Abs(got-c.want) > 1e-9 {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestApproach(t *testing.T) {
	t.Run("half way after one half-life, however often sampled", func(t *testing.T) {
		for _, every := range []time.Duration{time.Second, 5 * time.Second, 10 * time.Second} {
			g := mustNew(t, scenario.Field{Approach: &scenario.Approach{Start: 20, Target: scenario.Number{Value: 100}, HalfLife: dur(10 * time.Second)}}, 1)
			var last float64
			for at := time.Duration(0); at <= 20*time.Second; at += every {
				last = g.Next(&Sample{Now: t0.Add(at)}).(float64)
				if at == 0 && last != 20 {
					t.Fatalf("first value %v, want start 20", last)
				}
				if at == 10*time.Second && math.Abs(last-60) > 1e-9 {
					t.Fatalf("sampled every %v: %v after one half-life, want 60", every, last)
				}
			}
			if math.Abs(last-80) > 1e-9 {
				t.Fatalf("sampled every %v: %v after two half-lives, want 80", every, last)
			}
		}
	})
	t.Run("target follows state", func(t *testing.T) {
		g := mustNew(t, scenario.Field{Approach: &scenario.Approach{Start: 0, Target: scenario.Number{Expr: "state.setpoint"}, HalfLife: dur(time.Second)}}, 1)
		state := map[string]any{"setpoint": 10.0}
		g.Next(&Sample{Now: t0, State: state})
		got := g.Next(&Sample{Now: t0.Add(time.Second), State: state}).(float64)
		if math.Abs(got-5) > 1e-9 {
			t.Fatalf("got %v, want 5", got)
		}
		state["setpoint"] = -5.0
		got = g.Next(&Sample{Now: t0.Add(2 * time.Second), State: state}).(float64)
		if math.Abs(got-0) > 1e-9 {
			t.Fatalf("after the setpoint changed: got %v, want 0", got)
		}
		if n, _ := Errors(g); n != 0 {
			t.Fatalf("%d errors", n)
		}
		state["setpoint"] = "hot"
		got = g.Next(&Sample{Now: t0.Add(3 * time.Second), State: state}).(float64)
		if n, err := Errors(g); n != 1 || !strings.Contains(err.Error(), "not a number") {
			t.Fatalf("a string setpoint: %d errors, last %v; want 1, not a number", n, err)
		}
		if math.Abs(got - -2.5) > 1e-9 {
			t.Fatalf("with a bad target it should keep approaching the last one: got %v, want -2.5", got)
		}
	})
}

func TestChoice(t *testing.T) {
	t.Run("weights", func(t *testing.T) {
		vs := run(mustNew(t, scenario.Field{Choice: &scenario.Choice{Values: []any{"ok", "warn", "never", "alarm"}, Weights: []float64{6, 3, 0, 1}}}, 5), 10000, nil)
		count := map[any]int{}
		for _, v := range vs {
			count[v]++
		}
		want := map[any]float64{"ok": 0.6, "warn": 0.3, "alarm": 0.1}
		for k, p := range want {
			if got := float64(count[k]) / 10000; math.Abs(got-p) > 0.02 {
				t.Errorf("%v came %.3f of the time, want %.1f", k, got, p)
			}
		}
		if count["never"] != 0 {
			t.Errorf("a value of weight 0 came %d times", count["never"])
		}
	})
	t.Run("a weight of 0 is never picked, even at the edges", func(t *testing.T) {
		c, err := newChoice(&scenario.Choice{Values: []any{"a", "b", "c", "d"}, Weights: []float64{0, 1, 0, 1}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range []float64{0, 0.5, 1, 1.5, math.Nextafter(2, 0)} {
			if v := c.values[c.pick(x)]; v == "a" || v == "c" {
				t.Errorf("x %v picked %v, which has weight 0", x, v)
			}
		}
		if c.values[c.pick(1)] != "d" {
			t.Errorf("x 1 (the end of b's weight) should pick d")
		}
	})
	t.Run("equal without weights", func(t *testing.T) {
		vs := run(mustNew(t, scenario.Field{Choice: &scenario.Choice{Values: []any{1, 2}}}, 5), 10000, nil)
		ones := 0
		for _, v := range vs {
			if v == int64(1) {
				ones++
			}
		}
		if ones < 4800 || ones > 5200 {
			t.Fatalf("1 came %d times of 10000, want about 5000", ones)
		}
	})
}

func TestBool(t *testing.T) {
	for _, p := range []float64{0, 0.3, 0.9, 1} {
		vs := run(mustNew(t, scenario.Field{Bool: &scenario.Bool{P: p}}, 5), 10000, nil)
		n := 0
		for _, v := range vs {
			if v.(bool) {
				n++
			}
		}
		got := float64(n) / 10000
		if math.Abs(got-p) > 0.02 || (p == 0 && n != 0) || (p == 1 && n != 10000) {
			t.Errorf("p %v: true %.4f of the time", p, got)
		}
	}
}

func TestToggle(t *testing.T) {
	got := run(mustNew(t, scenario.Field{Toggle: &scenario.Toggle{}}, 1), 4, nil)
	if want := []any{false, true, false, true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("default toggle: got %v, want %v", got, want)
	}
	got = run(mustNew(t, scenario.Field{Toggle: &scenario.Toggle{Start: true, P: ptr(0.0)}}, 1), 3, nil)
	if want := []any{true, true, true}; !reflect.DeepEqual(got, want) {
		t.Fatalf("p 0: got %v, want %v", got, want)
	}
	vs := run(mustNew(t, scenario.Field{Toggle: &scenario.Toggle{P: ptr(0.1)}}, 1), 10000, nil)
	flips := 0
	for i := 1; i < len(vs); i++ {
		if vs[i] != vs[i-1] {
			flips++
		}
	}
	if flips < 900 || flips > 1100 {
		t.Fatalf("p 0.1 flipped %d times in 10000 samples, want about 1000", flips)
	}
}

func TestMarkov(t *testing.T) {
	f := scenario.Field{Markov: &scenario.Markov{Start: "idle", Transitions: map[string]map[string]float64{
		"idle":    {"running": 0.2},
		"running": {"idle": 0.1, "fault": 0.05},
		"fault":   {"idle": 0.5, "fault": 0.3},
	}}}
	vs := run(mustNew(t, f, 11), 10000, nil)
	if vs[0] != "idle" {
		t.Fatalf("first state %v, want start idle", vs[0])
	}
	count := map[any]int{}
	for i, v := range vs {
		count[v]++
		if i > 0 && vs[i-1] == "idle" && v == "fault" {
			t.Fatalf("went idle → fault at sample %d, a transition that is not listed", i)
		}
	}
	if len(count) != 3 || count["idle"] == 0 || count["running"] == 0 || count["fault"] == 0 {
		t.Fatalf("visited %v; want idle, running and fault only, each at least once", count)
	}
	// The chain's stationary distribution, from its balance equations.
	for state, want := range map[string]float64{"idle": 15.0 / 37, "running": 20.0 / 37, "fault": 2.0 / 37} {
		if got := float64(count[state]) / 10000; math.Abs(got-want) > 0.04 {
			t.Errorf("%s %.3f of the time, want %.3f", state, got, want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 45, 120_000_000, time.FixedZone("CET", 3600))
	cases := map[string]any{
		"unix":    int64(1772364645),
		"unix_ms": int64(1772364645120),
		"rfc3339": "2026-03-01T11:30:45.120Z",
		"":        "2026-03-01T11:30:45.120Z",
	}
	for format, want := range cases {
		got := mustNew(t, scenario.Field{Timestamp: &scenario.Timestamp{Format: format}}, 1).Next(&Sample{Now: at})
		if got != want {
			t.Errorf("%q: got %#v, want %#v", format, got, want)
		}
	}
	got := mustNew(t, scenario.Field{Timestamp: &scenario.Timestamp{}}, 1).Next(&Sample{Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)})
	if got != "2026-03-01T00:00:00.000Z" {
		t.Errorf("whole second: got %v, want three decimals always", got)
	}
}

func TestUUID(t *testing.T) {
	v4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[any]bool{}
	for _, v := range run(mustNew(t, scenario.Field{UUID: &scenario.IDGen{}}, 1), 1000, nil) {
		if !v4.MatchString(v.(string)) {
			t.Fatalf("%v is not a v4 UUID", v)
		}
		seen[v] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("%d distinct UUIDs in 1000", len(seen))
	}
	per := run(mustNew(t, scenario.Field{UUID: &scenario.IDGen{PerDevice: true}}, 1), 3, nil)
	if per[0] != per[1] || per[1] != per[2] || !v4.MatchString(per[0].(string)) {
		t.Fatalf("per device: %v, want one v4 UUID", per)
	}
}

func TestULID(t *testing.T) {
	crock := regexp.MustCompile(`^[0-7][0-9A-HJKMNP-TV-Z]{25}$`)
	vs := run(mustNew(t, scenario.Field{ULID: &scenario.IDGen{}}, 1), 1000, nil)
	seen := map[any]bool{}
	for i, v := range vs {
		s := v.(string)
		if !crock.MatchString(s) {
			t.Fatalf("%v is not a ULID", s)
		}
		ms := uint64(0)
		for _, c := range s[:10] {
			ms = ms<<5 | uint64(strings.IndexRune(crockford, c))
		}
		if want := uint64(t0.Add(time.Duration(i) * time.Second).UnixMilli()); ms != want {
			t.Fatalf("ULID %s carries time %d, want the sample's %d", s, ms, want)
		}
		seen[v] = true
	}
	if len(seen) != 1000 {
		t.Fatalf("%d distinct ULIDs in 1000", len(seen))
	}
	per := run(mustNew(t, scenario.Field{ULID: &scenario.IDGen{PerDevice: true}}, 1), 3, nil)
	if per[0] != per[1] || per[1] != per[2] {
		t.Fatalf("per device: %v, want one ULID", per)
	}
}

func latLon(t testing.TB, v any) [2]float64 {
	t.Helper()
	o := v.(Object)
	lat, _ := o.Get("lat")
	lon, _ := o.Get("lon")
	return [2]float64{lat.(float64), lon.(float64)}
}

func TestGPSRoute(t *testing.T) {
	// Along the equator, 0.1° of longitude is about 11.1 km.
	a, b := [2]float64{0, 0}, [2]float64{0, 0.1}
	leg := distanceM(a, b)
	g := func(loop bool) Generator {
		return mustNew(t, scenario.Field{GPS: &scenario.GPS{Route: [][2]float64{a, b}, SpeedKMH: 36, Loop: loop}}, 1)
	}
	cases := []struct {
		name    string
		loop    bool
		at      float64 // seconds
		fromA   float64 // metres
		heading float64
	}{
		{"start", false, 0, 0, 90},
		{"100 s at 36 km/h is 1 km", false, 100, 1000, 90},
		{"coming back", false, leg/10 + 100, leg - 1000, 270},
		{"back and forth starts again", false, 2*leg/10 + 100, 1000, 90},
		{"loop returns to the start", true, 2*leg/10 + 100, 1000, 90},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gen := g(c.loop)
			gen.Next(&Sample{Now: t0})
			v := gen.Next(&Sample{Now: t0.Add(time.Duration(c.at * float64(time.Second)))})
			if got := distanceM(a, latLon(t, v)); math.Abs(got-c.fromA) > 1 {
				t.Fatalf("%.1f m from the start, want %.1f", got, c.fromA)
			}
			o := v.(Object)
			h, _ := o.Get("heading")
			s, _ := o.Get("speed_kmh")
			if h != c.heading || s != 36.0 {
				t.Fatalf("heading %v speed %v, want %v and 36", h, s, c.heading)
			}
		})
	}
	t.Run("across the antimeridian", func(t *testing.T) {
		a, b := [2]float64{0, 179.99}, [2]float64{0, -179.99} // 2.2 km apart
		gen := mustNew(t, scenario.Field{GPS: &scenario.GPS{Route: [][2]float64{a, b}, SpeedKMH: 36}}, 1)
		gen.Next(&Sample{Now: t0})
		p := latLon(t, gen.Next(&Sample{Now: t0.Add(100 * time.Second)}))
		if d := distanceM(a, p); math.Abs(d-1000) > 1 || checkLatLon(p) != nil {
			t.Fatalf("at %v, %.1f m from the start, want 1000 m along the short way", p, d)
		}
	})
	t.Run("loop closes the route", func(t *testing.T) {
		tri := [][2]float64{{0, 0}, {0, 0.01}, {0.01, 0.01}}
		gen := mustNew(t, scenario.Field{GPS: &scenario.GPS{Route: tri, SpeedKMH: 36, Loop: true}}, 1)
		total := distanceM(tri[0], tri[1]) + distanceM(tri[1], tri[2]) + distanceM(tri[2], tri[0])
		gen.Next(&Sample{Now: t0})
		// 100 m before closing the loop: on the last leg, heading back towards the start (south-west).
		v := gen.Next(&Sample{Now: t0.Add(time.Duration((total - 100) / 10 * float64(time.Second)))})
		if d := distanceM(tri[0], latLon(t, v)); math.Abs(d-100) > 1 {
			t.Fatalf("%.1f m from the start, want 100", d)
		}
		if h, _ := v.(Object).Get("heading"); math.Abs(h.(float64)-225) > 0.5 {
			t.Fatalf("heading %v, want about 225", h)
		}
	})
}

func TestGPSRadius(t *testing.T) {
	center := [2]float64{60, 10}
	vs := run(mustNew(t, scenario.Field{GPS: &scenario.GPS{Center: &center, RadiusM: 1000}}, 1), 10000, nil)
	inner := 0
	for _, v := range vs {
		d := distanceM(center, latLon(t, v))
		if d > 1000.5 {
			t.Fatalf("point %.1f m from the center, radius 1000", d)
		}
		if d < 500 {
			inner++
		}
	}
	// Uniform by area: a quarter of the points within half the radius.
	if got := float64(inner) / 10000; math.Abs(got-0.25) > 0.02 {
		t.Fatalf("%.3f of points within half the radius, want 0.25", got)
	}
}

func TestFake(t *testing.T) {
	for _, kind := range FakeKinds() {
		v := mustNew(t, scenario.Field{Fake: &scenario.Fake{Kind: kind}}, 3).Next(&Sample{Now: t0})
		switch x := v.(type) {
		case string:
			if x == "" {
				t.Errorf("%s: empty", kind)
			}
		case float64:
		default:
			t.Errorf("%s: %T %v", kind, v, v)
		}
	}
	email := mustNew(t, scenario.Field{Fake: &scenario.Fake{Kind: "email"}}, 3).Next(&Sample{}).(string)
	if !strings.Contains(email, "@") {
		t.Errorf("email %q", email)
	}
	serial := mustNew(t, scenario.Field{Fake: &scenario.Fake{Kind: "serial"}}, 3).Next(&Sample{}).(string)
	if !regexp.MustCompile(`^[A-Z]{3}-[0-9]{8}$`).MatchString(serial) {
		t.Errorf("serial %q", serial)
	}
	g := mustNew(t, scenario.Field{Fake: &scenario.Fake{Kind: "latitude"}, Precision: ptr(2)}, 3)
	if x := g.Next(&Sample{}).(float64); math.Round(x*100)/100 != x {
		t.Errorf("latitude with precision 2: %v", x)
	}
}

func TestExpr(t *testing.T) {
	g := mustNew(t, scenario.Field{Expr: `temp * 2 + vars.base + state.setpoint + index + seq + len(id) + now.Unix() - fields.temp`}, 1)
	s := &Sample{Now: time.Unix(1000, 0), Seq: 3, Index: 2, ID: "abc",
		Fields: map[string]any{"temp": 1.5}, State: map[string]any{"setpoint": 10}, Vars: map[string]any{"base": 100}}
	if got, want := g.Next(s), 1.5*2+100+10+2+3+3+1000-1.5; got != want {
		t.Fatalf("got %v, want %v", got, want)
	}
	if n, _ := Errors(g); n != 0 {
		t.Fatalf("%d errors", n)
	}
	s.Fields["temp"] = "warm"
	if got := g.Next(s); got != nil {
		t.Fatalf("a failing expression gave %v, want nil", got)
	}
	n, err := Errors(g)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "temp * 2") {
		t.Fatalf("Errors = %d, %v; want 1 naming the expression", n, err)
	}
	// Errors inside objects and behind modifiers are counted too.
	o := mustNew(t, scenario.Field{Object: scenario.Fields{{Name: "x", Field: scenario.Field{Expr: "missing.field", Precision: ptr(1)}}}}, 1)
	o.Next(&Sample{})
	if n, _ := Errors(o); n != 1 {
		t.Fatalf("an object's failing field: %d errors, want 1", n)
	}
}

func TestIntegrateAndDerive(t *testing.T) {
	t.Run("36 km/h for 100 s is 1 km", func(t *testing.T) {
		g := mustNew(t, scenario.Field{Integrate: &scenario.Calculus{Of: "speed", Scale: 1.0 / 3600}}, 1)
		vs := floats(t, run(g, 101, map[string]any{"speed": 36.0}))
		if vs[0] != 0 || math.Abs(vs[100]-1) > 1e-9 {
			t.Fatalf("odometer %v at 0 s and %v at 100 s, want 0 and 1", vs[0], vs[100])
		}
	})
	t.Run("uses the real time between samples", func(t *testing.T) {
		g := mustNew(t, scenario.Field{Integrate: &scenario.Calculus{Of: "p"}}, 1)
		f := map[string]any{"p": 2.0}
		g.Next(&Sample{Now: t0, Fields: f})
		g.Next(&Sample{Now: t0.Add(1500 * time.Millisecond), Fields: f})
		if got := g.Next(&Sample{Now: t0.Add(4 * time.Second), Fields: f}); got != 8.0 {
			t.Fatalf("2 for 4 s gave %v, want 8", got)
		}
	})
	t.Run("missing input keeps the total and counts", func(t *testing.T) {
		g := mustNew(t, scenario.Field{Integrate: &scenario.Calculus{Of: "p"}}, 1)
		g.Next(&Sample{Now: t0, Fields: map[string]any{"p": 1.0}})
		g.Next(&Sample{Now: t0.Add(time.Second), Fields: map[string]any{"p": 1.0}})
		if got := g.Next(&Sample{Now: t0.Add(2 * time.Second)}); got != 1.0 {
			t.Fatalf("got %v, want the total so far, 1", got)
		}
		if n, err := Errors(g); n != 1 || !strings.Contains(err.Error(), `"p" is missing`) {
			t.Fatalf("Errors = %d, %v", n, err)
		}
	})
	t.Run("derive", func(t *testing.T) {
		g := mustNew(t, scenario.Field{Derive: &scenario.Calculus{Of: "kwh", Scale: 3600}}, 1)
		var got []any
		for i := range 3 {
			got = append(got, g.Next(&Sample{Now: t0.Add(time.Duration(i) * 2 * time.Second), Fields: map[string]any{"kwh": float64(i) * 0.001}}))
		}
		// 1 Wh every 2 s is 1.8 kW.
		if got[0] != 0.0 || math.Abs(got[1].(float64)-1.8) > 1e-9 || math.Abs(got[2].(float64)-1.8) > 1e-9 {
			t.Fatalf("got %v, want 0, 1.8, 1.8", got)
		}
	})
}

func TestReplay(t *testing.T) {
	captured := func(topic, path string) ([]any, error) {
		if topic == "plant/t" && path == "$.t" {
			return []any{1.0, 2.0, 3.0}, nil
		}
		if topic == "broken" {
			return nil, fmt.Errorf("capture is closed")
		}
		return nil, nil
	}
	g, err := New(scenario.Field{Replay: &scenario.Replay{Topic: "plant/t", Path: "$.t"}}, 1, Options{Replay: captured})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := run(g, 5, nil), []any{1.0, 2.0, 3.0, 1.0, 2.0}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v (looping)", got, want)
	}
	for topic, want := range map[string]string{
		"other":  `replay: the capture has no values of topic "other" at $.t`,
		"broken": `replay: reading topic "broken" from the capture: capture is closed`,
	} {
		_, err := New(scenario.Field{Replay: &scenario.Replay{Topic: topic, Path: "$.t"}}, 1, Options{Replay: captured})
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: error %v, want %s", topic, err, want)
		}
	}
}

func TestObjectKeepsOrderAndReadsSiblings(t *testing.T) {
	g := mustNew(t, scenario.Field{Object: scenario.Fields{
		{Name: "z", Field: scenario.Field{Const: 1.5}},
		{Name: "a", Field: scenario.Field{Expr: "z * 2 + outer"}},
		{Name: "m", Field: scenario.Field{Object: scenario.Fields{{Name: "deep", Field: scenario.Field{Expr: "a + 1"}}}}},
	}}, 1)
	outer := map[string]any{"outer": 10.0}
	b, err := json.Marshal(g.Next(&Sample{Fields: outer}))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"z":1.5,"a":13,"m":{"deep":14}}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	if len(outer) != 1 {
		t.Fatalf("the object wrote into the caller's fields: %v", outer)
	}
}

func TestNoiseAndPrecision(t *testing.T) {
	t.Run("noise has its stddev", func(t *testing.T) {
		xs := floats(t, run(mustNew(t, scenario.Field{Const: 10, Noise: 0.5}, 1), 10000, nil))
		m, sd := meanSD(xs)
		if math.Abs(m-10) > 0.02 || math.Abs(sd-0.5) > 0.02 {
			t.Fatalf("mean %.3f stddev %.3f, want 10 and 0.5", m, sd)
		}
	})
	t.Run("noise does not change the underlying walk", func(t *testing.T) {
		w := &scenario.Walk{Min: 0, Max: 100, Step: 1}
		plain := floats(t, run(mustNew(t, scenario.Field{Walk: w}, 1), 100, nil))
		noisy := floats(t, run(mustNew(t, scenario.Field{Walk: w, Noise: 1e-9}, 1), 100, nil))
		for i := range plain {
			if math.Abs(plain[i]-noisy[i]) > 1e-6 {
				t.Fatalf("sample %d: %v with noise, %v without", i, noisy[i], plain[i])
			}
		}
	})
	t.Run("precision", func(t *testing.T) {
		vs := run(mustNew(t, scenario.Field{Uniform: &scenario.Uniform{Min: 0, Max: 100}, Precision: ptr(1)}, 1), 1000, nil)
		for _, x := range floats(t, vs) {
			if s := fmt.Sprint(x); strings.Contains(s, ".") && len(s)-strings.Index(s, ".") > 2 {
				t.Fatalf("%s has more than 1 decimal", s)
			}
		}
		v := mustNew(t, scenario.Field{Const: 21.6, Precision: ptr(0)}, 1).Next(&Sample{})
		if v != int64(22) {
			t.Fatalf("precision 0: %#v, want int64 22", v)
		}
	})
}

func TestObjectJSONMatchesEncodingJSON(t *testing.T) {
	values := []any{0.0, 1.0, -2.5, 1e-7, 123456789.125, 1e21, 3.0e-10, math.MaxFloat64, int64(-42), 7,
		"plain", "quote \" back \\ nl \n tab \t ctl \x01", "ünïcödé €", "bad \xff utf8", "\u2028", true, false, nil,
		[]any{1.0, "x"}, map[string]any{"b": 1.0, "a": 2.0}}
	var o Object
	ref := "{"
	for i, v := range values {
		k := fmt.Sprintf("k%d", i)
		o = append(o, KV{k, v})
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			ref += ","
		}
		ref += fmt.Sprintf("%q:%s", k, b)
	}
	ref += "}"
	got, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		t.Fatalf("not JSON: %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(ref), &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("got %s\nwant %s", got, ref)
	}
	nan, err := json.Marshal(Object{{"x", math.NaN()}, {"y", math.Inf(1)}})
	if err != nil || string(nan) != `{"x":null,"y":null}` {
		t.Fatalf("NaN and Inf: %s, %v; want nulls", nan, err)
	}
}

func TestKinds(t *testing.T) {
	k := Kinds()
	if len(k) != 25 || k[0] != "const" || k[len(k)-1] != "object" {
		t.Fatalf("Kinds() = %v", k)
	}
	k[0] = "changed"
	if Kinds()[0] != "const" {
		t.Fatal("Kinds returns the package's own slice")
	}
}

func TestNumbersAreInt64OrFloat64(t *testing.T) {
	cases := []struct {
		f    scenario.Field
		want any
	}{
		{scenario.Field{Const: 5}, int64(5)},
		{scenario.Field{Const: float32(1.5)}, 1.5},
		{scenario.Field{Const: "on"}, "on"},
		{scenario.Field{Expr: "2 + 3"}, int64(5)},
		{scenario.Field{Expr: "2.5 * 2"}, 5.0},
		{scenario.Field{Choice: &scenario.Choice{Values: []any{7}}}, int64(7)},
	}
	for _, c := range cases {
		if got := mustNew(t, c.f, 1).Next(&Sample{}); got != c.want {
			t.Errorf("%+v: got %#v, want %#v", c.f, got, c.want)
		}
	}
}

func TestObjectErrorPointsAtTheInnerField(t *testing.T) {
	bad := scenario.Field{At: scenario.Pos{Line: 9, Column: 7}, Walk: &scenario.Walk{Min: 3, Max: 1}}
	f := scenario.Field{At: scenario.Pos{Line: 5, Column: 3}, Object: scenario.Fields{
		{Name: "ok", Field: scenario.Field{Const: 1}},
		{Name: "pos", Field: scenario.Field{At: scenario.Pos{Line: 7, Column: 5}, Object: scenario.Fields{{Name: "lat", Field: bad}}}},
	}}
	_, err := New(f, 1, Options{})
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FieldError", err)
	}
	if fe.Path != "pos.lat" || fe.At != bad.At || err.Error() != "pos.lat: walk: min 3 is above max 1; give min <= max" {
		t.Fatalf("got path %q at %v: %v; want pos.lat at 9:7", fe.Path, fe.At, err)
	}
}

func TestObjectMap(t *testing.T) {
	o := Object{{"a", 1.0}, {"pos", Object{{"lat", 2.0}}}}
	m := o.Map()
	if m["a"] != 1.0 || m["pos"].(map[string]any)["lat"] != 2.0 {
		t.Fatalf("Map() = %v", m)
	}
}

func TestExprFieldsNamedLikeFunctions(t *testing.T) {
	fields := map[string]any{"count": 3, "max": 10.0, "len": 2}
	cases := map[string]any{
		"count * 2":               int64(6),
		"max - len":               8.0,
		"fields.max":              10.0,
		"count + len([1, 2, 3])":  int64(6),
		"max([1.0, 7.0]) + count": 10.0,
	}
	for src, want := range cases {
		g, err := New(scenario.Field{Expr: src}, 1, Options{})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if got := g.Next(&Sample{Fields: fields}); got != want {
			n, last := Errors(g)
			t.Errorf("%s = %#v, want %#v (%d errors, %v)", src, got, want, n, last)
		}
	}
}

func TestGPSRadiusStaysOnTheGlobe(t *testing.T) {
	for _, center := range [][2]float64{{90, 0}, {-89.9999, 45}, {0, 179.9999}, {10, -180}} {
		vs := run(mustNew(t, scenario.Field{GPS: &scenario.GPS{Center: &center, RadiusM: 1000}}, 1), 1000, nil)
		for _, v := range vs {
			p := latLon(t, v)
			if checkLatLon(p) != nil || distanceM(center, p) > 1000.5 {
				t.Fatalf("center %v: point %v is not a position within 1000 m", center, p)
			}
		}
	}
}

func TestErrorsReadWhileGenerating(t *testing.T) {
	// The window reads a device's error count while the scheduler generates.
	g := mustNew(t, scenario.Field{Object: scenario.Fields{{Name: "x", Field: scenario.Field{Expr: "nope * 2", Noise: 1}}}}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			g.Next(&Sample{})
		}
	}()
	for {
		select {
		case <-done:
			if n, err := Errors(g); n != 1000 || err == nil {
				t.Fatalf("Errors = %d, %v; want 1000", n, err)
			}
			return
		default:
			Errors(g)
		}
	}
}
