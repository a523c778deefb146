package tablefit

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

// A cell as wide as TextWidth says shows its text whole, though it
// truncates with an ellipsis as table cells do.
func TestTextWidthShowsATruncatingCellWhole(t *testing.T) {
	test.NewTempApp(t)
	for _, s := range []string{"Подключено", "Connection state", "已连接"} {
		l := widget.NewLabel(s)
		l.Truncation = fyne.TextTruncateEllipsis
		test.NewTempWindow(t, l)
		l.Resize(fyne.NewSize(TextWidth(s), l.MinSize().Height))
		l.Refresh()
		for _, o := range test.LaidOutObjects(l) {
			if tx, ok := o.(*canvas.Text); ok && tx.Text != s {
				t.Errorf("a cell %.1f px wide shows %q for %q", TextWidth(s), tx.Text, s)
			}
		}
	}
}
