package infer

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// maxDecimals caps a walk's precision: more decimals than this are float
// noise from the publisher (21.333333333333332), not resolution.
const maxDecimals = 6

// leftOut is the Kind of a field that no generator can make (always
// null, always an empty object): it is reported, not generated.
const leftOut = "left out"

// maxChoices is how many observed values a choice keeps at most by
// default: beyond it the rest are left out (the report says how many).
const maxChoices = 20

// obs is one observed value of a field, with its message's receive time.
type obs struct {
	t time.Time
	v any
}

// fieldObs collects a field's values per device, in time order.
type fieldObs struct {
	name    string
	series  map[string][]obs // device → values, oldest first
	count   int
	types   map[string]int
	nested  *objectObs // for object values
	devices map[string]bool
}

// objectObs is the fields of a JSON object in the order they were first
// seen: the order of the first payload, with later keys appended.
type objectObs struct {
	order  []string
	fields map[string]*fieldObs
}

func newObjectObs() *objectObs { return &objectObs{fields: map[string]*fieldObs{}} }

func (o *objectObs) add(obj object, device string, t time.Time) {
	for _, kv := range obj {
		f := o.fields[kv.key]
		if f == nil {
			f = &fieldObs{name: kv.key, series: map[string][]obs{}, types: map[string]int{}, devices: map[string]bool{}}
			o.fields[kv.key] = f
			o.order = append(o.order, kv.key)
		}
		f.count++
		f.types[jsonType(kv.val)]++
		f.devices[device] = true
		if sub, ok := kv.val.(object); ok {
			if f.nested == nil {
				f.nested = newObjectObs()
			}
			f.nested.add(sub, device, t)
			continue
		}
		f.series[device] = append(f.series[device], obs{t, kv.val})
	}
}

// fields turns the observations into generators, in the observed order,
// and reports each (path prefixes nested names).
func (o *objectObs) generators(prefix string, messages int, opt Options, rep *[]FieldReport) scenario.Fields {
	var out scenario.Fields
	for _, name := range o.order {
		f := o.fields[name]
		path := prefix + name
		if f.nested != nil && f.types["object"] == f.count {
			at := len(*rep)
			*rep = append(*rep, FieldReport{Path: path, Type: "object", Kind: "object", Count: f.count})
			if sub := f.nested.generators(path+".", messages, opt, rep); len(sub) > 0 {
				out = append(out, scenario.NamedField{Name: name, Field: scenario.Field{Object: sub}})
			} else {
				(*rep)[at].Kind = leftOut
				(*rep)[at].Notes = append((*rep)[at].Notes, "an empty object every time: no generator makes one")
			}
			continue
		}
		fr := FieldReport{Kind: leftOut, Type: "null", Notes: []string{"null every time: no generator makes it"}}
		var field scenario.Field
		if f.types["null"] < f.count {
			field, fr = inferField(f, opt)
		}
		fr.Path, fr.Count = path, f.count
		if f.count < messages {
			fr.Notes = append(fr.Notes, fmt.Sprintf("present in %d of %d messages; always generated", f.count, messages))
		}
		*rep = append(*rep, fr)
		if fr.Kind != leftOut {
			out = append(out, scenario.NamedField{Name: name, Field: field})
		}
	}
	return out
}

// inferField picks a generator for one field from its values' types.
func inferField(f *fieldObs, opt Options) (scenario.Field, FieldReport) {
	if len(f.types) == 1 {
		switch {
		case f.types["number"] > 0:
			return numberField(f)
		case f.types["string"] > 0:
			return stringField(f, opt)
		case f.types["bool"] > 0:
			return boolField(f)
		}
	}
	fld, fr := choiceField(f, opt)
	if len(f.types) > 1 {
		fr.Notes = append(fr.Notes, "mixed JSON types: "+strings.Join(slices.Sorted(maps.Keys(f.types)), ", "))
	}
	return fld, fr
}

