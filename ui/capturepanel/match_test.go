package capturepanel

import (
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// A search's match is in view in its row: the preview starts shortly
// before it, and comes before the (long) client ID a broker records.
func TestRowShowsTheSearchedText(t *testing.T) {
	payload := `{"device":"` + strings.Repeat("x", 120) + `","temperature":28.7,"unit":"C"}`
	r := &message.Message{Time: time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC), Topic: "plant/a/climate",
		ClientID: "dcaqb1lqmd2pvadld870", Payload: []byte(payload)}
	row := rowText(r, `"temperature":28.7`)
	i, c := strings.Index(row, `"temperature":28.7`), strings.Index(row, r.ClientID)
	if i < 0 {
		t.Fatalf("row %q does not show the searched text", row)
	}
	// At 1100 px with the results half the width, a row shows about 75
	// characters (measured under Xvfb): the match must end before that.
	if end := len([]rune(row[:i])) + len([]rune(`"temperature":28.7`)); end > 75 || c >= 0 && c < i {
		t.Fatalf("row %q: the match ends at character %d, after the client ID or beyond the 75 a row shows", row, end)
	}
	if !strings.Contains(row, "…") {
		t.Fatalf("row %q does not show that the payload starts earlier", row)
	}
	if plain := rowText(r, ""); !strings.HasPrefix(plain[strings.Index(plain, "{"):], `{"device":"xxx`) {
		t.Fatalf("without a search the preview starts at the payload's start: %q", plain)
	}
}

// The detail shows a payload through the inspector's decoders: JSON
// indented over several lines, and says how it is shown.
func TestDetailDecodesThePayload(t *testing.T) {
	r := &message.Message{Topic: "a", Payload: []byte(`{"t":28.7,"ok":true}`)}
	text, shown := payloadView(r)
	if strings.Count(text, "\n") < 3 || !strings.Contains(text, `  "t": 28.7`) {
		t.Fatalf("payload shown as %q, want indented JSON", text)
	}
	if shown != "Shown as JSON" {
		t.Fatalf("%q, want it to say JSON", shown)
	}
	bin := &message.Message{Topic: "b", Payload: []byte{0, 1, 2, 0xff}}
	if text, shown := payloadView(bin); !strings.Contains(text, "00 01 02 ff") || !strings.Contains(shown, "Hex") {
		t.Fatalf("binary payload shown as %q (%s), want a hex dump", text, shown)
	}
}
