package window

import (
	"context"
	"errors"
	"log/slog"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/iotstudio/iotstudio/ui/settings"
	"github.com/iotstudio/iotstudio/ui/shell"
	"github.com/iotstudio/iotstudio/ui/winpos"
)

// Keys of the window's layout in the app's preferences, beside the
// Settings dialog's (ui/settings).
const (
	keyWidth  = "window.width"
	keyHeight = "window.height"
	keySplit  = "window.explorerSplit"
	keyPanel  = "window.panel"
	// Where the window was, in the desktop's coordinates (ui/winpos).
	keyX = "window.x"
	keyY = "window.y"
)

// noPosition is what reading an unsaved position gives.
const noPosition = math.MinInt

// minRestored is the smallest size restored: a size saved from a window
// squeezed to nothing would start the app unusable.
var minRestored = fyne.NewSize(640, 400)

// windowSettings opens the Settings dialog and keeps the window's layout
// across starts: its size, its position, the Explorer's tree/inspector
// split and the panel shown. Fyne 2.7's windows have no position, so
// ui/winpos reads and sets it on the native window (X11, Windows, macOS);
// where it cannot (Wayland), or where the saved place is on no screen
// now (a monitor unplugged), the window manager places the window.
type windowSettings struct {
	app   fyne.App
	win   fyne.Window
	split *container.Split // the Explorer's; nil without the inspector
	log   *slog.Logger
	// metrics is the window's Prometheus endpoint, switched in Settings.
	metrics *metricsEndpoint
	// pos is where the window was when it closed or last lost the focus,
	// read then because save runs after the native window is gone; known
	// is false until it was read.
	pos   winpos.Rect
	known bool
}

// rememberLayout restores the layout saved by the last start's save.
// Call it when every panel is in the window, before it is shown.
func rememberLayout(a fyne.App, win fyne.Window, split *container.Split) *windowSettings {
	s := &windowSettings{app: a, win: win, split: split, log: slog.Default()}
	s.restore()
	// The position is read while the native window exists: closing the
	// window (its close button, File > Quit, Ctrl+Q) runs OnClosed first.
	// A signal makes Fyne quit without closing the window (its own
	// handler races Window.Quit), but its Quit runs OnExitedForeground
	// first when the window has the focus; and the window loses the focus
	// after being moved, which reads the position too.
	win.SetOnClosed(s.keepPosition)
	a.Lifecycle().SetOnExitedForeground(s.keepPosition)
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

// place moves the window to where it was when it last closed. Call it
// right after Show: Fyne creates the native window there, so before it
// there is nothing to move.
func (s *windowSettings) place() {
	p := s.app.Preferences()
	x, y := p.IntWithFallback(keyX, noPosition), p.IntWithFallback(keyY, noPosition)
	if x == noPosition || y == noPosition {
		return // a first start: the window manager places it
	}
	if err := winpos.Move(s.win, x, y); err != nil {
		level := slog.LevelInfo
		if errors.Is(err, winpos.ErrUnsupported) {
			level = slog.LevelDebug // Wayland: nothing to say every start
		}
		s.log.Log(context.Background(), level, "the window opens where the system puts it, not where it was", "x", x, "y", y, "error", err)
	}
}

// keepPosition reads where the window is, for save. A minimized window
// or a system without positions leaves the last saved one.
func (s *windowSettings) keepPosition() {
	r, err := winpos.Get(s.win)
	if err != nil {
		s.log.Debug("the window's position is not kept", "error", err)
		return
	}
	s.pos, s.known = r, true
}

// batcher is what the app's preferences offer (app's keepPreferences):
// several changes saved in one write.
type batcher interface{ Batch(func()) }

// save keeps the layout for the next start. Call it when the window
// closes, on the UI goroutine or after the app's loop ended.
func (s *windowSettings) save() {
	// In one write: saved one by one, the values could be set back by
	// Fyne reloading the file between two writes (x saved, y not yet).
	if b, ok := s.app.Preferences().(batcher); ok {
		b.Batch(s.saveValues)
		return
	}
	s.saveValues()
}

func (s *windowSettings) saveValues() {
	p := s.app.Preferences()
	if size := s.win.Canvas().Size(); size.Width >= minRestored.Width && size.Height >= minRestored.Height {
		p.SetFloat(keyWidth, float64(size.Width))
		p.SetFloat(keyHeight, float64(size.Height))
	}
	if s.known {
		p.SetInt(keyX, s.pos.X)
		p.SetInt(keyY, s.pos.Y)
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
