package inspector

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
)

// TestRowMapCoversEveryLine wraps views of mixed line widths at many
// widths and checks that walking the rows in order visits every segment of
// every line exactly once, in order, each within the width.
func TestRowMapCoversEveryLine(t *testing.T) {
	text := strings.Join([]string{
		"short", strings.Repeat("x", 25), "", "\ttab\tbed", strings.Repeat("é", 31), "end",
		strings.Repeat("0123456789", 9),
	}, "\n")
	res := decode.Decode(decode.Text, "", []byte(text), "")
	bin := decode.Decode(decode.Hex, "", []byte(strings.Repeat("\x00\x01binary", 7)), "")
	for _, r := range []*decode.Result{res, bin} {
		lens := measure(r)
		if lens.n != r.LineCount() {
			t.Fatalf("measured %d lines of %d", lens.n, r.LineCount())
		}
		var all []string
		for i := range lens.n {
			all = append(all, expandTabs(r.Lines(i, 1)[0]))
			if got := textCols(all[i]); got != lens.at(i) {
				t.Errorf("line %d: width %d, measured %d", i, got, lens.at(i))
			}
		}
		for _, cols := range []int{1, 3, 8, 10, 24, 25, 26, 40, 78, 79, 200} {
			m := newRowMap(&lens, cols)
			var got []string
			prevLine, prevSeg := -1, 0
			for row := range m.rows {
				line, seg := m.locate(row)
				switch {
				case line == prevLine && seg == prevSeg+1:
				case line == prevLine+1 && seg == 0:
					got = append(got, "")
				default:
					t.Fatalf("cols %d: row %d is line %d segment %d after line %d segment %d", cols, row, line, seg, prevLine, prevSeg)
				}
				s := segment(all[line], seg, cols)
				if w := textCols(s); w > cols {
					t.Fatalf("cols %d: row %d is %d wide", cols, row, w)
				}
				got[line] += s
				prevLine, prevSeg = line, seg
			}
			if !slices.Equal(got, all) {
				t.Errorf("cols %d: rows give %q, want %q", cols, got, all)
			}
		}
	}
}

