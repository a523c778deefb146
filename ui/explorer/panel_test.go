package explorer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
	"github.com/iotstudio/iotstudio/engine/topics"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

func TestTreeShowsPublishedMessagesLazily(t *testing.T) {
	h := newHarness(t)
	for _, v := range []string{"21.5", "21.6", "21.7"} {
		h.pub(t, "home/kitchen/temperature", v, false)
	}
	h.pub(t, "home/kitchen/humidity", "40", false)
	h.pub(t, "home/hall/temperature", `{"t": 20.5,
  "unit": "C"}`, false)

	root := h.root(t)
	h.q.Until(t, "the broker's root row", func() bool { return h.shownRow(root) != nil })
	if got := h.shownRow(root).name.Text; got != "Local broker" {
		t.Errorf("root row is named %q, want the source, %q", got, "Local broker")
	}
	// Nothing below the root was read before it was opened.
	if _, ok := h.p.kids[root]; ok {
		t.Error("the root's children were loaded before the root was opened")
	}

	h.open(t, "home", "home/kitchen")
	kitchen, hall := h.id(t, "home/kitchen"), h.id(t, "home/hall")
	temp := h.id(t, "home/kitchen/temperature")
	r := h.shownRow(temp)
	if r == nil {
		t.Fatalf("no row for home/kitchen/temperature; rows shown: %v", h.shownNames())
	}
	if r.name.Text != "temperature" || r.value.Text != "21.7" || r.counts.Text != "3 msgs" {
		t.Errorf("temperature row = %q %q %q, want the name, the last value 21.7 and 3 msgs", r.name.Text, r.value.Text, r.counts.Text)
	}
	if got := h.shownRow(kitchen).counts.Text; got != "2 children · 4 msgs" {
		t.Errorf("kitchen counts = %q, want its 2 children and 4 messages below it", got)
	}
	if got := h.shownRow(hall).counts.Text; got != "1 child · 1 msg" {
		t.Errorf("hall counts = %q", got)
	}
	// Lazily built: hall is shown (a child of the open home) but closed,
	// so its children were never read.
	if _, ok := h.p.kids[hall]; ok {
		t.Error("the children of the closed branch home/hall were loaded")
	}
	if want := []string{"Local broker", "home", "hall", "kitchen", "humidity", "temperature"}; !slices.Equal(h.shownNames(), want) {
		t.Errorf("rows shown = %v, want %v (sorted, open branches expanded)", h.shownNames(), want)
	}

	h.open(t, "home/hall")
	ht := h.shownRow(h.id(t, "home/hall/temperature"))
	if ht == nil || ht.value.Text != `{"t": 20.5, "unit": "C"}` {
		t.Errorf("hall temperature preview = %v, want the JSON on one line", ht)
	}
}

func TestChangedRowsUpdateInPlaceAndLightUp(t *testing.T) {
	h := newHarness(t)
	h.pub(t, "plant/line1/speed", "10", false)
	h.pub(t, "plant/line1/state", "RUN", false)
	h.open(t, "plant", "plant/line1")
	speed, state := h.id(t, "plant/line1/speed"), h.id(t, "plant/line1/state")
	h.clock.Add(2 * highlightFor) // forget the highlights of the first messages
	h.ticks(t, 2)
	if g := h.shownRow(speed).glow; g != 0 {
		t.Fatalf("speed row still glows %v long after its last change", g)
	}

	relayouts := 0
	before := h.shownRow(speed)
	onApplied := h.p.onApplied
	h.p.onApplied = func(tick bool, start time.Time, took time.Duration) {
		if u := h.p.lastUpdate; u != nil && (u.reset || len(u.kids) > 0) {
			relayouts++
		}
		if onApplied != nil {
			onApplied(tick, start, took)
		}
	}
	h.pub(t, "plant/line1/speed", "11", false)
	h.q.Until(t, "the new speed", func() bool { return h.shownRow(speed).value.Text == "11" })
	r := h.shownRow(speed)
	if r != before {
		t.Error("the speed row was rebuilt; a new value must update the row in place")
	}
	if relayouts != 0 {
		t.Errorf("%d updates re-read child lists for a value change", relayouts)
	}
	if r.glow != 1 || r.bg.FillColor == nil || r.bg.FillColor == glowColor(0) {
		t.Errorf("the changed row glows %v, want fully lit", r.glow)
	}
	if g := h.shownRow(state).glow; g != 0 {
		t.Errorf("the unchanged state row glows %v", g)
	}
	// The ancestors' counts changed, but they received no message.
	line1 := h.shownRow(h.id(t, "plant/line1"))
	if line1.glow != 0 || line1.counts.Text != "2 children · 3 msgs" {
		t.Errorf("line1 glows %v with counts %q; want no glow and 3 msgs", line1.glow, line1.counts.Text)
	}
	if r.counts.Text != "2 msgs" {
		t.Errorf("speed counts = %q after a second message", r.counts.Text)
	}

	h.clock.Add(highlightFor / 2)
	h.ticks(t, 1)
	if g := h.shownRow(speed).glow; g <= 0 || g >= 1 {
		t.Errorf("halfway through, the highlight is %v, want it fading", g)
	}
	h.clock.Add(highlightFor)
	h.ticks(t, 1)
	if g := h.shownRow(speed).glow; g != 0 {
		t.Errorf("after the highlight time the row glows %v", g)
	}
}