// numSeries is a numeric field's values per device, with what the
// generators need to know about them.
type numSeries struct {
	perDevice [][]obs
	values    []float64
	integers  bool // every value was written without a fraction or exponent
	decimals  int  // most decimals written
	min, max  float64
}

func newNumSeries(f *fieldObs) numSeries {
	ns := numSeries{integers: true, min: math.Inf(1), max: math.Inf(-1)}
	for _, dev := range slices.Sorted(maps.Keys(f.series)) {
		s := f.series[dev]
		ns.perDevice = append(ns.perDevice, s)
		for _, o := range s {
			n := o.v.(json.Number)
			x, _ := n.Float64()
			ns.values = append(ns.values, x)
			ns.min, ns.max = math.Min(ns.min, x), math.Max(ns.max, x)
			txt := n.String()
			if strings.ContainsAny(txt, ".eE") {
				ns.integers = false
			}
			ns.decimals = max(ns.decimals, decimalsOf(txt, x))
		}
	}
	return ns
}

// decimalsOf is how many decimals a number was written with.
func decimalsOf(txt string, x float64) int {
	if strings.ContainsAny(txt, "eE") {
		txt = strconv.FormatFloat(x, 'f', -1, 64)
	}
	if i := strings.IndexByte(txt, '.'); i >= 0 {
		return len(txt) - i - 1
	}
	return 0
}

func numberField(f *fieldObs) (scenario.Field, FieldReport) {
	ns := newNumSeries(f)
	obsMin, obsMax := ns.min, ns.max
	fr := FieldReport{Type: "number", Min: &obsMin, Max: &obsMax, Decimals: ns.decimals}
	if format, ok := ns.timestampFormat(); ok {
		fr.Kind = "timestamp"
		fr.Notes = append(fr.Notes, strings.Replace(format, "_", " ", 1)+" time near the receive times")
		return scenario.Field{Timestamp: &scenario.Timestamp{Format: format}}, fr
	}
	if ns.min == ns.max {
		fr.Kind = "const"
		return scenario.Field{Const: plain(f.series[slices.Sorted(maps.Keys(f.series))[0]][0].v)}, fr
	}
	if start, step, ok := ns.counter(); ok {
		fr.Kind = "counter"
		fr.Notes = append(fr.Notes, fmt.Sprintf("increases by %d per message", step))
		return scenario.Field{Counter: &scenario.Counter{Start: start, Step: step}}, fr
	}
	var lo, hi float64
	if ns.integers {
		if values, weights := distinctNumbers(ns.values); len(values) <= 5 && len(ns.values) >= 4*len(values) {
			fr.Kind, fr.Values, fr.Weights, fr.Distinct = "choice", values, weights, len(values)
			return scenario.Field{Choice: &scenario.Choice{Values: values, Weights: weights}}, fr
		}
	}
	prec := min(ns.decimals, maxDecimals)
	// Bounds at the precision, inside the observed range, so that rounding
	// a generated value cannot carry it outside.
	p := math.Pow(10, float64(prec))
	lo, hi = math.Ceil(ns.min*p)/p, math.Floor(ns.max*p)/p
	if lo >= hi {
		lo, hi = ns.min, ns.max
	}
	if w, ok := ns.sine(); ok {
		fr.Kind = "sine"
		wave := &scenario.Wave{Min: lo, Max: hi, Period: scenario.Duration(w.period)}
		if phase, ok := w.shared(); ok {
			wave.Phase = phase
			fr.Notes = append(fr.Notes, fmt.Sprintf("periodic, every %v, devices in step", w.period))
		} else {
			wave.RandomPhase = true
			fr.Notes = append(fr.Notes, fmt.Sprintf("periodic, every %v, each device its own phase", w.period))
		}
		return scenario.Field{Sine: wave, Precision: &prec}, fr
	}
	fr.Kind = "walk"
	step := ns.step(prec)
	fr.Notes = append(fr.Notes, fmt.Sprintf("median change %s per message", strconv.FormatFloat(step, 'g', 4, 64)))
	return scenario.Field{
		Walk:      &scenario.Walk{Min: lo, Max: hi, Step: step},
		Precision: &prec,
	}, fr
}

