package inspector

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/topics"
)

// A frozen history holds still, as MQTTX's message list can: new messages
// neither move the list nor change the message shown, a counter says how
// many arrived, and following again lists them.
func TestHistoryFreezesAndFollows(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	for i := range 40 {
		h.feed(rec("plant/t", fmt.Sprintf(`{"v":%d}`, i), i))
	}
	h.show("plant/t")
	in := h.in
	// The newest is shown, as when following: freezing must keep it.
	shown := in.st.shown()
	in.histList.ScrollToOffset(200)
	offset := in.histList.GetScrollOffset()
	if offset == 0 {
		t.Fatal("the history did not scroll")
	}

	test.Tap(in.freezeBtn)
	if in.freezeBtn.Text != "Follow" {
		t.Fatalf("the freeze button says %q once tapped", in.freezeBtn.Text)
	}
	for i := 40; i < 43; i++ {
		h.feed(rec("plant/t", fmt.Sprintf(`{"v":%d}`, i), i))
	}
	h.q.until(t, "the count of messages held back", func() bool {
		return strings.Contains(in.histStatus.Text, "3 new messages")
	})
	if n := len(in.st.h.ents); n != 40 {
		t.Errorf("frozen, the history lists %d messages, want 40", n)
	}
	if in.st.shown() != shown {
		t.Errorf("frozen, the shown message changed to %q", in.st.shown().rec.Payload)
	}
	if got := in.histList.GetScrollOffset(); got != offset {
		t.Errorf("frozen, the list scrolled from %v to %v", offset, got)
	}

	test.Tap(in.freezeBtn)
	if in.freezeBtn.Text != "Freeze" {
		t.Fatalf("the freeze button says %q once tapped again", in.freezeBtn.Text)
	}
	if n := len(in.st.h.ents); n != 43 {
		t.Errorf("following again, the history lists %d messages, want 43", n)
	}
	if got := string(in.st.shown().rec.Payload); got != `{"v":42}` {
		t.Errorf("following again shows %s, want the newest", got)
	}
	if strings.Contains(in.histStatus.Text, "new messages") {
		t.Errorf("following again, the status still says %q", in.histStatus.Text)
	}
}
