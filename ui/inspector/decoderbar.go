package inspector

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/numfmt"
)

// barLayout lays out the decoder row: the controls (the word Decoder, the
// picker, Text/Tree) at their natural width, and the status ("5 lines")
// right of them when it fits there, else on a row of its own under them.
// In Russian the controls took all but 40 px of the inspector at
// 1100 × 720 and the status was cut to "5 …".
//
// Whether the status fits is decided for the widest status a decode
// usually gives (Decoding…, a five-digit line count), not for the one
// shown, so that the payload below does not move by a row each time a
// live topic's newest message is decoded; only a longer status (a
// base64 payload's inner format) can take the second row.
type barLayout struct {
	owner    *fyne.Container
	status   *widget.Label
	reserved float32 // the status width kept; measured once, at textSize
	textSize float32
	height   float32 // of the last layout
}

func newBar(controls fyne.CanvasObject, status *widget.Label) *fyne.Container {
	l := &barLayout{status: status}
	l.owner = &fyne.Container{Layout: l, Objects: []fyne.CanvasObject{controls, status}}
	return l.owner
}

// statusWidth is the width status needs to show text whole.
func statusWidth(text string) float32 {
	if text == "" {
		return 0
	}
	return fyne.MeasureText(text, theme.TextSize(), fyne.TextStyle{}).Width + 2*theme.InnerPadding()
}

func (l *barLayout) keep() float32 {
	if ts := theme.TextSize(); ts != l.textSize {
		l.reserved = max(statusWidth(lang.L(hintLoading)), statusWidth(lang.L("Decoding…")),
			statusWidth(numfmt.Plural(88888, "line", "lines")))
		l.textSize = ts
	}
	return l.reserved
}

func (l *barLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	controls := objs[0]
	cm, sm := controls.MinSize(), l.status.MinSize()
	pad := theme.Padding()
	var h float32
	if need := max(l.keep(), statusWidth(l.status.Text)); cm.Width+pad+need <= size.Width {
		h = max(cm.Height, sm.Height)
		controls.Move(fyne.NewPos(0, (h-cm.Height)/2))
		controls.Resize(fyne.NewSize(cm.Width, cm.Height))
		l.status.Move(fyne.NewPos(cm.Width+pad, (h-sm.Height)/2))
		l.status.Resize(fyne.NewSize(size.Width-cm.Width-pad, sm.Height))
	} else {
		h = cm.Height + sm.Height
		controls.Move(fyne.NewPos(0, 0))
		controls.Resize(fyne.NewSize(min(cm.Width, size.Width), cm.Height))
		l.status.Move(fyne.NewPos(0, cm.Height))
		l.status.Resize(fyne.NewSize(size.Width, sm.Height))
	}
	if h != l.height {
		l.height = h
		// The height depends on the width: the parents lay out again
		// with the new minimum (see flowLayout).
		if l.owner != nil {
			l.owner.Refresh()
		}
	}
}

// MinSize is the controls' width (the status can go under them) and the
// height of the last layout, one row before the first.
func (l *barLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	cm, sm := objs[0].MinSize(), l.status.MinSize()
	h := l.height
	if h == 0 {
		h = max(cm.Height, sm.Height)
	}
	return fyne.NewSize(cm.Width, h)
}

// setStatus shows text in the decoder row's status; the row lays out
// again, since a longer text may need the row under the controls.
func (in *Inspector) setStatus(text string) {
	if in.status.Text == text {
		return
	}
	in.status.SetText(text)
	in.bar.Refresh()
}

// historyRow lays out a history row: the stamp at its natural width, the
// payload's preview in the rest. A preview with room for less than a few
// characters is hidden: in a narrow list it showed only its ellipsis, a
// column of "…" that says nothing.
type historyRow struct{}

// minPreview is the least width a preview is shown in, in characters.
const minPreview = 6

func (historyRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	what, when := objs[0], objs[1]
	wm := when.MinSize()
	when.Move(fyne.NewPos(0, (size.Height-wm.Height)/2))
	when.Resize(fyne.NewSize(wm.Width, wm.Height))
	x := wm.Width + theme.Padding()
	rest := size.Width - x
	if rest < fyne.MeasureText(strings.Repeat("m", minPreview), theme.TextSize(), fyne.TextStyle{}).Width {
		if what.Visible() {
			what.Hide()
		}
		return
	}
	if !what.Visible() {
		what.Show()
	}
	wh := what.MinSize().Height
	what.Move(fyne.NewPos(x, (size.Height-wh)/2))
	what.Resize(fyne.NewSize(rest, wh))
}

// MinSize is the stamp's: the preview is cut to fit, or hidden.
func (historyRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	wm, hm := objs[1].MinSize(), objs[0].MinSize()
	return fyne.NewSize(wm.Width, max(wm.Height, hm.Height))
}