// timestampFormat reports whether every value is a Unix time, in seconds
// or milliseconds, within a day of its message's receive time (device
// clocks drift, but not by more).
func (ns numSeries) timestampFormat() (string, bool) {
	const slack = 24 * time.Hour
	near := func(scale float64) bool {
		for _, s := range ns.perDevice {
			for _, o := range s {
				x, _ := o.v.(json.Number).Float64()
				d := time.Duration((x/scale - float64(o.t.UnixNano())/1e9) * float64(time.Second))
				if o.t.IsZero() || d > slack || d < -slack {
					return false
				}
			}
		}
		return len(ns.values) > 0
	}
	switch {
	case near(1):
		return "unix", true
	case near(1000):
		return "unix_ms", true
	}
	return "", false
}

// counter reports whether every device's integer values go up by the same
// step from message to message. A lost message doubles a step, so steps
// that are multiples of the most common one count too, as long as that
// one is most (80%) of them. start is the lowest first value, so
// generated values begin inside the observed range.
func (ns numSeries) counter() (start, step int64, ok bool) {
	if !ns.integers {
		return 0, 0, false
	}
	steps := map[int64]int{}
	var diffs []int64
	for k, s := range ns.perDevice {
		prev, err := s[0].v.(json.Number).Int64()
		if err != nil {
			return 0, 0, false
		}
		if k == 0 || prev < start {
			start = prev
		}
		for _, o := range s[1:] {
			v, err := o.v.(json.Number).Int64()
			if err != nil || v <= prev {
				return 0, 0, false
			}
			steps[v-prev]++
			diffs = append(diffs, v-prev)
			prev = v
		}
	}
	for d, n := range steps {
		if n > steps[step] || (n == steps[step] && d < step) {
			step = d
		}
	}
	if len(diffs) < 2 || 5*steps[step] < 4*len(diffs) {
		return 0, 0, false
	}
	for _, d := range diffs {
		if d%step != 0 {
			return 0, 0, false
		}
	}
	return start, step, true
}

// step is the median absolute change between a device's consecutive
// values; when most values repeat it is the mean of the changes that
// happened, so a walk still moves.
func (ns numSeries) step(decimals int) float64 {
	var changes []float64
	for _, s := range ns.perDevice {
		for i := 1; i < len(s); i++ {
			a, _ := s[i-1].v.(json.Number).Float64()
			b, _ := s[i].v.(json.Number).Float64()
			changes = append(changes, math.Abs(b-a))
		}
	}
	if m := median(changes); m > 0 {
		return roundTo(m, decimals+1)
	}
	sum, n := 0.0, 0
	for _, c := range changes {
		if c > 0 {
			sum, n = sum+c, n+1
		}
	}
	if n == 0 { // every device sent one value (or one each): no change to measure
		return roundTo((ns.max-ns.min)/10, decimals+1)
	}
	return roundTo(sum/float64(n), decimals+1)
}

