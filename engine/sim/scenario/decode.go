package scenario

import (
	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"

	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Limits that stop absurd inputs (a fuzzer's, or an alias bomb) with an
// error instead of eating memory: no real scenario comes near them.
const (
	maxFileSize = 4 << 20
	maxDepth    = 64
	maxValues   = 1 << 20 // counted with aliases expanded
	maxErrors   = 200
)

// Parse reads a scenario file. path is only used in error messages. When
// the file is bad the error is *Errors with every problem found, and the
// File is nil, so nothing ever starts half-valid.
func Parse(path string, data []byte) (f *File, err error) {
	defer func() {
		// yaml is a large parser fed untrusted text; a bug in it must not
		// take the studio down with the file.
		if r := recover(); r != nil {
			f, err = nil, &Errors{{Path: path, Pos: Pos{1, 1}, Msg: fmt.Sprintf("cannot read the file (an internal error, please report it): %v", r)}}
		}
	}()
	fail := func(p Pos, format string, a ...any) (*File, error) {
		return nil, &Errors{{Path: path, Pos: p, Msg: fmt.Sprintf(format, a...)}}
	}
	if len(data) > maxFileSize {
		return fail(Pos{1, 1}, "the file is %d bytes; a scenario file may be at most %d bytes: split it into several files", len(data), maxFileSize)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(Pos{1, 1}, "the file is empty; a scenario file has `profiles:` and/or `fleets:`")
		}
		return nil, &Errors{syntaxError(path, err, data)}
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return fail(posOf(&next), "a second YAML document (after ---); a scenario file holds one: put it in a file of its own")
	} else if !errors.Is(err, io.EOF) {
		return nil, &Errors{syntaxError(path, err, data)}
	}
	d := &decoder{path: path}
	f = &File{}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	d.value(doc, reflect.ValueOf(f).Elem(), "file", 0)
	if !d.halted {
		d.checkFile(f, doc)
	}
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, &d.errs
	}
	f.Path = path
	return f, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError turns yaml's "yaml: line 3: did not find expected key" into
// an Error at that line (yaml gives no column for syntax errors).
func syntaxError(path string, err error, data []byte) *Error {
	msg := err.Error()
	p := Pos{1, 1}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if at, words, ok := locateSyntax(data); ok {
		p, msg = at, words
	}
	e := &Error{Path: path, Pos: p, Msg: "YAML syntax: " + msg}
	if line := unquotedFlowTemplate(data); line > 0 {
		// yaml's own words ("did not find expected ',' or '}'") and line
		// say nothing of the usual cause in a scenario: a template's
		// braces inside a { } mapping.
		col := strings.Index(strings.Split(string(data), "\n")[line-1], "{{") + 1
		e.Pos = Pos{line, col}
		e.Msg += "; a {{template}} inside a { } mapping must be quoted: topic: \"a/{{.ID}}\""
	}
	return e
}

// Bounds of the files locateSyntax looks at: 1,000 brackets parse in
// about 20 ms, 256 KB without nesting in about 200 ms.
const (
	locateMaxSize = 256 << 10
	locateMaxOpen = 1000
)

// locateSyntax asks goccy/go-yaml where the syntax error in data is: the
// yaml package the decoder uses reports a line only, often the line where
// the construct began (1 for an unclosed [ on line 3), and no column.
// ok is false when the second parser finds no error (they disagree, or it
// failed in a way of its own).
func locateSyntax(data []byte) (at Pos, msg string, ok bool) {
	// Its parser takes time quadratic in the nesting of [ and { (100,000
	// of them: two minutes), and the editor validates as the user types.
	if len(data) > locateMaxSize || bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) > locateMaxOpen {
		return Pos{}, "", false
	}
	defer func() {
		if recover() != nil {
			ok = false // its bug must not hide the error we already have
		}
	}()
	_, err := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return Pos{}, "", false
	}
	return Pos{Line: se.Token.Position.Line, Column: max(se.Token.Position.Column, 1)}, se.Message, true
}

