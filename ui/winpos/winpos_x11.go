//go:build cgo && (linux || freebsd || openbsd || netbsd) && !wayland && !android

package winpos

/*
#cgo linux LDFLAGS: -lX11 -lXinerama
#cgo freebsd openbsd netbsd pkg-config: x11 xinerama
#include <stdint.h>
#include <X11/Xlib.h>
#include <X11/extensions/Xinerama.h>

// Each call opens a connection of its own, as GLFW's is not reachable
// through Fyne; the requests are few and only at start and close.
//
// Xlib's default error handler exits the process: a window gone meanwhile
// must be an error returned instead. The handler is process-wide (GLFW's
// connection shares it), so it is set only for the call, on the UI thread
// where GLFW does its own X calls.
static int winposFailed;
static int winposOnError(Display *d, XErrorEvent *e) { winposFailed = 1; return 0; }

// winposGet gives the window's top-left corner in root coordinates and its
// size. The corner is that of the window itself, inside any frame the window
// manager adds: GLFW asks for StaticGravity, under which XMoveWindow places
// that same corner, so a position read here and set by winposSet does not
// drift by the frame's size from one start to the next. shown tells
// whether it is mapped (not minimized or hidden; under a window manager, a
// window just shown may not be yet). It returns 0 on success, 1 without a
// display, 2 on an X error.
static int winposGet(uintptr_t win, int *x, int *y, int *w, int *h, int *shown) {
	Display *d = XOpenDisplay(NULL);
	if (!d) return 1;
	XSync(d, False);
	int (*old)(Display *, XErrorEvent *) = XSetErrorHandler(winposOnError);
	winposFailed = 0;
	int rc = 0;
	XWindowAttributes a;
	Window child;
	if (!XGetWindowAttributes(d, (Window)win, &a) || winposFailed) {
		rc = 2;
	} else if (!XTranslateCoordinates(d, (Window)win, a.root, 0, 0, x, y, &child)) {
		rc = 2;
	} else {
		*w = a.width;
		*h = a.height;
		*shown = a.map_state == IsViewable;
	}
	XSync(d, False);
	if (winposFailed) rc = 2;
	XSetErrorHandler(old);
	XCloseDisplay(d);
	return rc;
}

// winposSet moves the window's top-left corner to x, y (see winposGet).
static int winposSet(uintptr_t win, int x, int y) {
	Display *d = XOpenDisplay(NULL);
	if (!d) return 1;
	XSync(d, False);
	int (*old)(Display *, XErrorEvent *) = XSetErrorHandler(winposOnError);
	winposFailed = 0;
	XMoveWindow(d, (Window)win, x, y);
	XSync(d, False);
	int rc = winposFailed ? 2 : 0;
	XSetErrorHandler(old);
	XCloseDisplay(d);
	return rc;
}

// winposScreens fills xywh with up to max screens (x, y, width, height
// each): the monitors Xinerama reports (RandR keeps it up to date), else
// the whole root window. It returns their number, or -1 without a display.
static int winposScreens(int *xywh, int max) {
	Display *d = XOpenDisplay(NULL);
	if (!d) return -1;
	int n = 0, ev, er;
	if (XineramaQueryExtension(d, &ev, &er) && XineramaIsActive(d)) {
		int count = 0;
		XineramaScreenInfo *s = XineramaQueryScreens(d, &count);
		for (int i = 0; s && i < count && n < max; i++, n++) {
			xywh[4*n] = s[i].x_org;
			xywh[4*n+1] = s[i].y_org;
			xywh[4*n+2] = s[i].width;
			xywh[4*n+3] = s[i].height;
		}
		if (s) XFree(s);
	}
	if (n == 0 && max > 0) {
		Screen *s = DefaultScreenOfDisplay(d);
		xywh[0] = 0;
		xywh[1] = 0;
		xywh[2] = WidthOfScreen(s);
		xywh[3] = HeightOfScreen(s);
		n = 1;
	}
	XCloseDisplay(d);
	return n;
}
*/
import "C"

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2/driver"
)

// x11Window is the X11 window in a RunNative context.
func x11Window(ctx any) (C.uintptr_t, error) {
	var h uintptr
	switch c := ctx.(type) {
	case driver.X11WindowContext:
		h = c.WindowHandle
	case *driver.X11WindowContext:
		h = c.WindowHandle
	}
	if h == 0 {
		// Not shown yet (Fyne creates it in Show), or not an X11 window.
		return 0, ErrUnsupported
	}
	return C.uintptr_t(h), nil
}

func x11Error(rc C.int) error {
	switch rc {
	case 0:
		return nil
	case 1:
		return errors.New("cannot open the X display")
	default:
		return errors.New("the X server refused the request (the window is gone?)")
	}
}

func get(ctx any) (r Rect, shown bool, err error) {
	win, err := x11Window(ctx)
	if err != nil {
		return Rect{}, false, err
	}
	var x, y, w, h, mapped C.int
	if err := x11Error(C.winposGet(win, &x, &y, &w, &h, &mapped)); err != nil {
		return Rect{}, false, err
	}
	return Rect{int(x), int(y), int(w), int(h)}, mapped != 0, nil
}

func set(ctx any, x, y int) error {
	win, err := x11Window(ctx)
	if err != nil {
		return err
	}
	return x11Error(C.winposSet(win, C.int(x), C.int(y)))
}

// maxScreens bounds the monitors looked at; more are not plugged into
// one desktop.
const maxScreens = 16

func screens(any, Rect) ([]Rect, error) {
	var buf [4 * maxScreens]C.int
	n := int(C.winposScreens(&buf[0], maxScreens))
	if n < 0 {
		return nil, fmt.Errorf("listing the screens: %w", x11Error(1))
	}
	out := make([]Rect, n)
	for i := range out {
		out[i] = Rect{int(buf[4*i]), int(buf[4*i+1]), int(buf[4*i+2]), int(buf[4*i+3])}
	}
	return out, nil
}
