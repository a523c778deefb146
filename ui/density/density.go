// Package density draws parts of the window with less padding than the
// app's theme: lists whose rows are one line of small labels (the
// Subscribe panel's messages, the Devices table) always, and the
// Explorer's tree when the user chose the compact tree in Settings.
// Colours, fonts and text sizes stay the app theme's, read at each call,
// so a theme switch applies here too.
//
// A theme override costs memory per override: Fyne parses its fonts
// again for every override and text style it draws (about 6.5 MB each,
// never given back), so an override per table cell or tree row took
// hundreds of megabytes. Overrides here wrap whole lists; single rows and
// cells are drawn tight instead (Tight, Inset), without one.
package density

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// SizeNameTreePadding is a size the app's theme (ui/settings) answers
// with the factor applied to the Explorer tree's padding: 1 for the
// normal tree, Compact for the compact one. A theme that does not know
// the name answers 0, read as 1. Asking the theme rather than holding a
// flag here lets the Settings dialog change the tree with the one
// SetTheme that already refreshes every window.
const SizeNameTreePadding fyne.ThemeSizeName = "iotstudio-tree-padding"

// Compact is the padding factor of dense rows: with the theme's padding a
// one-line row took 39 px, with a quarter of it 27 px.
const Compact float32 = 0.25

// scaled is the app's theme with its padding multiplied by factor(base).
type scaled struct {
	factor func(base fyne.Theme) float32
}

func (scaled) base() fyne.Theme { return fyne.CurrentApp().Settings().Theme() }

func (t scaled) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	return t.base().Color(n, v)
}
func (t scaled) Font(s fyne.TextStyle) fyne.Resource     { return t.base().Font(s) }
func (t scaled) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base().Icon(n) }

func (t scaled) Size(n fyne.ThemeSizeName) float32 {
	b := t.base()
	s := b.Size(n)
	if n == theme.SizeNamePadding || n == theme.SizeNameInnerPadding {
		return s * t.factor(b)
	}
	return s
}

// Dense draws o with a quarter of the theme's padding, always. It is a
// theme override: use it once for a whole list, not for each row.
func Dense(o fyne.CanvasObject) fyne.CanvasObject {
	return container.NewThemeOverride(o, scaled{factor: func(fyne.Theme) float32 { return Compact }})
}

// TreeFactor is the padding factor the app's theme th asks of the
// Explorer's tree (SizeNameTreePadding): 1 or Compact.
func TreeFactor(th fyne.Theme) float32 {
	if f := th.Size(SizeNameTreePadding); f > 0 {
		return f
	}
	return 1
}

// Inset is how far a label given a box may reach past each of its edges
// so that its text sits where a theme with factor times th's inner
// padding would put it: a label pads its text by the inner padding on
// every side and uses no other padding.
func Inset(th fyne.Theme, factor float32) float32 {
	return th.Size(theme.SizeNameInnerPadding) * (1 - factor)
}

// Tight draws a label with Compact times the inner padding around its
// text, as Dense would, by letting the label's own padding reach past the
// box it is given (the padding is transparent). Unlike Dense it is not a
// theme override, so a table can have one in every cell.
type Tight struct {
	widget.BaseWidget
	Label *widget.Label
}

// NewTight draws l tight.
func NewTight(l *widget.Label) *Tight {
	t := &Tight{Label: l}
	t.ExtendBaseWidget(t)
	return t
}

func (t *Tight) CreateRenderer() fyne.WidgetRenderer { return &tightRenderer{t: t} }

type tightRenderer struct{ t *Tight }

func (r *tightRenderer) inset() float32 { return Inset(r.t.Theme(), Compact) }

func (r *tightRenderer) Layout(size fyne.Size) {
	d := r.inset()
	r.t.Label.Move(fyne.NewPos(-d, -d))
	r.t.Label.Resize(size.AddWidthHeight(2*d, 2*d))
}

func (r *tightRenderer) MinSize() fyne.Size {
	d := r.inset()
	m := r.t.Label.MinSize()
	return fyne.NewSize(max(m.Width-2*d, 0), max(m.Height-2*d, 0))
}

func (r *tightRenderer) Refresh() {
	r.Layout(r.t.Size())
	r.t.Label.Refresh()
}

func (r *tightRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.t.Label} }
func (r *tightRenderer) Destroy()                     {}

// DensePadding is the padding Dense draws with now, for code that
// measures rows (scrolling a list by whole rows).
func DensePadding() float32 {
	return scaled{}.base().Size(theme.SizeNamePadding) * Compact
}