func TestSegment(t *testing.T) {
	for _, tt := range []struct {
		s         string
		seg, cols int
		want      string
	}{
		{"abcdef", 0, 4, "abcd"},
		{"abcdef", 1, 4, "ef"},
		{"abcdef", 2, 4, ""},
		{"héllo wörld", 1, 4, "o wö"},
	} {
		if got := segment(tt.s, tt.seg, tt.cols); got != tt.want {
			t.Errorf("segment(%q, %d, %d) = %q, want %q", tt.s, tt.seg, tt.cols, got, tt.want)
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tt := range []struct {
		lo, hi float64
		want   []float64
	}{
		{21.37, 24.81, []float64{21, 22, 23, 24, 25}},
		{0, 100, []float64{0, 20, 40, 60, 80, 100}},
		{0.1, 0.3, []float64{0.1, 0.15, 0.2, 0.25, 0.3}},
		{-3, 2, []float64{-3, -2, -1, 0, 1, 2}},
		{5, 5, []float64{4, 4.5, 5, 5.5, 6}},
	} {
		got, from, to := niceTicks(tt.lo, tt.hi, 6)
		if !slices.Equal(got, tt.want) {
			t.Errorf("niceTicks(%v, %v) = %v, want %v", tt.lo, tt.hi, got, tt.want)
		}
		if from > tt.lo || to < tt.hi || from != got[0] || to != got[len(got)-1] {
			t.Errorf("niceTicks(%v, %v) spans %v..%v", tt.lo, tt.hi, from, to)
		}
	}
	if got := formatValue(0.30000000000000004); got != "0.3" {
		t.Errorf("formatValue = %q", got)
	}
	if got := formatValue(2.5e9); got != "2.5e+09" {
		t.Errorf("formatValue = %q", got)
	}
	for _, r := range [][2]float64{{math.NaN(), 1}, {math.Inf(-1), math.Inf(1)}, {-math.MaxFloat64, math.MaxFloat64}} {
		if ticks, from, to := niceTicks(r[0], r[1], 5); len(ticks) < 2 || !(from < to) {
			t.Errorf("niceTicks(%v, %v) = %v, %v..%v", r[0], r[1], ticks, from, to)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 26, 53, 0, time.Local)
	for _, tt := range []struct {
		span   time.Duration
		want   int
		step   time.Duration
		layout string
	}{
		{30 * time.Second, 5, 10 * time.Second, "15:04:05"},
		{2 * time.Second, 5, 500 * time.Millisecond, "15:04:05.000"},
		{3 * time.Hour, 5, time.Hour, "15:04"},
		{40 * time.Hour, 4, 12 * time.Hour, "Jan 2 15:04"},
		{20 * 24 * time.Hour, 4, 7 * 24 * time.Hour, "Jan 2"},
	} {
		ticks, layout := timeTicks(at, at.Add(tt.span), tt.want)
		if layout != tt.layout {
			t.Errorf("span %v: layout %q, want %q", tt.span, layout, tt.layout)
		}
		if len(ticks) == 0 || len(ticks) > tt.want+1 {
			t.Fatalf("span %v: %d ticks", tt.span, len(ticks))
		}
		for i, tk := range ticks {
			if tk.Before(at) || tk.After(at.Add(tt.span)) {
				t.Errorf("span %v: tick %v outside the range", tt.span, tk)
			}
			if i > 0 && tk.Sub(ticks[i-1]) != tt.step {
				t.Errorf("span %v: step %v, want %v", tt.span, tk.Sub(ticks[i-1]), tt.step)
			}
		}
		if tt.step == time.Hour && ticks[0].Minute() != 0 {
			t.Errorf("hourly ticks not on the hour: %v", ticks[0])
		}
	}
}

func TestFoldLines(t *testing.T) {
	var lines []decode.DiffLine
	for i := range 20 {
		lines = append(lines, decode.DiffLine{Op: decode.Same, Text: fmt.Sprint(i)})
	}
	lines[10] = decode.DiffLine{Op: decode.Removed, Text: "old"}
	lines = slices.Insert(lines, 11, decode.DiffLine{Op: decode.Added, Text: "new"})
	var got []string
	for _, r := range foldLines(lines, 2) {
		got = append(got, r.text)
	}
	want := []string{"⋯ 8 unchanged lines", "  8", "  9", "- old", "+ new", "  11", "  12", "⋯ 7 unchanged lines"}
	if !slices.Equal(got, want) {
		t.Errorf("folded %q, want %q", got, want)
	}
}

func payloads(h *history) []string {
	var out []string
	for _, e := range h.ents {
		if e.missed > 0 {
			out = append(out, fmt.Sprintf("(%d missed)", e.missed))
			continue
		}
		out = append(out, string(e.rec.Payload))
	}
	return out
}

func ram(ps ...string) []message.Message {
	var out []message.Message
	for _, p := range ps {
		out = append(out, message.Message{Payload: []byte(p)})
	}
	return out
}

func TestHistoryPrepend(t *testing.T) {
	var h history
	h.reset(ram("3", "2", "1"), 3)
	// Two new messages; RAM now holds the last three.
	if n := h.prepend(ram("5", "4", "3"), 5); n != 2 {
		t.Errorf("added %d rows", n)
	}
	// Nothing new: a read caused by something else adds nothing.
	if n := h.prepend(ram("5", "4", "3"), 5); n != 0 {
		t.Errorf("added %d rows for no new message", n)
	}
	// Six new messages, RAM holds three: three are missing in between.
	h.prepend(ram("11", "10", "9"), 11)
	want := []string{"11", "10", "9", "(3 missed)", "5", "4", "3", "2", "1"}
	if got := payloads(&h); !slices.Equal(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}
	if prev := h.before(h.ents[2]); prev != nil {
		t.Errorf("the message after a gap compares with %q", prev.rec.Payload)
	}
	if prev := h.before(h.ents[4]); string(prev.rec.Payload) != "4" {
		t.Errorf("5 compares with %v", prev)
	}
	ramN, stored, missed := h.counts()
	if ramN != 8 || stored != 0 || missed != 3 {
		t.Errorf("counts %d %d %d", ramN, stored, missed)
	}
}

func TestHistoryTrim(t *testing.T) {
	var h history
	var recs []message.Message
	for i := maxEntries + 5; i > 0; i-- {
		recs = append(recs, message.Message{Payload: []byte(fmt.Sprint(i))})
	}
	h.reset(recs, uint64(len(recs)))
	if !h.trim() || len(h.ents) != maxEntries || string(h.oldest().rec.Payload) != "6" {
		t.Errorf("trimmed to %d rows, oldest %q", len(h.ents), h.oldest().rec.Payload)
	}
	// A marker is never left last.
	h.reset(ram("9", "8"), 2)
	h.ents = append(h.ents, &entry{missed: 4})
	h.trim()
	if got := payloads(&h); !slices.Equal(got, []string{"9", "8"}) {
		t.Errorf("after trim %q", got)
	}
	// Bytes: one huge message stays whatever its size.
	h.reset([]message.Message{{Payload: make([]byte, maxEntryBytes+1)}}, 1)
	if h.trim() || len(h.ents) != 1 {
		t.Error("trim dropped the only message")
	}
}

func TestPreviewAndCopyText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"a": 1,` + "\n" + `  "b": 2}`, `{"a": 1, "b": 2}`},
		{"", "(empty payload)"},
		{"\x00\x01\xfe", "0x0001fe"},
		{strings.Repeat("é", 200), strings.Repeat("é", 80) + "…"},
	} {
		if got := preview([]byte(tt.in)); got != tt.want {
			t.Errorf("preview(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := copyText([]byte("text\n")); got != "text\n" {
		t.Errorf("copyText of text = %q", got)
	}
	if got := sizeText(10 << 20); got != "10 MiB (10,485,760 bytes)" {
		t.Errorf("sizeText = %q", got)
	}
}

// A diff row wider than the pane wraps between words: a number or a value
// is never split over two rows ("28." and "7"), unless it alone is wider
// than the pane.
func TestDiffRowsWrapBetweenWords(t *testing.T) {
	text := `changed  sensors[3].temperature: 27.95 → 28.7 (unit "°C", calibrated-at-2026-12-03T16:34:31Z)`
	for cols := 8; cols <= textCols(text)+1; cols++ {
		rows := wrapRows([]diffRow{{text: text, imp: widget.WarningImportance}}, cols)
		var joined strings.Builder
		var pieces []string
		for _, r := range rows {
			pieces = append(pieces, r.text)
			if textCols(r.text) > cols {
				t.Errorf("cols %d: row %q is wider", cols, r.text)
			}
			if r.imp != widget.WarningImportance {
				t.Errorf("cols %d: a wrapped piece lost its colour", cols)
			}
			joined.WriteString(r.text)
		}
		if joined.String() != text {
			t.Fatalf("cols %d: the rows %q do not make up the row", cols, pieces)
		}
		for _, word := range strings.Fields(text) {
			if textCols(word) > cols {
				continue
			}
			whole := false
			for _, p := range pieces {
				whole = whole || slices.Contains(strings.Fields(p), word)
			}
			if !whole {
				t.Errorf("cols %d: %q is split over rows %q", cols, word, pieces)
			}
		}
	}
}