func roundTo(x float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	if r := math.Round(x*p) / p; r > 0 {
		return r
	}
	return x
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// distinctNumbers returns the distinct values (int64) and their counts.
func distinctNumbers(xs []float64) ([]any, []float64) {
	counts := map[float64]int{}
	for _, x := range xs {
		counts[x]++
	}
	keys := make([]float64, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Float64s(keys)
	values := make([]any, len(keys))
	weights := make([]float64, len(keys))
	for i, k := range keys {
		values[i], weights[i] = int64(k), float64(counts[k])
	}
	return values, weights
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func stringField(f *fieldObs, opt Options) (scenario.Field, FieldReport) {
	all := func(ok func(string) bool) bool {
		for _, s := range f.series {
			for _, o := range s {
				if !ok(o.v.(string)) {
					return false
				}
			}
		}
		return true
	}
	fr := FieldReport{Type: "string"}
	switch {
	case all(func(s string) bool { _, err := time.Parse(time.RFC3339Nano, s); return err == nil }):
		fr.Kind = "timestamp"
		fr.Notes = append(fr.Notes, "RFC 3339 times")
		return scenario.Field{Timestamp: &scenario.Timestamp{Format: "rfc3339"}}, fr
	case all(uuidRE.MatchString):
		fr.Kind = "uuid"
		perDevice := constantPerDevice(f) && len(f.series) > 1
		if perDevice {
			fr.Notes = append(fr.Notes, "one per device")
		}
		return scenario.Field{UUID: &scenario.IDGen{PerDevice: perDevice}}, fr
	case len(f.series) > 1 && all(func(string) bool { return true }) && equalsDevice(f):
		fr.Kind = "expr"
		fr.Notes = append(fr.Notes, "the device ID")
		return scenario.Field{Expr: "id"}, fr
	}
	return choiceField(f, opt)
}

// constantPerDevice reports whether each device sent one value only.
func constantPerDevice(f *fieldObs) bool {
	for _, s := range f.series {
		for _, o := range s[1:] {
			if o.v != s[0].v {
				return false
			}
		}
	}
	return true
}

// equalsDevice reports whether the value is always its device's ID.
func equalsDevice(f *fieldObs) bool {
	for dev, s := range f.series {
		for _, o := range s {
			if o.v != dev {
				return false
			}
		}
	}
	return true
}

func boolField(f *fieldObs) (scenario.Field, FieldReport) {
	n, yes := 0, 0
	for _, s := range f.series {
		for _, o := range s {
			n++
			if o.v.(bool) {
				yes++
			}
		}
	}
	fr := FieldReport{Type: "bool", Values: []any{false, true}, Weights: []float64{float64(n - yes), float64(yes)}}
	switch yes {
	case 0, n:
		fr.Kind, fr.Values, fr.Weights = "const", []any{yes == n}, nil
		return scenario.Field{Const: yes == n}, fr
	}
	fr.Kind = "bool"
	p := math.Round(float64(yes)/float64(n)*1000) / 1000
	return scenario.Field{Bool: &scenario.Bool{P: p}}, fr
}

// choiceField picks among the observed values with their observed
// weights: the most common ones when there are more than opt.MaxChoices.
func choiceField(f *fieldObs, opt Options) (scenario.Field, FieldReport) {
	type vc struct {
		key   string
		value any
		n     int
		first int
	}
	counts := map[string]*vc{}
	i := 0
	for _, dev := range slices.Sorted(maps.Keys(f.series)) {
		for _, o := range f.series[dev] {
			v := plain(o.v)
			b, _ := json.Marshal(v)
			k := string(b)
			if counts[k] == nil {
				counts[k] = &vc{key: k, value: v, first: i}
			}
			counts[k].n++
			i++
		}
	}
	list := make([]*vc, 0, len(counts))
	for _, c := range counts {
		list = append(list, c)
	}
	sort.Slice(list, func(a, b int) bool {
		if list[a].n != list[b].n {
			return list[a].n > list[b].n
		}
		return list[a].key < list[b].key
	})
	fr := FieldReport{Type: strings.Join(slices.Sorted(maps.Keys(f.types)), "|"), Distinct: len(list)}
	if len(list) > opt.MaxChoices {
		fr.Notes = append(fr.Notes, fmt.Sprintf("%d distinct values; the %d most common kept", len(list), opt.MaxChoices))
		list = list[:opt.MaxChoices]
	}
	if len(list) == 1 {
		fr.Kind, fr.Values = "const", []any{list[0].value}
		return scenario.Field{Const: list[0].value}, fr
	}
	ch := &scenario.Choice{}
	for _, c := range list {
		ch.Values = append(ch.Values, c.value)
		ch.Weights = append(ch.Weights, float64(c.n))
	}
	fr.Kind, fr.Values, fr.Weights = "choice", ch.Values, ch.Weights
	return scenario.Field{Choice: ch}, fr
}
