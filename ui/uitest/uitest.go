// Package uitest holds what the panels' widget tests share: a stand-in for
// fyne.Do that the test goroutine drains, playing the Fyne goroutine, and
// walks over what a window shows. Only tests import it.
package uitest

import (
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// Timeout bounds every wait here: long enough for a loaded 2-core CI
// machine running -race, short enough to fail a stuck test.
const Timeout = 20 * time.Second

// Queue stands in for fyne.Do: background goroutines queue UI updates and
// the test goroutine runs them.
type Queue chan func()

// NewQueue returns a queue with room for the updates a panel sends
// between two looks of the test.
func NewQueue() Queue { return make(Queue, 64) }

// Do queues fn; pass it where a panel takes its fyne.Do.
func (q Queue) Do(fn func()) { q <- fn }

// Run applies the next queued update, failing the test if none arrives.
func (q Queue) Run(t testing.TB) {
	t.Helper()
	select {
	case fn := <-q:
		fn()
	case <-time.After(Timeout):
		t.Fatal("no UI update arrived")
	}
}

// Until applies queued updates until cond holds.
func (q Queue) Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(Timeout)
	for !cond() {
		select {
		case fn := <-q:
			fn()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Drain applies queued updates until none arrives for a short while.
func (q Queue) Drain() {
	for {
		select {
		case fn := <-q:
			fn()
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

// Walk visits o and, through their renderers, everything visible inside
// it; where visit returns false it does not look inside that object.
func Walk(o fyne.CanvasObject, visit func(fyne.CanvasObject) bool) {
	if o == nil || !o.Visible() || !visit(o) {
		return
	}
	switch c := o.(type) {
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(c).Objects() {
			Walk(child, visit)
		}
	case *fyne.Container:
		for _, child := range c.Objects {
			Walk(child, visit)
		}
	}
}

// All returns the visible objects of type T under o that match.
func All[T fyne.CanvasObject](o fyne.CanvasObject, match func(T) bool) []T {
	var out []T
	Walk(o, func(c fyne.CanvasObject) bool {
		if x, ok := c.(T); ok && (match == nil || match(x)) {
			out = append(out, x)
		}
		return true
	})
	return out
}

// Buttons returns the visible buttons under o labelled text.
func Buttons(o fyne.CanvasObject, text string) []*widget.Button {
	return All(o, func(b *widget.Button) bool { return b.Text == text })
}

// Labels returns the text of every visible label under o, in order.
func Labels(o fyne.CanvasObject) []string {
	var out []string
	for _, l := range All[*widget.Label](o, nil) {
		out = append(out, l.Text)
	}
	return out
}

// OverlayButton is the one button labelled text in the topmost dialog.
func OverlayButton(t testing.TB, w fyne.Window, text string) *widget.Button {
	t.Helper()
	top := w.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open; wanted one with a %q button", text)
	}
	bs := Buttons(top, text)
	if len(bs) != 1 {
		t.Fatalf("topmost dialog has %d %q buttons, want 1", len(bs), text)
	}
	return bs[0]
}

// First is the first visible object of type T under o (depth first, in
// the order drawn) that matches; the test fails, naming what, if there is
// none. A nil match takes any T.
func First[T fyne.CanvasObject](t testing.TB, o fyne.CanvasObject, what string, match func(T) bool) T {
	t.Helper()
	all := All(o, match)
	if len(all) == 0 {
		var zero T
		t.Fatalf("no %s shown", what)
		return zero
	}
	return all[0]
}

// Relayout lays w out again, as a window on screen does after a change of
// minimum size; the test canvas does only when resized.
func Relayout(w fyne.Window) {
	s := w.Canvas().Size()
	w.Resize(s.AddWidthHeight(1, 0))
	w.Resize(s)
}

// AbsPos is where o is drawn in its window.
func AbsPos(o fyne.CanvasObject) fyne.Position {
	return fyne.CurrentApp().Driver().AbsolutePositionForObject(o)
}
