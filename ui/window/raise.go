package window

import "fyne.io/fyne/v2"

// Raise brings the window forward, for a second start of the app on the
// same data dir. Safe to call from any goroutine.
func (w *Window) Raise() {
	fyne.Do(func() {
		w.win.Show()
		w.win.RequestFocus()
	})
}