var flowTemplate = regexp.MustCompile(`\{\s*\w+:\s*[^'"\s{][^,}]*\{\{|,\s*\w+:\s*[^'"\s{][^,}]*\{\{`)

// unquotedFlowTemplate is the first line (1-based) holding an unquoted
// template inside a flow mapping, or 0.
func unquotedFlowTemplate(data []byte) int {
	for i, line := range strings.Split(string(data), "\n") {
		if flowTemplate.MatchString(line) {
			return i + 1
		}
	}
	return 0
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Column: n.Column} }

// decoder collects every problem of one file instead of stopping at the first.
type decoder struct {
	path   string
	errs   Errors
	values int
	halted bool
	// bad holds the nodes already reported, so a value that could not be
	// read is not reported again by a range check ("fast" is not also "not
	// above 0").
	bad map[*yaml.Node]bool
}

func (d *decoder) errorf(n *yaml.Node, format string, a ...any) {
	if d.halted {
		return
	}
	if len(d.errs) >= maxErrors {
		d.halt(n, "more than %d problems; fix these first", maxErrors)
		return
	}
	d.errs = append(d.errs, &Error{Path: d.path, Pos: posOf(n), Msg: fmt.Sprintf(format, a...)})
	if d.bad == nil {
		d.bad = map[*yaml.Node]bool{}
	}
	d.bad[n] = true
}

// halt reports a problem that makes going on pointless (a file too big or
// too deep) and stops the walk.
func (d *decoder) halt(n *yaml.Node, format string, a ...any) {
	if d.halted {
		return
	}
	d.errs = append(d.errs, &Error{Path: d.path, Pos: posOf(n), Msg: fmt.Sprintf(format, a...)})
	d.halted = true
}

// enter counts a value and its depth against the limits; false means stop.
func (d *decoder) enter(n *yaml.Node, depth int) bool {
	if d.halted {
		return false
	}
	d.values++
	if d.values > maxValues {
		d.halt(n, "the file expands to more than %d values (aliases included); a scenario is far smaller: check the anchors and aliases", maxValues)
		return false
	}
	if depth > maxDepth {
		d.halt(n, "values nested more than %d deep; a scenario is far flatter (or an alias refers to itself)", maxDepth)
		return false
	}
	return true
}

// resolve follows aliases (*name) to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < maxDepth; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe says what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:37] + "..."
		}
		return "`" + v + "`"
	}
	return "something else"
}

