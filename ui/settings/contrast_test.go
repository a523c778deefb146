package settings

import (
	"fmt"
	"image/color"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// luminance is WCAG 2's relative luminance of an opaque colour.
func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		s := float64(v) / 0xffff
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// Secondary text (low-importance labels, drawn in the Disabled colour)
// and status text read at WCAG's 4.5:1 and placeholders at 3:1, on the
// window and on input fields, in both variants.
func TestSecondaryTextIsLegible(t *testing.T) {
	th := NewTheme(Default())
	for _, v := range []fyne.ThemeVariant{theme.VariantLight, theme.VariantDark} {
		for _, bg := range []fyne.ThemeColorName{theme.ColorNameBackground, theme.ColorNameInputBackground} {
			for _, c := range []struct {
				name fyne.ThemeColorName
				min  float64
			}{
				{theme.ColorNameDisabled, 4.5}, {theme.ColorNamePlaceHolder, 3}, {theme.ColorNameForeground, 4.5},
				// Status text: "Live", "Connected", warnings, errors.
				{theme.ColorNameSuccess, 4.5}, {theme.ColorNameWarning, 4.5}, {theme.ColorNameError, 4.5},
			} {
				t.Run(fmt.Sprintf("%s on %s variant %d", c.name, bg, v), func(t *testing.T) {
					if r := contrast(th.Color(c.name, v), th.Color(bg, v)); r < c.min {
						t.Errorf("contrast %.2f:1, want at least %.1f:1", r, c.min)
					}
				})
			}
		}
	}
}
