package winpos

import (
	"errors"
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestVisible(t *testing.T) {
	laptop := Rect{0, 0, 1920, 1080}
	// A second monitor to the left of the primary one, lower down:
	// negative x, as both X11 and Windows place it.
	left := Rect{-1280, 200, 1280, 1024}
	for _, c := range []struct {
		name    string
		win     Rect
		screens []Rect
		want    bool
	}{
		{"inside", Rect{100, 100, 1100, 720}, []Rect{laptop}, true},
		{"at the origin", Rect{0, 0, 1100, 720}, []Rect{laptop}, true},
		{"partly off the right edge, most still shown", Rect{1500, 100, 1100, 720}, []Rect{laptop}, true},
		{"a sliver on the right edge", Rect{1910, 100, 1100, 720}, []Rect{laptop}, false},
		{"just the minimum on the right edge", Rect{1920 - 120, 1080 - 60, 1100, 720}, []Rect{laptop}, true},
		{"one pixel short of the minimum", Rect{1920 - 119, 100, 1100, 720}, []Rect{laptop}, false},
		{"above the screen", Rect{100, -700, 1100, 720}, []Rect{laptop}, false},
		{"on an unplugged monitor", Rect{-1200, 300, 1100, 720}, []Rect{laptop}, false},
		{"on the monitor to the left", Rect{-1200, 300, 1100, 720}, []Rect{laptop, left}, true},
		{"in the gap above the left monitor", Rect{-1200, 0, 1100, 150}, []Rect{laptop, left}, false},
		// Across two monitors only the larger part counts.
		{"straddling, enough on one", Rect{-100, 300, 1100, 720}, []Rect{laptop, left}, true},
		{"a small window whole on a screen", Rect{10, 10, 50, 30}, []Rect{laptop}, true},
		{"a small window half off", Rect{1900, 10, 50, 30}, []Rect{laptop}, false},
		{"no screens", Rect{0, 0, 1100, 720}, nil, false},
		{"an empty window", Rect{100, 100, 0, 0}, []Rect{laptop}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Visible(c.win, c.screens); got != c.want {
				t.Errorf("Visible(%v, %v) = %v, want %v", c.win, c.screens, got, c.want)
			}
		})
	}
}

// Fyne's test windows have no native window: the caller is told to
// leave placement alone, not given a made-up position.
func TestWindowsWithoutPositions(t *testing.T) {
	w := test.NewTempWindow(t, nil)
	if r, err := Get(w); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Get = %v, %v; want ErrUnsupported", r, err)
	}
	if err := Move(w, 10, 10); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Move = %v; want ErrUnsupported", err)
	}
}