// value decodes n into v, dispatching on v's type.
func (d *decoder) value(n *yaml.Node, v reflect.Value, name string, depth int) {
	n = resolve(n)
	if !d.enter(n, depth) {
		return
	}
	switch p := v.Addr().Interface().(type) {
	case *Field:
		d.field(n, p, name, depth)
		return
	case *Fields:
		d.fields(n, p, name, depth)
		return
	case *Number:
		d.number(n, p, name)
		return
	case *Ramp:
		d.ramp(n, p, name)
		return
	case *Duration:
		d.duration(n, p, name)
		return
	case *Timestamp:
		if n.Kind == yaml.ScalarNode && !isNull(n) {
			p.Format = n.Value
			d.check(v, n, map[string]*yaml.Node{"format": n})
			return
		}
	case *Choice:
		if n.Kind == yaml.SequenceNode {
			d.value(n, reflect.ValueOf(&p.Values).Elem(), name, depth+1)
			d.check(v, n, map[string]*yaml.Node{"values": n})
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		// `uuid:` and `uuid: {}` both mean "a uuid with the defaults".
		if isNull(n) && v.Type().Elem().Kind() != reflect.Struct {
			return
		}
		e := reflect.New(v.Type().Elem())
		d.value(n, e.Elem(), name, depth)
		v.Set(e)
	case reflect.Struct:
		d.structure(n, v, name, depth)
	case reflect.Slice:
		d.list(n, v, name, depth)
	case reflect.Array:
		d.array(n, v, name, depth)
	case reflect.Map:
		d.mapping(n, v, name, depth)
	case reflect.Interface:
		if x, ok := d.anyValue(n, name, depth); ok && x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode || isNull(n) {
			d.errorf(n, "`%s`: expected text, got %s", name, describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			d.errorf(n, "`%s`: expected true or false, got %s", name, describe(n))
			return
		}
		b, _ := strconv.ParseBool(strings.ToLower(n.Value))
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, ok := d.integer(n, name)
		if ok && v.OverflowInt(i) {
			d.errorf(n, "`%s`: %d is too large", name, i)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, ok := d.integer(n, name)
		if ok && (i < 0 || v.OverflowUint(uint64(i))) {
			d.errorf(n, "`%s`: %d is out of range (0 to %d)", name, i, uint64(1)<<(v.Type().Bits())-1)
			return
		}
		v.SetUint(uint64(i))
	case reflect.Float32, reflect.Float64:
		f, _ := d.float(n, name)
		v.SetFloat(f)
	default:
		d.errorf(n, "`%s`: cannot be read (type %s)", name, v.Type())
	}
}

func (d *decoder) integer(n *yaml.Node, name string) (int64, bool) {
	var i int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		d.errorf(n, "`%s`: expected a whole number, got %s", name, describe(n))
		return 0, false
	}
	return i, true
}

func (d *decoder) float(n *yaml.Node, name string) (float64, bool) {
	var f float64
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (tag != "!!int" && tag != "!!float") || n.Decode(&f) != nil {
		d.errorf(n, "`%s`: expected a number, got %s", name, describe(n))
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.errorf(n, "`%s`: expected a finite number, got %s", name, describe(n))
		return 0, false
	}
	return f, true
}

// anyValue decodes free-form data (state, constants, choice values) into
// nil, bool, int, float64, string, []any and map[string]any, the types a
// JSON payload is made of.
func (d *decoder) anyValue(n *yaml.Node, name string, depth int) (any, bool) {
	n = resolve(n)
	if !d.enter(n, depth) {
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, true
		case "!!bool":
			b, _ := strconv.ParseBool(strings.ToLower(n.Value))
			return b, true
		case "!!int":
			var i int
			if n.Decode(&i) == nil {
				return i, true
			}
			f, ok := d.float(n, name)
			return f, ok
		case "!!float":
			f, ok := d.float(n, name)
			return f, ok
		}
		return n.Value, true
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			x, ok := d.anyValue(c, fmt.Sprintf("%s[%d]", name, i), depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, x)
		}
		return out, true
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, ok := key(d, n.Content[i], out)
			if !ok {
				continue
			}
			x, ok := d.anyValue(n.Content[i+1], k, depth+1)
			if !ok {
				return nil, false
			}
			out[k] = x
		}
		return out, true
	}
	d.errorf(n, "`%s`: unexpected %s", name, describe(n))
	return nil, false
}

// key reads a mapping key, reporting keys that are not text and keys given
// twice (yaml's Node parser accepts both).
func key[V any](d *decoder, k *yaml.Node, seen map[string]V) (string, bool) {
	k = resolve(k)
	if k.Kind != yaml.ScalarNode || isNull(k) {
		d.errorf(k, "a key must be a plain word, got %s", describe(k))
		return "", false
	}
	if k.Value == "<<" {
		d.errorf(k, "merge keys (<<) are not supported; repeat the keys instead")
		return "", false
	}
	if _, dup := seen[k.Value]; dup {
		d.errorf(k, "`%s` is given twice", k.Value)
		return "", false
	}
	return k.Value, true
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, name string, depth int) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "`%s`: expected a list, got %s", name, describe(n))
		return
	}
	if len(n.Content) == 0 {
		return // nil, as an absent list: the same File either way
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		d.value(c, s.Index(i), fmt.Sprintf("%s[%d]", name, i), depth+1)
	}
	v.Set(s)
}

