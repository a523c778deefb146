// Package gen turns a scenario Field into a Generator: the value of one
// payload field, variable or metric, sample after sample.
//
// Generators are deterministic: randomness comes from a PCG seeded from the
// seed New is given, and time comes from Sample.Now, never the clock. The
// same seed and the same Samples give the same values, which is what lets a
// fleet replay exactly, tests check values, and a preview show what a
// device will send without running it.
//
// Numbers are float64, or int64 for counters, integer uniforms, whole
// constants and precision 0. An object field (and a GPS position) is an
// Object, which keeps its keys in order when encoded to JSON. A stream's
// whole payload compiles as one object field: New(scenario.Field{Object:
// stream.Fields}, …); its errors are *FieldError, with the position of the
// field at fault.
//
// Expressions (expr, and an approach's target) are expr-lang/expr over the
// earlier fields of the payload by name (also as `fields`), and `state`,
// `vars`, `id`, `index`, `seq` and `now` (the sample's time), which win
// over a field of the same name. They compile in New; an expression that
// fails on a sample yields nil, and Errors counts it, since Next cannot
// fail: the device model reports Errors to the user.
//
// A Generator is not safe for concurrent use: a device owns its generators
// and calls them from one goroutine at a time. Errors(g) may be read from
// any goroutine.
package gen

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// Sample is what a generator may read to make its next value.
type Sample struct {
	Now    time.Time
	Seq    uint64         // this stream's message number, from 0
	Fields map[string]any // values of the fields before this one in the same payload
	State  map[string]any // the device's state (read-only for generators)
	Vars   map[string]any
	ID     string
	Index  int
}

// Generator makes one value per sample.
type Generator interface {
	Next(s *Sample) any
}

// Options are what some generators need from outside the field.
type Options struct {
	// Replay returns the captured values of a topic (payload, or the JSON
	// value at path), oldest first.
	Replay func(topic, path string) ([]any, error)
}

// kinds is every generator key as written in YAML, in the order of
// scenario.Field.
var kinds = []string{
	"const", "counter", "uniform", "gaussian", "walk",
	"sine", "square", "triangle", "sawtooth", "daily", "approach",
	"choice", "bool", "toggle", "markov", "timestamp", "uuid", "ulid",
	"gps", "fake", "expr", "integrate", "derive", "replay", "object",
}

// Kinds returns every generator key as written in YAML, for did-you-mean.
func Kinds() []string { return append([]string(nil), kinds...) }

// New compiles f. seed is derived by the caller per device and field. The
// error names what is wrong and what is expected; the caller adds the
// position (f.At).
func New(f scenario.Field, seed uint64, opt Options) (Generator, error) {
	set := setKinds(f)
	switch len(set) {
	case 0:
		return nil, fmt.Errorf("no generator: give a value or one of %s", strings.Join(kinds, ", "))
	case 1:
	default:
		return nil, fmt.Errorf("%s are set together: a field has exactly one generator", strings.Join(set, " and "))
	}
	kind := set[0]
	g, numeric, err := build(kind, f, seed, opt)
	if err != nil {
		return nil, err
	}
	if f.Noise == 0 && f.Precision == nil {
		return g, nil
	}
	if !numeric {
		return nil, fmt.Errorf("%s: noise and precision apply to numbers only, and %s does not give a number", kind, kind)
	}
	if f.Noise < 0 || math.IsNaN(f.Noise) {
		return nil, fmt.Errorf("%s: noise %v is negative; it is a standard deviation (0 or more)", kind, f.Noise)
	}
	m := &modifier{inner: g, noise: f.Noise, digits: -1}
	m.floats, _ = g.(floater)
	if f.Noise > 0 {
		m.rng = newRand(seed, streamNoise)
	}
	if f.Precision != nil {
		if *f.Precision < 0 || *f.Precision > 15 {
			return nil, fmt.Errorf("%s: precision %d is out of range; give 0 to 15 decimals", kind, *f.Precision)
		}
		m.digits = *f.Precision
		m.scale = math.Pow10(m.digits)
	}
	return m, nil
}

// setKinds lists the generators f sets, in Kinds order.
func setKinds(f scenario.Field) []string {
	on := []bool{
		f.Const != nil, f.Counter != nil, f.Uniform != nil, f.Gaussian != nil, f.Walk != nil,
		f.Sine != nil, f.Square != nil, f.Triangle != nil, f.Sawtooth != nil, f.Daily != nil, f.Approach != nil,
		f.Choice != nil, f.Bool != nil, f.Toggle != nil, f.Markov != nil, f.Timestamp != nil, f.UUID != nil, f.ULID != nil,
		f.GPS != nil, f.Fake != nil, f.Expr != "", f.Integrate != nil, f.Derive != nil, f.Replay != nil, f.Object != nil,
	}
	var set []string
	for i, ok := range on {
		if ok {
			set = append(set, kinds[i])
		}
	}
	return set
}

