//go:build darwin && cgo

package winpos

/*
#cgo CFLAGS: -x objective-c
#cgo LDFLAGS: -framework Cocoa
#include <stdint.h>
#import <Cocoa/Cocoa.h>

// Cocoa's screen coordinates start at the bottom left of the primary
// screen (the first of [NSScreen screens]) with y going up; this package's
// start at the top left with y going down, as on X11 and Windows. Both
// are in points.
static CGFloat winposPrimaryHeight(void) {
	NSArray *all = [NSScreen screens];
	if ([all count] == 0) return 0;
	return [[all objectAtIndex:0] frame].size.height;
}

// winposGet gives the window's frame (title bar included) and returns
// whether it is shown (not minimized or hidden).
static int winposGet(uintptr_t w, double *x, double *y, double *width, double *height) {
	int shown;
	@autoreleasepool {
		NSWindow *win = (NSWindow *)(void *)w;
		NSRect f = [win frame];
		*x = f.origin.x;
		*y = winposPrimaryHeight() - (f.origin.y + f.size.height);
		*width = f.size.width;
		*height = f.size.height;
		shown = [win isVisible] && ![win isMiniaturized];
	}
	return shown;
}

// winposSet puts the frame's top-left corner at x, y: the corner
// winposGet read, so that the position does not drift by the title bar.
static void winposSet(uintptr_t w, double x, double y) {
	@autoreleasepool {
		NSWindow *win = (NSWindow *)(void *)w;
		[win setFrameTopLeftPoint:NSMakePoint(x, winposPrimaryHeight() - y)];
	}
}

// winposScreens fills xywh with up to max screens' visible frames (without
// the menu bar and the Dock) and returns their number.
static int winposScreens(double *xywh, int max) {
	int n = 0;
	@autoreleasepool {
		CGFloat top = winposPrimaryHeight();
		for (NSScreen *s in [NSScreen screens]) {
			if (n >= max) break;
			NSRect f = [s visibleFrame];
			xywh[4*n] = f.origin.x;
			xywh[4*n+1] = top - (f.origin.y + f.size.height);
			xywh[4*n+2] = f.size.width;
			xywh[4*n+3] = f.size.height;
			n++;
		}
	}
	return n;
}
*/
import "C"

import (
	"math"

	"fyne.io/fyne/v2/driver"
)

func nsWindow(ctx any) (C.uintptr_t, error) {
	var h uintptr
	switch c := ctx.(type) {
	case driver.MacWindowContext:
		h = c.NSWindow
	case *driver.MacWindowContext:
		h = c.NSWindow
	}
	if h == 0 {
		return 0, ErrUnsupported // not shown yet: Fyne creates it in Show
	}
	return C.uintptr_t(h), nil
}

func round(f C.double) int { return int(math.Round(float64(f))) }

func get(ctx any) (r Rect, shown bool, err error) {
	win, err := nsWindow(ctx)
	if err != nil {
		return Rect{}, false, err
	}
	var x, y, w, h C.double
	shown = C.winposGet(win, &x, &y, &w, &h) != 0
	return Rect{round(x), round(y), round(w), round(h)}, shown, nil
}

func set(ctx any, x, y int) error {
	win, err := nsWindow(ctx)
	if err != nil {
		return err
	}
	C.winposSet(win, C.double(x), C.double(y))
	return nil
}

// maxScreens bounds the monitors looked at; more are not plugged into
// one desktop.
const maxScreens = 16

func screens(any, Rect) ([]Rect, error) {
	var buf [4 * maxScreens]C.double
	n := int(C.winposScreens(&buf[0], maxScreens))
	out := make([]Rect, n)
	for i := range out {
		out[i] = Rect{round(buf[4*i]), round(buf[4*i+1]), round(buf[4*i+2]), round(buf[4*i+3])}
	}
	return out, nil
}