func TestNewTopicsAppearUnderOpenBranches(t *testing.T) {
	h := newHarness(t)
	h.pub(t, "fleet/truck1/gps", "1", false)
	h.open(t, "fleet")
	h.pub(t, "fleet/truck2/gps", "2", false)
	truck2 := h.id(t, "fleet/truck2")
	h.q.Until(t, "the new truck", func() bool { return h.shownRow(truck2) != nil })
	// The parent's counts may show up a refresh pass after its new child's
	// row (80 ms, not something a user sees); they must catch up, not
	// stay stale.
	fleet := h.id(t, "fleet")
	h.q.Until(t, "fleet's counts to take in truck2", func() bool {
		return h.shownRow(fleet).counts.Text == "2 children · 2 msgs"
	})
	// A leaf that gets a child becomes a branch.
	h.pub(t, "fleet/truck1/gps/fix", "3d", false)
	h.open(t, "fleet/truck1")
	gps := h.id(t, "fleet/truck1/gps")
	h.q.Until(t, "gps to become a branch", func() bool { return h.p.isBranch(uidOf(gps)) && h.shownRow(gps) != nil })
}

func TestFilterBySubstringAndWildcard(t *testing.T) {
	h := newHarness(t)
	for _, topic := range []string{"home/kitchen/temperature", "home/kitchen/humidity", "home/hall/temperature", "office/desk/temperature"} {
		h.pub(t, topic, "1", false)
	}
	h.q.Until(t, "the root row", func() bool { return h.shownRow(h.root(t)) != nil })

	showing := func(what string, want ...string) {
		t.Helper()
		h.q.Until(t, what, func() bool { return slices.Equal(h.shownNames(), want) })
	}
	// A filter opens its matches.
	test.Type(h.p.filter, "KITCHEN")
	showing("the kitchen topics (case ignored)", "Local broker", "home", "kitchen", "humidity", "temperature")
	if !strings.Contains(h.p.status.Text, "Filter: 2 matches") {
		t.Errorf("status = %q, want the number of matches", h.p.status.Text)
	}
	// Counts say how many children the filter leaves.
	for topic, want := range map[string]string{"": "1 of 2 children · 4 msgs", "home": "1 of 2 children · 3 msgs", "home/kitchen": "2 children · 2 msgs"} {
		id := h.root(t)
		if topic != "" {
			id = h.id(t, topic)
		}
		if got := h.shownRow(id).counts.Text; got != want {
			t.Errorf("filtered, %q counts %q, want %q", topic, got, want)
		}
	}

	h.p.filter.SetText("home/+/temperature")
	showing("the wildcard matches", "Local broker", "home", "hall", "temperature", "kitchen", "temperature")

	// New topics that match appear while the filter is on; others do not.
	h.pub(t, "home/garage/temperature", "1", false)
	h.pub(t, "home/garage/door", "open", false)
	showing("the new match", "Local broker", "home", "garage", "hall", "temperature", "kitchen", "temperature")

	// An invalid filter says why and leaves the tree as it was.
	h.p.filter.SetText("home/#/temperature")
	if !h.p.filterErr.Visible() || !strings.Contains(h.p.filterErr.Text, "Filter not applied") || !strings.Contains(h.p.filterErr.Text, "#") {
		t.Errorf("invalid filter: error label %q (visible %v)", h.p.filterErr.Text, h.p.filterErr.Visible())
	}
	h.ticks(t, 2)
	showing("the previous filter's rows", "Local broker", "home", "garage", "hall", "temperature", "kitchen", "temperature")

	h.p.filter.SetText("")
	if h.p.filterErr.Visible() {
		t.Error("the error stayed after the filter was cleared")
	}
	h.q.Until(t, "office to be back", func() bool {
		return slices.Contains(h.shownNames(), "office")
	})
}

