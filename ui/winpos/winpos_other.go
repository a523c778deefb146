//go:build !windows && !(darwin && cgo) && !(cgo && (linux || freebsd || openbsd || netbsd) && !wayland && !android)

package winpos

// Wayland gives clients no positions, mobile windows fill the screen, and
// without cgo there is no Xlib or Cocoa to ask.

func get(any) (Rect, bool, error)       { return Rect{}, false, ErrUnsupported }
func screens(any, Rect) ([]Rect, error) { return nil, ErrUnsupported }
func set(any, int, int) error           { return ErrUnsupported }
