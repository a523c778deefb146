package uitest

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// Walk reaches widgets inside containers and other widgets' renderers,
// skips hidden ones, and does not look inside an object visit declines.
func TestWalkAndFinders(t *testing.T) {
	test.NewTempApp(t)
	hidden := widget.NewLabel("hidden")
	hidden.Hide()
	inner := container.NewVBox(widget.NewLabel("inner"), widget.NewButton("Go", nil))
	root := container.NewVBox(widget.NewLabel("top"), hidden, inner, widget.NewCard("", "", widget.NewLabel("in a card")))

	if got := Labels(root); !slices.Equal(got, []string{"top", "inner", "in a card"}) {
		t.Errorf("labels %q", got)
	}
	if bs := Buttons(root, "Go"); len(bs) != 1 {
		t.Errorf("%d Go buttons", len(bs))
	}
	var seen []string
	Walk(root, func(o fyne.CanvasObject) bool {
		if l, ok := o.(*widget.Label); ok {
			seen = append(seen, l.Text)
		}
		return o != fyne.CanvasObject(inner)
	})
	if slices.Contains(seen, "inner") || !slices.Contains(seen, "in a card") {
		t.Errorf("declining inner still walked into it, or stopped the walk: %q", seen)
	}
	if got := First(t, root, "a label", func(l *widget.Label) bool { return l.Text != "top" }); got.Text != "inner" {
		t.Errorf("First found %q", got.Text)
	}
}

// Until runs queued updates on the calling goroutine until the condition
// holds.
func TestQueueUntil(t *testing.T) {
	q := NewQueue()
	n := 0
	go func() {
		for range 3 {
			q.Do(func() { n++ })
			time.Sleep(time.Millisecond)
		}
	}()
	q.Until(t, "three updates", func() bool { return n == 3 })
}