func TestPauseStopsUpdatesAndResumeCatchesUp(t *testing.T) {
	h := newHarness(t)
	h.pub(t, "meter/power", "100", false)
	h.open(t, "meter")
	power := h.id(t, "meter/power")
	h.q.Until(t, "the first value", func() bool { return h.shownRow(power).value.Text == "100" })

	test.Tap(h.p.pauseBtn)
	if h.p.live.Text != "Paused" || h.p.pauseBtn.Text != "Resume" {
		t.Fatalf("after Pause: state %q, button %q", h.p.live.Text, h.p.pauseBtn.Text)
	}
	h.pub(t, "meter/power", "101", false)
	h.pub(t, "meter/power", "102", false)
	h.pub(t, "meter/voltage", "230", false)
	h.ticks(t, 3)
	if got := h.shownRow(power).value.Text; got != "100" {
		t.Errorf("paused, the row shows %q; it must keep showing 100", got)
	}
	if _, shown := h.shownRows()[h.id(t, "meter/voltage")]; shown {
		t.Error("paused, a new topic was added to the tree")
	}
	// The model keeps counting, and the status line says so.
	if st := h.m.Stats(); st.Messages != 4 {
		t.Errorf("the model counted %d messages while paused, want 4", st.Messages)
	}
	if !strings.Contains(h.p.status.Text, "Paused: 3 new messages not shown yet") {
		t.Errorf("status = %q", h.p.status.Text)
	}

	test.Tap(h.p.pauseBtn)
	h.q.Until(t, "the tree to catch up", func() bool {
		r := h.shownRow(power)
		return r.value.Text == "102" && r.counts.Text == "3 msgs" && h.shownRow(h.id(t, "meter/voltage")) != nil
	})
	if h.p.live.Text != "Live" {
		t.Errorf("after Resume: state %q", h.p.live.Text)
	}
}

func TestDeleteRetainedAfterConfirmation(t *testing.T) {
	h := newHarness(t)
	retained := []string{"site/a/state", "site/a/b/state", "site/c"}
	for _, topic := range retained {
		h.pub(t, topic, "on", true)
	}
	h.pub(t, "site/a/live", "not retained", false)
	h.pub(t, "other/x", "kept", true)

	// Before: a new subscriber gets the three retained messages.
	if got := retainedFor(t, h.b, "site/#"); len(got) != 3 {
		t.Fatalf("before deleting, a new subscriber got retained %v, want 3", got)
	}

	h.open(t, "site")
	h.p.tree.Select(uidOf(h.id(t, "site/c")))
	h.q.Until(t, "the delete action", func() bool { return !h.p.deleteBtn.Disabled() })
	test.Tap(h.p.deleteBtn)
	if got := overlayText(h.win); !strings.Contains(got, "Delete the retained message of site/c?") {
		t.Errorf("confirmation for one topic says %q", got)
	}
	test.Tap(uitest.OverlayButton(t, h.win, "Cancel"))

	site := h.id(t, "site")
	h.p.tree.Select(uidOf(site))
	h.q.Until(t, "the delete action", func() bool { return !h.p.deleteBtn.Disabled() })
	test.Tap(h.p.deleteBtn)
	if got := overlayText(h.win); !strings.Contains(got, "retained messages of 3 topics at and below site?") {
		t.Errorf("confirmation says %q, want the number of topics", got)
	}
	test.Tap(uitest.OverlayButton(t, h.win, "Delete 3 retained messages"))
	h.q.Until(t, "the result", func() bool { return h.p.note.Text == "Deleted 3 retained messages." })

	if got := retainedFor(t, h.b, "site/#"); len(got) != 0 {
		t.Errorf("after deleting, a new subscriber still got retained %v", got)
	}
	if got := retainedFor(t, h.b, "other/#"); len(got) != 1 {
		t.Errorf("a retained message outside the subtree was touched: %v", got)
	}
	// The model saw the empty retained messages: nothing left to delete.
	h.q.Until(t, "the action to be disabled", func() bool { return h.p.deleteBtn.Disabled() })
}

