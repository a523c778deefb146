package assets

import (
	"bytes"
	"strings"
	"testing"
)

// What About shows must be the generated notice (naming the broker's
// licence) and the icon a real PNG, not an empty embed.
func TestEmbeddedFilesAreTheRealOnes(t *testing.T) {
	if !strings.Contains(Notice, "github.com/mochi-mqtt/server/v2") || !strings.Contains(Notice, "licence is not chosen yet") {
		t.Fatalf("Notice does not look like the generated NOTICE: %.200q", Notice)
	}
	if !bytes.HasPrefix(Icon, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("Icon is not a PNG (%d bytes)", len(Icon))
	}
}
