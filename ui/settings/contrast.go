package settings

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// Fyne draws low-importance labels (the app's secondary text: counts,
// statuses, hints) and disabled text in its Disabled colour, which is
// meant for disabled backgrounds: #39393a on #171718 in the dark variant
// (1.6:1) and #e3e3e3 on white in the light one (1.3:1), and its
// placeholder grey is 3.5:1 on white. These greys keep the text visibly
// secondary while reaching WCAG's 4.5:1 on the background and on input
// fields (contrast_test.go checks it).
var (
	darkSecondary  = color.NRGBA{R: 0x9a, G: 0x9a, B: 0x9a, A: 0xff} // 6.4:1 on #171718
	lightSecondary = color.NRGBA{R: 0x6b, G: 0x6b, B: 0x6b, A: 0xff} // 5.3:1 on white
	lightHint      = color.NRGBA{R: 0x73, G: 0x73, B: 0x73, A: 0xff} // 4.7:1 on white

	// Fyne's status colours are made for dark backgrounds: on white its
	// green (the Explorer's "Live", "Connected") is 1.5:1, its orange
	// 2.2:1, its red 3.7:1. These darker shades read at 4.5:1 and keep
	// white text on buttons of these colours legible too.
	lightSuccess = color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff} // 5.1:1
	lightWarning = color.NRGBA{R: 0xb2, G: 0x4a, B: 0x00, A: 0xff} // 5.2:1
	lightError   = color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff} // 5.6:1
	// In the dark variant only the red falls short, in input fields
	// (4.4:1 on #202023).
	darkError = color.NRGBA{R: 0xf6, G: 0x68, B: 0x5d, A: 0xff} // 5.5:1 there
)

// legible is the replacement of colour n in variant v, if it has one.
func legible(n fyne.ThemeColorName, v fyne.ThemeVariant) (color.Color, bool) {
	switch n {
	case theme.ColorNameDisabled:
		if v == theme.VariantLight {
			return lightSecondary, true
		}
		return darkSecondary, true
	}
	if v != theme.VariantLight {
		if n == theme.ColorNameError {
			return darkError, true
		}
		return nil, false
	}
	switch n {
	case theme.ColorNamePlaceHolder:
		return lightHint, true
	case theme.ColorNameSuccess:
		return lightSuccess, true
	case theme.ColorNameWarning:
		return lightWarning, true
	case theme.ColorNameError:
		return lightError, true
	}
	return nil, false
}