// A remote connection's tree deletes retained messages through that
// connection, and not while it cannot publish.
func TestDeleteRetainedOnAnotherSource(t *testing.T) {
	h := newHarness(t)
	remote := brokertest.Start(t).Broker
	// What a connection subscribed to # on the remote broker would feed.
	for _, topic := range []string{"plant/a", "plant/b"} {
		if err := remote.Publish(topic, []byte("on"), true, 0); err != nil {
			t.Fatal(err)
		}
		h.m.Ingest(message.Message{Time: time.Now(), Source: "Plant", Topic: topic, Payload: []byte("on"), Retain: true})
	}
	if got := retainedFor(t, remote, "plant/#"); len(got) != 2 {
		t.Fatalf("the remote broker retains %v, want 2", got)
	}
	up := false
	h.publisherFor = func(source string) Publisher {
		if source == "Plant" && up {
			return remote
		}
		return nil
	}
	var plant topics.NodeID
	h.q.Until(t, "the Plant tree", func() bool {
		id, ok := h.m.Lookup("Plant", "plant")
		plant = id
		return ok && rootOf(h.m, "Plant") != 0 && h.shownRow(rootOf(h.m, "Plant")) != nil
	})
	h.openID(t, rootOf(h.m, "Plant"))
	h.q.Until(t, "the plant row", func() bool { return h.shownRow(plant) != nil })
	h.p.tree.Select(uidOf(plant))
	h.q.Until(t, "the plant row selected", func() bool { return h.p.selected == plant })
	if !h.p.deleteBtn.Disabled() {
		t.Error("delete offered while the connection cannot publish")
	}
	up = true
	h.p.tree.Select(uidOf(rootOf(h.m, "Plant")))
	h.p.tree.Select(uidOf(plant))
	h.q.Until(t, "the delete action", func() bool { return !h.p.deleteBtn.Disabled() })
	test.Tap(h.p.deleteBtn)
	test.Tap(uitest.OverlayButton(t, h.win, "Delete 2 retained messages"))
	h.q.Until(t, "the result", func() bool { return h.p.note.Text == "Deleted 2 retained messages." })
	if got := retainedFor(t, remote, "plant/#"); len(got) != 0 {
		t.Errorf("the remote broker still retains %v", got)
	}
}

func rootOf(m *topics.Model, source string) topics.NodeID {
	for _, s := range m.Sources() {
		if s.Source == source {
			return s.ID
		}
	}
	return 0
}

// retainedFor subscribes a new client to filter and returns the retained
// messages it gets. A broker sends them right after the SUBACK, so a
// message published after subscribing marks their end.
func retainedFor(t *testing.T, b *broker.Broker, filter string) []rawmqtt.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := rawmqtt.Dial(ctx, b.State().Listeners[0].Address, fmt.Sprintf("check-%d", time.Now().UnixNano()), 64<<10, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Subscribe(filter, 0); err != nil {
		t.Fatal(err)
	}
	end := strings.TrimSuffix(filter, "#") + "zz-end-of-retained"
	if err := c.Send(rawmqtt.EncodePublish(end, nil, 0, false).B); err != nil {
		t.Fatal(err)
	}
	var out []rawmqtt.Message
	for {
		m, err := c.Next()
		if err != nil {
			t.Fatalf("reading retained messages: %v", err)
		}
		if m.Topic == end {
			return out
		}
		if m.Retain {
			out = append(out, m)
		}
	}
}

func TestArrowKeysMoveTheSelection(t *testing.T) {
	h := newHarness(t)
	h.pub(t, "a/x", "1", false)
	h.pub(t, "a/y", "2", false)
	h.pub(t, "b", "3", false)
	h.open(t, "a")
	root, a, x, y, b := h.root(t), h.id(t, "a"), h.id(t, "a/x"), h.id(t, "a/y"), h.id(t, "b")

	key := func(k fyne.KeyName) { h.p.tree.TypedKey(&fyne.KeyEvent{Name: k}) }
	key(fyne.KeyDown)
	key(fyne.KeyDown)
	key(fyne.KeyDown)
	key(fyne.KeyDown)
	if want := []topics.NodeID{root, a, x, y}; !slices.Equal(h.sel, want) {
		t.Fatalf("Down ×4 selected %v, want %v", h.sel, want)
	}
	key(fyne.KeyDown) // from a/y to b: out of the open branch
	key(fyne.KeyUp)
	key(fyne.KeyLeft) // a/y: a leaf, so to the parent
	key(fyne.KeyLeft) // a: open, so closes it
	if h.p.tree.IsBranchOpen(uidOf(a)) {
		t.Error("Left on an open branch did not close it")
	}
	key(fyne.KeyRight) // opens a again
	if !h.p.tree.IsBranchOpen(uidOf(a)) {
		t.Error("Right on a closed branch did not open it")
	}
	h.q.Until(t, "a's children", func() bool { return len(h.p.kids[a]) == 2 })
	key(fyne.KeyRight) // into its first child
	if want := []topics.NodeID{root, a, x, y, b, y, a, x}; !slices.Equal(h.sel, want) {
		t.Errorf("selections %v, want %v", h.sel, want)
	}
}

