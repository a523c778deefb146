package window

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/iotstudio/iotstudio/ui/settings"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// Keys of the window's layout in the app's preferences, beside the
// Settings dialog's (ui/settings).
const (
	keyWidth  = "window.width"
	keyHeight = "window.height"
	keySplit  = "window.explorerSplit"
	keyPanel  = "window.panel"
)

// minRestored is the smallest size restored: a size saved from a window
// squeezed to nothing would start the app unusable.
var minRestored = fyne.NewSize(640, 400)

// windowSettings opens the Settings dialog and keeps the window's layout
// across starts: its size, the Explorer's tree/inspector split and the
// panel shown. Fyne 2.7 can neither read nor set a window's position,
// so where the window opens is left to the window manager.
type windowSettings struct {
	app   fyne.App
	win   fyne.Window
	split *container.Split // the Explorer's; nil without the inspector
	// metrics is the window's Prometheus endpoint, switched in Settings.
	metrics *metricsEndpoint
}

// rememberLayout restores the layout saved by the last start's save.
// Call it when every panel is in the window, before it is shown.
func rememberLayout(a fyne.App, win fyne.Window, split *container.Split) *windowSettings {
	s := &windowSettings{app: a, win: win, split: split}
	s.restore()
	// Ctrl+, (Cmd+, on macOS) opens Settings, as in most desktop apps.
	win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault},
		func(fyne.Shortcut) { s.show() })
	return s
}

func (s *windowSettings) restore() {
	p := s.app.Preferences()
	if w, h := float32(p.Float(keyWidth)), float32(p.Float(keyHeight)); w >= minRestored.Width && h >= minRestored.Height {
		s.win.Resize(fyne.NewSize(w, h))
	}
	// The extremes would hide the tree or the inspector entirely.
	if off := p.Float(keySplit); s.split != nil && off >= 0.1 && off <= 0.9 {
		s.split.SetOffset(off)
	}
	if title := p.String(keyPanel); title != "" {
		if tabs, ok := shell.Tabs(s.win); ok {
			for _, it := range tabs.Items {
				if it.Text == title {
					tabs.Select(it)
				}
			}
		}
	}
}

// save keeps the layout for the next start. Call it when the window
// closes, on the UI goroutine or after the app's loop ended.
func (s *windowSettings) save() {
	p := s.app.Preferences()
	if size := s.win.Canvas().Size(); size.Width >= minRestored.Width && size.Height >= minRestored.Height {
		p.SetFloat(keyWidth, float64(size.Width))
		p.SetFloat(keyHeight, float64(size.Height))
	}
	if s.split != nil {
		p.SetFloat(keySplit, s.split.Offset)
	}
	if tabs, ok := shell.Tabs(s.win); ok && tabs.Selected() != nil {
		p.SetString(keyPanel, tabs.Selected().Text)
	}
}

func (s *windowSettings) show() *settings.Dialog {
	var opts settings.Options
	if s.metrics != nil {
		opts.Metrics = s.metrics.control()
	}
	return settings.Show(s.app, s.win, opts)
}

// ShowSettings opens the Settings dialog (theme, tree density, text
// size), for the main menu and the Ctrl+, shortcut.
func (w *Window) ShowSettings() { w.settings.show() }
