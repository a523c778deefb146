package localname

import (
	"testing"

	"github.com/iotstudio/iotstudio/ui/translations"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// The built-in connection reads in the window's language and maps back to
// its profile; other names pass through as they are, both ways.
func TestLabelAndNameInEachLanguage(t *testing.T) {
	for _, tc := range []struct {
		lang  translations.Choice
		label string
	}{
		{translations.English, "Local broker"},
		{translations.Russian, "Локальный брокер"},
		{translations.Chinese, "本地代理"},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			uitest.InLanguage(t, tc.lang)
			if got := Label(Profile); got != tc.label {
				t.Errorf("the built-in connection reads %q, want %q", got, tc.label)
			}
			if got := Name(tc.label); got != Profile {
				t.Errorf("%q names %q, want %q", tc.label, got, Profile)
			}
			for _, other := range []string{"Plant mosquitto", "", "local broker"} {
				if Label(other) != other || Name(other) != other {
					t.Errorf("%q reads %q and names %q; want it unchanged", other, Label(other), Name(other))
				}
			}
		})
	}
}
