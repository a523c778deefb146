package scenario

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const shorthands = `profiles:
  - name: p
    streams:
      - name: s
        topic: t
        every: 1m30s
        fields:
          f: 21.5
          i: 3
          s: "on"
          b: true
          ts: {timestamp: unix_ms}
          c: {choice: [a, 2]}
          u: {uuid: {}}
          l: {ulid: }
          n: {approach: {start: 0, target: state.setpoint, half_life: 1m}}
          m: {approach: {start: 0, target: 30, half_life: 1m}}
fleets:
  - {profile: p, count: 1, ramp: 200/s}
  - {name: slow, profile: p, count: 1, ramp: 30s}
`

func TestParseShorthands(t *testing.T) {
	f, err := Parse("s.yaml", []byte(shorthands))
	if err != nil {
		t.Fatal(err)
	}
	s := f.Profiles[0].Streams[0]
	if s.Every.D() != 90*time.Second {
		t.Errorf("every = %v, want 1m30s", s.Every.D())
	}
	var names []string
	for _, nf := range s.Fields {
		names = append(names, nf.Name)
	}
	if got := strings.Join(names, ","); got != "f,i,s,b,ts,c,u,l,n,m" {
		t.Errorf("fields in order %s, want the file's order", got)
	}
	field := func(i int) Field { return s.Fields[i].Field }
	for i, want := range []any{21.5, 3, "on", true} {
		if got := field(i).Const; got != want {
			t.Errorf("field %s const = %#v, want %#v", s.Fields[i].Name, got, want)
		}
	}
	if ts := field(4).Timestamp; ts == nil || ts.Format != "unix_ms" {
		t.Errorf("timestamp shorthand = %+v", ts)
	}
	if c := field(5).Choice; c == nil || !reflect.DeepEqual(c.Values, []any{"a", 2}) {
		t.Errorf("choice shorthand = %+v", c)
	}
	if field(6).UUID == nil || field(7).ULID == nil {
		t.Errorf("uuid: {} and ulid: (empty) must both select the generator")
	}
	if n := field(8).Approach.Target; n.Expr != "state.setpoint" {
		t.Errorf("target expression = %+v", n)
	}
	if n := field(9).Approach.Target; n.Value != 30 || n.Expr != "" {
		t.Errorf("target number = %+v", n)
	}
	if r := f.Fleets[0].Ramp; r.PerSecond != 200 || r.Over != 0 {
		t.Errorf("ramp 200/s = %+v", r)
	}
	if r := f.Fleets[1].Ramp; r.Over != 30*time.Second || r.PerSecond != 0 {
		t.Errorf("ramp 30s = %+v", r)
	}
	if p := f.Profiles[0].At; p != (Pos{2, 5}) {
		t.Errorf("profile At = %+v, want 2:5", p)
	}
	if p := s.At; p != (Pos{4, 9}) {
		t.Errorf("stream At = %+v, want 4:9", p)
	}
	if p := field(4).At; p != (Pos{12, 15}) {
		t.Errorf("field At = %+v, want 12:15", p)
	}
	if p := f.Fleets[1].At; p != (Pos{20, 5}) {
		t.Errorf("fleet At = %+v, want 20:5", p)
	}
	if f.Path != "s.yaml" {
		t.Errorf("Path = %q", f.Path)
	}
}

// Constants keep their type through Marshal: 0 is not dropped as empty,
// 5.0 stays a float, "1.5" stays text.
func TestMarshalKeepsConstants(t *testing.T) {
	prec := 0
	in := &File{Profiles: []Profile{{Name: "p", Streams: []Stream{{
		Name: "s", Topic: "t", Every: Duration(time.Second),
		Fields: Fields{
			{"zero", Field{Const: 0}},
			{"float", Field{Const: 5.0}},
			{"text", Field{Const: "1.5"}},
			{"off", Field{Const: false}},
			{"list", Field{Const: []any{1, "a"}}},
			{"noisy", Field{Const: 0, Noise: 0.5, Precision: &prec}},
		},
	}}}}}
	out, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("m.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(withoutPositions(in), withoutPositions(back)) {
		t.Fatalf("constants changed through Marshal:\n%s\n%+v", out, back.Profiles[0].Streams[0].Fields)
	}
	if !bytes.Contains(out, []byte("zero: 0\n")) || !bytes.Contains(out, []byte("float: 5.0\n")) {
		t.Errorf("constants are not written bare:\n%s", out)
	}
}

func TestMarshalIsReadable(t *testing.T) {
	f, err := Parse("s.yaml", []byte(shorthands))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"every: 1m30s\n", "timestamp: unix_ms\n", "choice: [a, 2]\n", "uuid: {}\n", "target: state.setpoint\n", "ramp: 200/s\n", "ramp: 30s\n"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("Marshal output lacks %q:\n%s", want, out)
		}
	}
}

// The yaml methods let a consumer read a piece with yaml.Unmarshal and get
// the same rules and positions as Parse.
func TestUnmarshalYAMLPieces(t *testing.T) {
	var piece struct {
		Fields Fields   `yaml:"fields"`
		Every  Duration `yaml:"every"`
	}
	err := yaml.Unmarshal([]byte("every: 2s\nfields:\n  a: 1\n  b: {sinus: {}}\n"), &piece)
	var errs *Errors
	if !errors.As(err, &errs) || len(*errs) != 1 || (*errs)[0].Pos != (Pos{4, 7}) || !strings.Contains((*errs)[0].Msg, "did you mean `sine`") {
		t.Fatalf("err = %v, want one error at 4:7 with did-you-mean", err)
	}
	err = yaml.Unmarshal([]byte("every: 2s\nfields:\n  a: 1\n  b: {timestamp: rfc3339}\n"), &piece)
	if err != nil || piece.Every.D() != 2*time.Second || len(piece.Fields) != 2 || piece.Fields[1].Field.Timestamp.Format != "rfc3339" {
		t.Fatalf("piece = %+v, err %v", piece, err)
	}
	b, err := yaml.Marshal(piece)
	if err != nil || !strings.Contains(string(b), "every: 2s") || !strings.Contains(string(b), "timestamp: rfc3339") {
		t.Fatalf("yaml.Marshal = %s, %v", b, err)
	}
}

func TestParseRejectsAbsurdSize(t *testing.T) {
	data := []byte("profiles: []\n# " + strings.Repeat("x", maxFileSize))
	_, err := Parse("big.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "big.yaml:1:1: the file is") || !strings.Contains(err.Error(), "split it") {
		t.Fatalf("err = %v", err)
	}
	deep := "profiles:\n  - name: p\n    state: {x: " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "}\n"
	_, err = Parse("deep.yaml", []byte(deep))
	if err == nil || !strings.Contains(err.Error(), "nested more than 64 deep") {
		t.Fatalf("err = %v", err)
	}
}

func TestErrorsFormat(t *testing.T) {
	errs := Errors{{Path: "a.yaml", Pos: Pos{3, 7}, Msg: "x"}, {Path: "a.yaml", Pos: Pos{4, 1}, Msg: "y"}}
	if got := errs.Error(); got != "a.yaml:3:7: x\na.yaml:4:1: y" {
		t.Errorf("Errors.Error() = %q", got)
	}
}