// build makes the generator of kind and says whether its values are
// numbers (so noise and precision may apply).
func build(kind string, f scenario.Field, seed uint64, opt Options) (Generator, bool, error) {
	var (
		g   Generator
		err error
	)
	numeric := true
	switch kind {
	case "const":
		_, numeric = toFloat(f.Const)
		g = constant{normalize(f.Const)}
	case "counter":
		g, err = newCounter(f.Counter)
	case "uniform":
		g, err = newUniform(f.Uniform, seed)
	case "gaussian":
		g, err = newGaussian(f.Gaussian, seed)
	case "walk":
		g, err = newWalk(f.Walk, seed)
	case "sine", "square", "triangle", "sawtooth":
		w := map[string]*scenario.Wave{"sine": f.Sine, "square": f.Square, "triangle": f.Triangle, "sawtooth": f.Sawtooth}[kind]
		g, err = newWave(kind, w, seed)
	case "daily":
		g, err = newDaily(f.Daily)
	case "approach":
		g, err = newApproach(f.Approach)
	case "choice":
		var c *choice
		c, err = newChoice(f.Choice, seed)
		g, numeric = c, c != nil && c.numeric
	case "bool":
		g, err = newBool(f.Bool, seed)
		numeric = false
	case "toggle":
		g, err = newToggle(f.Toggle, seed)
		numeric = false
	case "markov":
		g, err = newMarkov(f.Markov, seed)
		numeric = false
	case "timestamp":
		g, err = newTimestamp(f.Timestamp)
		numeric = false
	case "uuid":
		g, numeric = newUUID(f.UUID, seed), false
	case "ulid":
		g, numeric = newULID(f.ULID, seed), false
	case "gps":
		g, err = newGPS(f.GPS, seed)
		numeric = false
	case "fake":
		g, numeric, err = newFake(f.Fake, seed)
	case "expr":
		g, err = newExpr(f.Expr)
	case "integrate":
		g, err = newCalculus(f.Integrate, true)
	case "derive":
		g, err = newCalculus(f.Derive, false)
	case "replay":
		g, err = newReplay(f.Replay, opt)
	case "object":
		g, err = newObject(f.Object, seed, opt)
		numeric = false
	}
	// An object's errors name the field inside it rather than the kind.
	if err != nil && kind != "object" {
		return nil, false, fmt.Errorf("%s: %w", kind, err)
	}
	return g, numeric, err
}

// Errors reports how many samples g (or a generator inside it) could not
// make — an expression that failed at run time, an integrated field that
// was missing — and the last such error. Those samples yield nil (or keep
// the last value, for integrate): Next cannot fail, so the device model
// reads this to show the error to the user.
func Errors(g Generator) (n uint64, last error) {
	if c, ok := g.(errorCounter); ok {
		return c.errors()
	}
	return 0, nil
}

type errorCounter interface {
	errors() (uint64, error)
}

// failures counts a generator's run-time errors; it is embedded by the
// generators that can fail.
type failures struct {
	n    atomic.Uint64
	last atomic.Pointer[error]
}

func (f *failures) fail(err error) {
	f.n.Add(1)
	f.last.Store(&err)
}

func (f *failures) errors() (uint64, error) {
	n := f.n.Load()
	if p := f.last.Load(); p != nil {
		return n, *p
	}
	return n, nil
}

// Random streams of one seed: each use of randomness in a field draws from
// its own, so adding noise to a walk does not change the walk.
const (
	streamValue uint64 = 0x9e3779b97f4a7c15
	streamNoise uint64 = 0xbf58476d1ce4e5b9
	streamPhase uint64 = 0x94d049bb133111eb
	streamFake  uint64 = 0x2545f4914f6cdd1d
)

func newRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// childSeed is the seed of a nested field, from its name so that adding a
// field does not change the values of the others.
func childSeed(seed uint64, name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return mix(seed ^ h.Sum64())
}

// mix is splitmix64's finaliser: nearby seeds give unrelated streams.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

type constant struct{ v any }

func (c constant) Next(*Sample) any { return c.v }

// floater is a generator whose values are always float64; the modifier
// reads them unboxed, which saves an allocation per sample.
type floater interface {
	float(s *Sample) float64
}

// modifier adds noise to and rounds a numeric generator's values. A value
// that is not a number (an expression that returned a string) passes as is.
type modifier struct {
	inner  Generator
	floats floater // inner, when it is one
	rng    *rand.Rand
	noise  float64
	digits int // -1: no rounding
	scale  float64
}

func (m *modifier) Next(s *Sample) any {
	var x float64
	if m.floats != nil {
		x = m.floats.float(s)
	} else {
		v := m.inner.Next(s)
		var ok bool
		if x, ok = toFloat(v); !ok {
			return v
		}
	}
	if m.noise > 0 {
		x += m.rng.NormFloat64() * m.noise
	}
	if m.digits < 0 {
		return x
	}
	x = math.Round(x*m.scale) / m.scale
	if m.digits == 0 {
		return int64(x)
	}
	return x
}

func (m *modifier) errors() (uint64, error) { return Errors(m.inner) }

// normalize gives whole numbers of any Go integer type as int64 and
// float32 as float64, the two number types generators promise, so
// consumers switch on two types, not twelve (YAML decodes 5 as int, expr
// computes in int).
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint32:
		return int64(x)
	case uint16:
		return int64(x)
	case uint8:
		return int64(x)
	case uint:
		if x <= math.MaxInt64 {
			return int64(x)
		}
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
	case float32:
		return float64(x)
	}
	return v
}

// toFloat reads a number of any Go numeric type, as JSON decoding, YAML
// and expressions give them.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float32:
		return float64(x), true
	case int32:
		return float64(x), true
	case int16:
		return float64(x), true
	case int8:
		return float64(x), true
	case uint64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint8:
		return float64(x), true
	}
	return 0, false
}