func (d *decoder) array(n *yaml.Node, v reflect.Value, name string, depth int) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != v.Len() {
		d.errorf(n, "`%s`: expected a list of %d numbers like [48.85, 2.35], got %s", name, v.Len(), describe(n))
		return
	}
	for i, c := range n.Content {
		d.value(c, v.Index(i), fmt.Sprintf("%s[%d]", name, i), depth+1)
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, name string, depth int) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "`%s`: expected a mapping (key: value), got %s", name, describe(n))
		return
	}
	if len(n.Content) == 0 {
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := key(d, n.Content[i], seen)
		if !ok {
			continue
		}
		seen[k] = true
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(n.Content[i+1], e, k, depth+1)
		m.SetMapIndex(reflect.ValueOf(k), e)
	}
	v.Set(m)
}

// structInfo is what structure needs of a struct type, from its yaml tags.
type structInfo struct {
	names    []string // in declaration order, for did-you-mean
	index    map[string]int
	required []string
	at       int // index of the At Pos field, or -1
}

var structInfos sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if i, ok := structInfos.Load(t); ok {
		return i.(*structInfo)
	}
	info := &structInfo{index: map[string]int{}, at: -1}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Name == "At" && sf.Type == reflect.TypeFor[Pos]() {
			info.at = i
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" || name == "" || !sf.IsExported() {
			continue
		}
		info.names = append(info.names, name)
		info.index[name] = i
		if !strings.Contains(opts, "omitempty") {
			info.required = append(info.required, name)
		}
	}
	structInfos.Store(t, info)
	return info
}

// nouns name structs in messages the way the docs do.
var nouns = map[reflect.Type]string{
	reflect.TypeFor[File]():      "the file",
	reflect.TypeFor[Profile]():   "profile",
	reflect.TypeFor[Stream]():    "stream",
	reflect.TypeFor[Handler]():   "handler",
	reflect.TypeFor[Action]():    "action",
	reflect.TypeFor[Fleet]():     "fleet",
	reflect.TypeFor[Lifecycle](): "lifecycle",
}

func noun(t reflect.Type, name string) string {
	if s, ok := nouns[t]; ok {
		return s
	}
	return "`" + name + "`"
}

// structure decodes a mapping into a struct by its yaml tags, then runs
// the struct's static checks with the value nodes of the keys given.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, name string, depth int) map[string]*yaml.Node {
	info := infoOf(v.Type())
	if info.at >= 0 {
		v.Field(info.at).Set(reflect.ValueOf(posOf(n)))
	}
	if !isNull(n) && n.Kind != yaml.MappingNode {
		d.errorf(n, "`%s`: expected a mapping with %s, got %s", name, strings.Join(info.names, ", "), describe(n))
		return nil
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := key(d, n.Content[i], seen)
		if !ok {
			continue
		}
		fi, ok := info.index[k]
		if !ok {
			if v.Type() == reflect.TypeFor[Field]() {
				d.errorf(n.Content[i], "unknown generator `%s`%s", k, suggest(k, info.names))
			} else {
				d.errorf(n.Content[i], "unknown key `%s` in %s%s", k, noun(v.Type(), name), suggest(k, info.names))
			}
			continue
		}
		seen[k] = resolve(n.Content[i+1])
		d.value(n.Content[i+1], v.Field(fi), k, depth+1)
	}
	for _, r := range info.required {
		if seen[r] == nil {
			d.errorf(n, "%s is missing `%s`", noun(v.Type(), name), r)
		} else if f := v.Field(info.index[r]); f.Kind() == reflect.String && f.String() == "" {
			d.errorf(seen[r], "`%s` is empty", r)
		}
	}
	if !d.halted {
		d.check(v, n, seen)
	}
	return seen
}

// generators are the keys of Field that choose its kind (the others,
// noise and precision, modify it).
var generators = func() []string {
	var g []string
	for _, name := range infoOf(reflect.TypeFor[Field]()).names {
		if name != "noise" && name != "precision" {
			g = append(g, name)
		}
	}
	return g
}()