// The window's Ctrl/Cmd+F lands in the filter with its text selected,
// so typing replaces it; Esc in the filter, or in the tree after walking
// into it, clears the filter and the whole tree is back.
func TestFocusFilterAndEscClearsIt(t *testing.T) {
	h := newHarness(t)
	h.p.filter.SetText("home")
	h.p.FocusFilter()
	if h.win.Canvas().Focused() != h.p.filter {
		t.Fatalf("after FocusFilter the focus is on %T, want the filter box", h.win.Canvas().Focused())
	}
	if got := h.p.filter.SelectedText(); got != "home" {
		t.Errorf("selected text in the filter %q, want all of it (home), for typing to replace it", got)
	}
	uitest.PressKey(h.win, fyne.KeyEscape)
	if h.p.filter.Text != "" || h.p.applied != "" {
		t.Errorf("after Esc in the filter it reads %q and %q is in force, want both empty", h.p.filter.Text, h.p.applied)
	}

	h.p.filter.SetText("home/#/x") // invalid: its error goes too
	h.win.Canvas().Focus(h.p.tree)
	uitest.PressKey(h.win, fyne.KeyEscape)
	if h.p.filter.Text != "" || h.p.filterErr.Visible() {
		t.Errorf("after Esc in the tree the filter reads %q (error shown %v), want it cleared", h.p.filter.Text, h.p.filterErr.Visible())
	}
}

func TestExpandAndCollapseAll(t *testing.T) {
	h := newHarness(t)
	for _, topic := range []string{"a/b/c/d", "a/b/e", "f/g"} {
		h.pub(t, topic, "1", false)
	}
	h.q.Until(t, "the root row", func() bool { return h.shownRow(h.root(t)) != nil })
	test.Tap(h.p.expandBtn)
	want := []string{"Local broker", "a", "b", "c", "d", "e", "f", "g"}
	h.q.Until(t, "every level open", func() bool { return slices.Equal(h.shownNames(), want) })
	if h.p.note.Visible() {
		t.Errorf("a small tree expanded with a note: %q", h.p.note.Text)
	}
	test.Tap(h.p.collapseBtn)
	h.q.Until(t, "only the root", func() bool { return slices.Equal(h.shownNames(), []string{"Local broker"}) })
	// What the UI held is dropped: the next update brings only the root.
	h.q.Until(t, "the UI to hold only the root's row", func() bool { return len(h.p.rows) == 1 })
	h.ticks(t, 2)
	if len(h.p.rows) != 1 || len(h.p.open) != 0 {
		t.Errorf("after Collapse all the UI holds %d rows and %d open branches", len(h.p.rows), len(h.p.open))
	}
}

func TestExpandAllStopsAtTheRowBudget(t *testing.T) {
	h := newHarness(t)
	// Three levels: 3 groups of expandRows/2 topics each; the groups fit,
	// their children do not all.
	for g := range 3 {
		for i := range expandRows / 2 {
			if err := h.b.Publish(fmt.Sprintf("big/g%d/t%d", g, i), []byte("1"), false, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.sync(t)
	h.q.Until(t, "the root row", func() bool { return h.shownRow(h.root(t)) != nil })
	test.Tap(h.p.expandBtn)
	h.q.Until(t, "the expansion note", func() bool { return h.p.note.Visible() })
	if !strings.Contains(h.p.note.Text, "too large to open at once") {
		t.Errorf("note = %q", h.p.note.Text)
	}
	opened := 0
	for g := range 3 {
		if h.p.tree.IsBranchOpen(uidOf(h.id(t, fmt.Sprintf("big/g%d", g)))) {
			opened++
		}
	}
	if opened != 1 {
		t.Errorf("%d groups of %d topics opened; the budget of %d rows allows 1", opened, expandRows/2, expandRows)
	}
}

// A topic whose retained message was followed by a live one must not read
// as if its last message were retained: the row says the topic has a
// retained message, which stays true whatever came after it.
func TestRetainedMarkDoesNotDescribeALiveLastMessage(t *testing.T) {
	h := newHarness(t)
	h.pub(t, "lab/lamp", "on", true)
	h.pub(t, "lab/lamp", "off", false)
	h.open(t, "lab")
	lamp := h.id(t, "lab/lamp")
	h.q.Until(t, "the lamp row", func() bool { r := h.shownRow(lamp); return r != nil && r.value.Text == "off" })
	got := h.shownRow(lamp).counts.Text
	if strings.HasPrefix(got, "retained") {
		t.Errorf("the row of a topic whose last message is live says %q", got)
	}
	if !strings.HasPrefix(got, "has retained · ") {
		t.Errorf("the row %q does not say the broker still holds a retained message for it", got)
	}
}
