//go:build windows

package winpos

import (
	"fmt"
	"unsafe"

	"fyne.io/fyne/v2/driver"
	"golang.org/x/sys/windows"
)

// user32's calls, without cgo: the Windows build must cross-compile.
var (
	user32             = windows.NewLazySystemDLL("user32.dll")
	procGetWindowRect  = user32.NewProc("GetWindowRect")
	procSetWindowPos   = user32.NewProc("SetWindowPos")
	procIsIconic       = user32.NewProc("IsIconic")
	procMonitorFromRec = user32.NewProc("MonitorFromRect")
	procGetMonitorInfo = user32.NewProc("GetMonitorInfoW")
)

const (
	swpNoSize          = 0x0001
	swpNoZOrder        = 0x0004
	swpNoActivate      = 0x0010
	monitorDefaultNull = 0
)

type rect struct{ Left, Top, Right, Bottom int32 }

type monitorInfo struct {
	Size    uint32
	Monitor rect
	Work    rect
	Flags   uint32
}

func hwnd(ctx any) (uintptr, error) {
	var h uintptr
	switch c := ctx.(type) {
	case driver.WindowsWindowContext:
		h = c.HWND
	case *driver.WindowsWindowContext:
		h = c.HWND
	}
	if h == 0 {
		return 0, ErrUnsupported // not shown yet: Fyne creates it in Show
	}
	return h, nil
}

// get is the window's outer rectangle, frame included, which SetWindowPos
// places again: read and set alike, a position does not drift by the
// frame's size from one start to the next.
// shown is false for a minimized window, which sits at -32000,-32000.
func get(ctx any) (_ Rect, shown bool, _ error) {
	h, err := hwnd(ctx)
	if err != nil {
		return Rect{}, false, err
	}
	iconic, _, _ := procIsIconic.Call(h)
	var r rect
	if ok, _, err := procGetWindowRect.Call(h, uintptr(unsafe.Pointer(&r))); ok == 0 {
		return Rect{}, false, fmt.Errorf("GetWindowRect: %w", err)
	}
	return Rect{int(r.Left), int(r.Top), int(r.Right - r.Left), int(r.Bottom - r.Top)}, iconic == 0, nil
}

func set(ctx any, x, y int) error {
	h, err := hwnd(ctx)
	if err != nil {
		return err
	}
	if ok, _, err := procSetWindowPos.Call(h, 0, uintptr(int32(x)), uintptr(int32(y)), 0, 0, swpNoSize|swpNoZOrder|swpNoActivate); ok == 0 {
		return fmt.Errorf("SetWindowPos: %w", err)
	}
	return nil
}

// screens is the work area (without the taskbar) of the monitor the
// rectangle around is most on, or none when it is on no monitor.
func screens(_ any, around Rect) ([]Rect, error) {
	r := rect{int32(around.X), int32(around.Y), int32(around.X + around.W), int32(around.Y + around.H)}
	mon, _, _ := procMonitorFromRec.Call(uintptr(unsafe.Pointer(&r)), monitorDefaultNull)
	if mon == 0 {
		return nil, nil
	}
	info := monitorInfo{Size: uint32(unsafe.Sizeof(monitorInfo{}))}
	if ok, _, err := procGetMonitorInfo.Call(mon, uintptr(unsafe.Pointer(&info))); ok == 0 {
		return nil, fmt.Errorf("GetMonitorInfo: %w", err)
	}
	w := info.Work
	return []Rect{{int(w.Left), int(w.Top), int(w.Right - w.Left), int(w.Bottom - w.Top)}}, nil
}
