package inspector

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// metaView shows the metadata fields side by side, each "Key value" kept
// on one line and wrapped to the next row as a whole. One wrapping
// paragraph (Fyne wraps at any space) split fields in two: "Size 83" at the
// end of one line and "bytes" at the start of the next.
type metaView struct {
	box    *fyne.Container
	flow   *flowLayout
	fields []field // what is shown, for tests and String
}

func newMetaView() *metaView {
	v := &metaView{flow: &flowLayout{}}
	v.box = container.New(v.flow)
	v.flow.owner = v.box
	return v
}

// set shows fs; a field wider than the view wraps inside its own row.
func (v *metaView) set(fs []field) {
	v.fields = fs
	objs := make([]fyne.CanvasObject, len(fs))
	for i, f := range fs {
		t := widget.NewRichText(
			&widget.TextSegment{Style: widget.RichTextStyleStrong, Text: f.key + " "},
			&widget.TextSegment{Style: widget.RichTextStyleInline, Text: f.value})
		objs[i] = t
	}
	v.flow.reset()
	v.box.Objects = objs
	v.box.Refresh()
}

// String is the fields as one line, "Key value" joined by two spaces.
func (v *metaView) String() string {
	parts := make([]string, len(v.fields))
	for i, f := range v.fields {
		parts[i] = f.key + " " + f.value
	}
	return strings.Join(parts, "  ")
}

// flowLayout places rich texts left to right at their natural width and
// starts a new row when the next does not fit. One wider than the row gets
// the row to itself and wraps. Its height depends on the width it was last
// laid out at, so a change of height refreshes the owner, which makes the
// parents lay out again with the new minimum size.
type flowLayout struct {
	owner   *fyne.Container
	natural map[fyne.CanvasObject]float32 // width before any wrapping
	height  float32
}

func (f *flowLayout) reset() {
	f.natural = nil
	f.height = 0
}

func (f *flowLayout) naturalWidth(o fyne.CanvasObject) float32 {
	if f.natural == nil {
		f.natural = map[fyne.CanvasObject]float32{}
	}
	w, ok := f.natural[o]
	if !ok {
		w = o.MinSize().Width
		f.natural[o] = w
	}
	return w
}

func (f *flowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	var x, y, rowH float32
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		w := f.naturalWidth(o)
		if t, ok := o.(*widget.RichText); ok {
			if w > size.Width {
				t.Wrapping = fyne.TextWrapWord
				w = size.Width
			} else {
				t.Wrapping = fyne.TextWrapOff
			}
		}
		if x > 0 && x+w > size.Width {
			x, y, rowH = 0, y+rowH-rowOverlap(), 0
		}
		o.Resize(fyne.NewSize(w, o.MinSize().Height))
		h := o.MinSize().Height
		o.Resize(fyne.NewSize(w, h))
		o.Move(fyne.NewPos(x, y))
		x += w + pad
		rowH = max(rowH, h)
	}
	if h := y + rowH; h != f.height {
		f.height = h
		if f.owner != nil {
			f.owner.Refresh()
		}
	}
}

// rowOverlap lets a row's padding overlap the previous row's: each rich
// text pads its line above and below, and two paddings between lines of
// metadata read as blank lines.
func rowOverlap() float32 { return theme.InnerPadding() }

// MinSize is the height of the last layout (one row before the first);
// the width is that of the narrowest field, so long values never widen the
// inspector: they wrap instead.
func (f *flowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var minW, rowH float32
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		m := o.MinSize()
		if minW == 0 || m.Width < minW {
			minW = m.Width
		}
		rowH = max(rowH, m.Height)
	}
	h := f.height
	if h == 0 {
		h = rowH
	}
	return fyne.NewSize(minW, h)
}
