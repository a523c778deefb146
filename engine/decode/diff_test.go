package decode

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func lines(ops string, texts ...string) []DiffLine {
	out := make([]DiffLine, len(texts))
	for i, t := range texts {
		op := map[byte]DiffOp{' ': Same, '-': Removed, '+': Added}[ops[i]]
		out[i] = DiffLine{op, t}
	}
	return out
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name        string
		prev, cur   string
		wantJSON    bool
		wantEqual   bool
		wantLines   []DiffLine
		wantChanges []Change
	}{
		{
			name:     "JSON: key order and spacing do not count, values do",
			prev:     `{"b":1,"a":{"x":1.0,"y":[1,2]},"gone":true}`,
			cur:      `{"a": {"x": 1, "y": [1, 3, 4]}, "b": 1, "new": "n"}`,
			wantJSON: true,
			wantLines: lines("     -++   -+ ",
				"{", `  "a": {`, `    "x": 1,`, `    "y": [`, `      1,`,
				`      2`, `      3,`, `      4`,
				`    ]`, `  },`, `  "b": 1,`, `  "gone": true`, `  "new": "n"`, "}"),
			wantChanges: []Change{
				{Path: "a.y[1]", Op: Changed, Old: "2", New: "3"},
				{Path: "a.y[2]", Op: Added, New: "4"},
				{Path: "gone", Op: Removed, Old: "true"},
				{Path: "new", Op: Added, New: `"n"`},
			},
		},
		{
			name: "JSON: same document, numbers by value", prev: `{"a":[1.0,{"b":null}]}`, cur: "{\n \"a\" : [ 1 , { \"b\" : null } ] }",
			wantJSON: true, wantEqual: true,
			wantLines: lines("        ", "{", `  "a": [`, "    1,", "    {", `      "b": null`, "    }", "  ]", "}"),
		},
		{
			name: "JSON: type change at the root", prev: `[1]`, cur: `{"a":1}`, wantJSON: true,
			wantLines:   lines("---+++", "[", "  1", "]", "{", `  "a": 1`, "}"),
			wantChanges: []Change{{Path: "", Op: Changed, Old: "[1]", New: `{"a":1}`}},
		},
		{
			name: "text: line diff", prev: "a\nb\nc\nd", cur: "a\nc\nd\ne\n",
			wantLines: lines(" -  +", "a", "b", "c", "d", "e"),
		},
		{
			name: "text: one side JSON is compared as text", prev: `{"a":1}`, cur: "a: 1",
			wantLines: lines("-+", `{"a":1}`, "a: 1"),
		},
		{
			name: "text: identical", prev: "x\ny", cur: "x\ny", wantEqual: true,
			wantLines: lines("  ", "x", "y"),
		},
		{
			name: "binary: hex dumps compared", prev: "\xff\x01", cur: "\xff\x02",
			wantLines: lines("-+",
				"00000000  ff 01                                             |..|",
				"00000000  ff 02                                             |..|"),
		},
		{name: "both empty", prev: "", cur: "", wantEqual: true, wantLines: []DiffLine{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Diff([]byte(tt.prev), []byte(tt.cur))
			if c.JSON != tt.wantJSON || c.Equal != tt.wantEqual || c.Note != "" {
				t.Fatalf("JSON %v Equal %v Note %q", c.JSON, c.Equal, c.Note)
			}
			if !reflect.DeepEqual(c.Lines, tt.wantLines) {
				t.Fatalf("lines\n%s\nwant\n%s", render(c.Lines), render(tt.wantLines))
			}
			if !reflect.DeepEqual(c.Changes, tt.wantChanges) {
				t.Fatalf("changes %+v\nwant %+v", c.Changes, tt.wantChanges)
			}
		})
	}
}

func render(ls []DiffLine) string {
	var sb strings.Builder
	for _, l := range ls {
		sb.WriteString(map[DiffOp]string{Same: "  ", Removed: "- ", Added: "+ "}[l.Op] + l.Text + "\n")
	}
	return sb.String()
}

func TestDiffBounds(t *testing.T) {
	big := bytes.Repeat([]byte("x"), MaxDiffBytes/2+1)
	c := Diff(big, big)
	if !c.Equal || c.Lines != nil || !strings.Contains(c.Note, "too large") || !strings.Contains(c.Note, "identical") {
		t.Fatalf("large equal: %+v", c.Note)
	}
	other := append(bytes.Clone(big), 'y')
	if c := Diff(big, other); c.Equal || !strings.Contains(c.Note, "differ") {
		t.Fatalf("large different: %+v", c.Note)
	}
	// A middle part too large for the LCS table is shown removed then added.
	var a, b strings.Builder
	for i := range 3000 {
		a.WriteString("a" + strings.Repeat("x", i%5) + "\n")
		b.WriteString("b" + strings.Repeat("x", i%5) + "\n")
	}
	c = Diff([]byte(a.String()), []byte(b.String()))
	if !strings.Contains(c.Note, "shown as removed, then added") || len(c.Lines) != 6000 ||
		c.Lines[0].Op != Removed || c.Lines[5999].Op != Added {
		t.Fatalf("note %q, %d lines", c.Note, len(c.Lines))
	}
}
