// Package winpos reads and sets where a Fyne window is on the desktop,
// which Fyne 2.7's fyne.Window cannot: through the native window that
// driver.NativeWindow hands out (an X11 window, a Win32 HWND, a Cocoa
// NSWindow). The main window uses it to open where it was closed.
//
// Positions are in the desktop's own coordinates, origin at the top left:
// pixels on X11 and Windows, points on macOS. A position read on one
// platform is only meaningful to Move on the same one. Where the platform
// gives no position (Wayland, mobile, Fyne's test driver) the functions
// return ErrUnsupported and the caller leaves placement to the system.
//
// Call the functions on the UI goroutine (inside fyne.Do, a callback, or
// before the app runs): on Windows, moving a window from another thread
// waits for the UI thread to answer.
package winpos

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// Rect is a window's or a screen's rectangle: its top-left corner and
// its size.
type Rect struct{ X, Y, W, H int }

// Empty reports whether r covers nothing.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// intersect is what r and o have in common; empty when they do not meet.
func (r Rect) intersect(o Rect) Rect {
	x0, y0 := max(r.X, o.X), max(r.Y, o.Y)
	x1, y1 := min(r.X+r.W, o.X+o.W), min(r.Y+r.H, o.Y+o.H)
	if x1 <= x0 || y1 <= y0 {
		return Rect{}
	}
	return Rect{x0, y0, x1 - x0, y1 - y0}
}

var (
	// ErrUnsupported: this platform or window gives no position.
	ErrUnsupported = errors.New("the window system does not give windows' positions")
	// ErrOffScreen: the position asked for is on no current screen (the
	// monitor it was on is gone, or the desktop got smaller).
	ErrOffScreen = errors.New("the position is on no screen")
)

// MinVisible is how much of a window must be on one screen for Move to
// put it there: enough to see it and to grab it with the mouse. A window
// smaller than that must be on a screen whole.
var MinVisible = Rect{W: 120, H: 60}

// Visible reports whether the window rectangle win shows enough of itself
// (MinVisible) on one of screens. A window spread over two screens
// counts only its largest part: the user must be able to find it on one.
func Visible(win Rect, screens []Rect) bool {
	if win.Empty() {
		return false
	}
	needW, needH := min(MinVisible.W, win.W), min(MinVisible.H, win.H)
	for _, s := range screens {
		if in := win.intersect(s); in.W >= needW && in.H >= needH {
			return true
		}
	}
	return false
}

// native runs fn with w's native window context, ErrUnsupported when w
// has none (Fyne's test windows).
func native(w fyne.Window, fn func(ctx any) error) error {
	nw, ok := w.(driver.NativeWindow)
	if !ok {
		return ErrUnsupported
	}
	err := ErrUnsupported
	nw.RunNative(func(ctx any) { err = fn(ctx) })
	return err
}

// Get is w's rectangle on the desktop: where Move puts it back. The
// window must be shown; a minimized one has no position worth keeping
// and gives an error.
func Get(w fyne.Window) (Rect, error) {
	var r Rect
	err := native(w, func(ctx any) error {
		var shown bool
		var err error
		r, shown, err = get(ctx)
		if err == nil && !shown {
			err = errors.New("the window is minimized or hidden")
		}
		return err
	})
	if err != nil {
		return Rect{}, fmt.Errorf("reading the window's position: %w", err)
	}
	return r, nil
}

// Move puts w's top-left corner at x, y (a position Get gave), keeping
// its size, if the window would then be Visible on the current screens;
// otherwise it leaves the window where it is and returns ErrOffScreen.
// The window must be shown: Fyne creates the native window in Show.
func Move(w fyne.Window, x, y int) error {
	err := native(w, func(ctx any) error {
		// Not yet mapped is fine: under a window manager, a window just
		// shown may still be on its way.
		cur, _, err := get(ctx)
		if err != nil {
			return err
		}
		to := Rect{x, y, cur.W, cur.H}
		screens, err := screens(ctx, to)
		if err != nil {
			return err
		}
		if !Visible(to, screens) {
			return fmt.Errorf("%w: %dx%d at %d,%d; screens %v", ErrOffScreen, to.W, to.H, x, y, screens)
		}
		return set(ctx, x, y)
	})
	if err != nil {
		return fmt.Errorf("moving the window: %w", err)
	}
	return nil
}
