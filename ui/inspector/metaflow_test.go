package inspector

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Each "Key value" stays on one line, whole fields move to the next row,
// and a value wider than the view wraps in a row of its own without
// widening the inspector.
func TestMetadataFieldsWrapWhole(t *testing.T) {
	test.NewTempApp(t)
	v := newMetaView()
	long := strings.Repeat("unit=C, ", 40)
	v.set([]field{{"Time", "2026-12-03 16:34:31.686"}, {"Size", "83 bytes"}, {"QoS", "1"}, {"Retain", "yes"},
		{"Client ID", "plc-line-3"}, {"Protocol", "MQTT 3.1.1"}, {"User properties", long}})
	w := test.NewTempWindow(t, v.box)
	const width = 320
	w.Resize(fyne.NewSize(width, 400))
	v.box.Resize(fyne.NewSize(width, v.box.MinSize().Height))

	if mw := v.box.MinSize().Width; mw > width {
		t.Errorf("min width %v: a long value widens the inspector", mw)
	}
	lineH := widget.NewRichTextWithText("QoS 1").MinSize().Height
	rows := map[float32]bool{}
	for i, o := range v.box.Objects {
		f := v.fields[i]
		pos, size := o.Position(), o.Size()
		if pos.X+size.Width > width+1 {
			t.Errorf("%s ends at x=%v, past the view's %v", f.key, pos.X+size.Width, width)
		}
		rows[pos.Y] = true
		if f.key != "User properties" && size.Height > lineH+1 {
			t.Errorf("%s is %v high (a line is %v): split over lines", f.key, size.Height, lineH)
		}
		// Rows may share their padding, never their text: fields on
		// one row do not overlap, and a later row starts at least a
		// line's text below the previous one.
		for j, other := range v.box.Objects[:i] {
			op, os := other.Position(), other.Size()
			sameRow := op.Y == pos.Y
			if sameRow && pos.X < op.X+os.Width && op.X < pos.X+size.Width {
				t.Errorf("%s overlaps %s", f.key, v.fields[j].key)
			}
			if !sameRow && pos.Y < op.Y+os.Height-2*theme.InnerPadding() {
				t.Errorf("%s (y=%v) starts inside the text of %s (y=%v, %v high)", f.key, pos.Y, v.fields[j].key, op.Y, os.Height)
			}
		}
	}
	if len(rows) < 3 {
		t.Errorf("fields on %d rows at width %v; want them to flow onto several", len(rows), width)
	}
	props := v.box.Objects[len(v.box.Objects)-1]
	if props.Size().Height < 2*lineH {
		t.Errorf("the long user properties are %v high: not wrapped", props.Size().Height)
	}
	if got := v.box.MinSize().Height; got < props.Position().Y+props.Size().Height {
		t.Errorf("min height %v cuts the last field (ends at %v)", got, props.Position().Y+props.Size().Height)
	}
}