func (d *decoder) field(n *yaml.Node, f *Field, name string, depth int) {
	f.At = posOf(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if isNull(n) {
			d.errorf(n, "field `%s` has no value; write a constant (21.5) or a generator (uniform: {min: 0, max: 1})", name)
			return
		}
		f.Const, _ = d.anyValue(n, name, depth)
		return
	case yaml.MappingNode:
	default:
		d.errorf(n, "field `%s`: expected a constant or a generator, got %s; write `const: [...]` for a constant list", name, describe(n))
		return
	}
	seen := d.structure(n, reflect.ValueOf(f).Elem(), name, depth)
	var found []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i]).Value
		if !slices.Contains(generators, k) || seen[k] == nil {
			continue
		}
		found = append(found, k)
		if len(found) == 2 {
			d.errorf(n.Content[i], "field `%s` has two generators, `%s` and `%s`; keep one", name, found[0], found[1])
		}
	}
	if len(found) == 0 && len(seen) == len(n.Content)/2 {
		d.errorf(n, "field `%s` has no generator; add one of %s", name, strings.Join(generators, ", "))
	}
	if c := seen["const"]; c != nil && isNull(c) {
		d.errorf(c, "`const` has no value; a constant field needs one")
	}
}

func (d *decoder) fields(n *yaml.Node, fs *Fields, name string, depth int) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "`%s`: expected a mapping of field names to generators, got %s", name, describe(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, ok := key(d, n.Content[i], seen)
		if !ok {
			continue
		}
		seen[k] = true
		var f Field
		d.value(n.Content[i+1], reflect.ValueOf(&f).Elem(), k, depth+1)
		*fs = append(*fs, NamedField{Name: k, Field: f})
	}
}

func (d *decoder) number(n *yaml.Node, p *Number, name string) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if strings.TrimSpace(n.Value) == "" {
			d.errorf(n, "`%s`: expected a number or an expression, got an empty text", name)
		}
		p.Expr = n.Value
		return
	}
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") {
		d.errorf(n, "`%s`: expected a number or an expression like state.setpoint, got %s", name, describe(n))
		return
	}
	p.Value, _ = d.float(n, name)
}

func (d *decoder) duration(n *yaml.Node, p *Duration, name string) {
	dur, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		d.errorf(n, "`%s`: expected a duration like 1s or 250ms, got %s", name, describe(n))
		return
	}
	if dur < 0 {
		d.errorf(n, "`%s`: must not be negative, got %s", name, describe(n))
		return
	}
	*p = Duration(dur)
}

func (d *decoder) ramp(n *yaml.Node, p *Ramp, name string) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.errorf(n, "`%s`: %s, got %s", name, rampExpected, describe(n))
		return
	}
	r, err := ParseRamp(n.Value)
	if err != nil {
		d.errorf(n, "`%s`: %v", name, err)
		return
	}
	*p = r
}

const rampExpected = "expected connections per second like 200/s or a duration like 30s"

// ParseRamp reads a ramp as a file or the command line writes it:
// connections per second (200/s) or a duration to spread them over (30s).
func ParseRamp(v string) (Ramp, error) {
	if rate, ok := strings.CutSuffix(strings.TrimSpace(v), "/s"); ok {
		r, err := strconv.ParseFloat(strings.TrimSpace(rate), 64)
		if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
			return Ramp{}, fmt.Errorf("%s, got `%s`", rampExpected, v)
		}
		if r <= 0 {
			return Ramp{}, fmt.Errorf("the rate must be above 0/s, got `%s`", v)
		}
		return Ramp{PerSecond: r}, nil
	}
	dur, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return Ramp{}, fmt.Errorf("%s, got `%s`", rampExpected, v)
	}
	if dur <= 0 {
		return Ramp{}, fmt.Errorf("the duration must be above 0, got `%s`", v)
	}
	return Ramp{Over: dur}, nil
}
