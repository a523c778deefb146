package brokerpanel

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/ui/tablefit"
)

// At the default window's width (1100 px less the navigation) the clients
// table fits without a sideways scroll bar, with every heading and the
// Disconnect button whole, in English and in Russian, and every protocol
// name whole.
func TestClientColumnsFitTheDefaultWindow(t *testing.T) {
	test.NewTempApp(t)
	cases := []struct {
		name       string
		titles     [numCols]string
		disconnect string
	}{
		{"English", colTitles, "Disconnect"},
		{"Russian", [numCols]string{"ID клиента", "Адрес", "Протокол", "Подключён с", "Подписки", "В пути / в очереди", ""}, "Отключить"},
	}
	const width = 1100 - 125 // the Russian navigation is the widest
	for _, c := range cases {
		ws := columnWidthsFor(c.titles, c.disconnect, width, theme.Padding())
		total := float32(0)
		for i, w := range ws {
			total += w + theme.Padding()
			if need := tablefit.HeadingWidth(c.titles[i]); w < need {
				t.Errorf("%s: column %q is %.0f px, its heading needs %.0f", c.name, c.titles[i], w, need)
			}
		}
		// A 3.1.1 client's protocol is whole: "MQTT 3…" was all it showed.
		if need := tablefit.TextWidth("MQTT 3.1.1"); ws[colProtocol] < need {
			t.Errorf("%s: the protocol column is %.0f px, MQTT 3.1.1 needs %.0f", c.name, ws[colProtocol], need)
		}
		if need := widget.NewButtonWithIcon(c.disconnect, theme.CancelIcon(), nil).MinSize().Width; ws[colAction] < need {
			t.Errorf("%s: the Disconnect column is %.0f px, the button needs %.0f", c.name, ws[colAction], need)
		}
		if total > width {
			t.Errorf("%s: columns take %.0f px of %d: the table scrolls sideways", c.name, total, width)
		}
	}
}
