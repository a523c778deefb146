package inspector

import (
	"encoding/hex"
	"fmt"
	"fyne.io/fyne/v2/lang"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/decode"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/topics"
)

func TestShowsLastMessageWithMetadata(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	if !h.in.hintBox.Visible() || h.in.body.Visible() || h.in.hint.Text != hintNone {
		t.Fatalf("before a selection the inspector shows %q (body visible %v)", h.in.hint.Text, h.in.body.Visible())
	}
	first := rec("plant/pump-7/state", `{"temp":21.5}`, 0)
	last := rec("plant/pump-7/state", `{"temp":22.5,"status":"ok"}`, 1)
	last.Protocol, last.QoS, last.Retain = 5, 1, true
	pf, expiry := byte(1), uint32(60)
	last.PayloadFormat, last.MessageExpiry = &pf, &expiry
	last.ContentType = "application/json"
	last.ResponseTopic = "plant/pump-7/reply"
	last.CorrelationData = []byte("req-42")
	last.UserProps = []message.UserProp{{Key: "unit", Value: "C"}, {Key: "site", Value: "north"}}
	h.feed(first, last)

	h.show("plant/pump-7/state")
	in := h.in
	if !in.body.Visible() || in.hintBox.Visible() {
		t.Fatal("the inspector still shows its hint")
	}
	if in.title.Text != "plant/pump-7/state" {
		t.Errorf("title %q", in.title.Text)
	}
	containsAll(t, "counts", in.counts.Text, "broker", "2 messages")
	containsAll(t, "metadata", in.meta.String(),
		"Time "+last.Time.Local().Format(timeLayout), "Size 27 bytes", "QoS 1", "Retain yes", "Client ID sensor-7", "Protocol MQTT 5")
	containsAll(t, "MQTT 5 properties", in.propsView.String(),
		"Payload format 1 (UTF-8)", "Content type application/json", "Message expiry 60 s",
		"Response topic plant/pump-7/reply", `Correlation data "req-42"`, "User properties unit=C, site=north")
	want := []string{"{", `  "temp": 22.5,`, `  "status": "ok"`, "}"}
	if got := h.rows(10); !slices.Equal(got, want) {
		t.Errorf("payload rows %q, want %q", got, want)
	}
	// The rows are what the list draws, not just what it would draw.
	shown := texts(in.lines)
	for _, w := range want {
		if !slices.Contains(shown, w) {
			t.Errorf("the payload list does not draw %q (draws %q)", w, shown)
		}
	}
	// The picker names what Auto detected; the status has room for the
	// line count only.
	if in.status.Text != "4 lines" {
		t.Errorf("status %q, want the line count", in.status.Text)
	}
	if in.formatSel.Selected != "Auto (JSON)" {
		t.Errorf("decoder picker shows %q", in.formatSel.Selected)
	}
	if n := len(in.st.h.ents); n != 2 {
		t.Errorf("%d history rows, want 2", n)
	}

	// A message without MQTT 5 properties shows none of them.
	in.histList.Select(1)
	h.waitDecoded()
	if in.props.Visible() {
		t.Errorf("an MQTT 3.1.1 message shows MQTT 5 properties: %q", in.propsView.String())
	}
	containsAll(t, "metadata", in.meta.String(), "QoS 0", "Retain no", "Protocol MQTT 3.1.1")

	in.Show(0)
	if !in.hintBox.Visible() || in.body.Visible() || in.hint.Text != hintNone {
		t.Errorf("Show(0) left %q (body visible %v)", in.hint.Text, in.body.Visible())
	}
}

func TestDecoderSwitch(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("cfg/a", `{"a":1}`, 0))
	h.show("cfg/a")
	in := h.in
	pick := func(f decode.Format) {
		t.Helper()
		in.formatSel.SetSelectedIndex(slices.Index(decode.Formats(), f))
		h.waitDecoded()
	}
	if got := h.rows(5); !slices.Equal(got, []string{"{", `  "a": 1`, "}"}) {
		t.Fatalf("Auto shows %q", got)
	}

	pick(decode.Hex)
	if got := h.rows(5); len(got) != 1 || !strings.HasPrefix(got[0], "00000000  7b 22 61 22 3a 31 7d") {
		t.Errorf("Hex shows %q", got)
	}
	if in.decodeErr.Visible() {
		t.Errorf("Hex shows an error: %q", in.decodeErr.Text)
	}
	if in.formatSel.Options[0] != "Auto (JSON)" || in.formatSel.Selected != "Hex" {
		t.Errorf("picker: options %q, selected %q", in.formatSel.Options, in.formatSel.Selected)
	}

	pick(decode.JSON)
	if got := h.rows(5); !slices.Equal(got, []string{"{", `  "a": 1`, "}"}) {
		t.Errorf("JSON shows %q", got)
	}

	// A format the payload is not in: the error, and the hex dump, never a
	// blank pane.
	pick(decode.CBOR)
	if !in.decodeErr.Visible() || !strings.Contains(in.decodeErr.Text, "Decoding as CBOR failed (not CBOR") {
		t.Errorf("CBOR on JSON: error banner %q (visible %v)", in.decodeErr.Text, in.decodeErr.Visible())
	}
	if got := h.rows(5); len(got) != 1 || !strings.HasPrefix(got[0], "00000000  7b 22 61") {
		t.Errorf("CBOR on JSON shows %q, want the hex dump", got)
	}
	containsAll(t, "status", in.status.Text, "1 line")

	pick(decode.Auto)
	if in.decodeErr.Visible() {
		t.Errorf("the error stays after going back to Auto: %q", in.decodeErr.Text)
	}
}

func TestTreeView(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("dev/1", `{"battery":{"level":87,"charging":false},"tags":["a","b"],"t":28.7,"s":"28","q":"say \"hi\""}`, 0), rec("dev/2", "hello", 1))
	h.show("dev/1")
	in := h.in
	in.mode.SetSelected(lang.L(modeTree))
	h.q.until(t, "the tree", func() bool { return in.tree.box.Visible() })
	if in.lines.Visible() {
		t.Error("the lines stay visible under the tree")
	}
	rows := in.tree.rows()
	// Strings are quoted as in the JSON, so the string "28" cannot pass
	// for the number 28.
	for _, want := range []string{"battery: 2 keys", "level: 87", "charging: false", "tags: 2 items", `[1]: "b"`, "t: 28.7", `s: "28"`, `q: "say \"hi\""`} {
		if !slices.Contains(rows, want) {
			t.Errorf("tree rows %q lack %q", rows, want)
		}
	}
	// Text has no tree: the text shows, and the picker cannot be used.
	in.Show(h.lookup("dev/2"))
	h.waitDecoded()
	if !in.lines.Visible() || in.tree.box.Visible() || !in.mode.Disabled() {
		t.Errorf("text payload: lines %v, tree %v, mode disabled %v", in.lines.Visible(), in.tree.box.Visible(), in.mode.Disabled())
	}
	if got := h.rows(2); !slices.Equal(got, []string{"hello"}) {
		t.Errorf("text payload shows %q", got)
	}
}

func TestLiveUpdateOnlyForTheShownTopic(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("plant/temp", "20", 0), rec("plant/hum", "40", 0))
	h.show("plant/temp")
	in := h.in
	before := in.st.refreshes

	h.feed(rec("plant/temp", "21", 1))
	h.q.until(t, "the new message", func() bool {
		return in.st.res != nil && slices.Equal(h.rows(1), []string{"21"})
	})
	if in.st.refreshes != before+1 {
		t.Errorf("%d refreshes for one message", in.st.refreshes-before)
	}
	if len(in.st.h.ents) != 2 || string(in.st.h.ents[1].rec.Payload) != "20" {
		t.Errorf("history after the update: %d rows", len(in.st.h.ents))
	}
	containsAll(t, "counts", in.counts.Text, "2 messages")

	// Other topics, a child topic included (it changes this node's subtree
	// counters), cause no refresh.
	after := in.st.refreshes
	h.feed(rec("plant/hum", "41", 2), rec("plant/temp/raw", "2100", 2), rec("other", "x", 2))
	h.q.idle(20 * in.interval)
	if in.st.refreshes != after {
		t.Errorf("%d refreshes for messages on other topics", in.st.refreshes-after)
	}
	if got := h.rows(1); !slices.Equal(got, []string{"21"}) {
		t.Errorf("shows %q after messages on other topics", got)
	}
}

func TestPinnedMessageStaysWhileNewOnesArrive(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("t", "1", 0), rec("t", "2", 1))
	h.show("t")
	in := h.in
	in.histList.Select(1) // "1"
	h.waitDecoded()
	h.feed(rec("t", "3", 2))
	h.q.until(t, "the new message in the history", func() bool { return len(in.st.h.ents) == 3 })
	h.waitDecoded()
	if got := h.rows(1); !slices.Equal(got, []string{"1"}) {
		t.Errorf("the picked message was replaced by %q", got)
	}
	if in.st.sel == nil || in.st.h.index(in.st.sel) != 2 {
		t.Errorf("the picked message is not row 2")
	}
}

func TestHistoryFromRAMThenStoreWithoutDuplicates(t *testing.T) {
	const total = 250
	var recs []message.Message
	for i := range total {
		recs = append(recs, rec("plant/pump-7/flow", fmt.Sprintf("%d", i), i))
	}
	other := rec("plant/pump-7/flow", "from elsewhere", 100)
	other.Source = "remote"
	store := openStore(t, append(slices.Clone(recs[:120]), append([]message.Message{other}, recs[120:]...)...)...)
	// A small RAM history: the last message and about five before it.
	h := newHarness(t, topics.Options{HistoryBytesPerTopic: 200}, store)
	h.feed(recs...)
	h.show("plant/pump-7/flow")
	in := h.in

	inRAM := len(in.st.h.ents)
	if inRAM < 2 || inRAM > 20 {
		t.Fatalf("%d messages from RAM; the test wants a handful", inRAM)
	}
	for _, e := range in.st.h.ents {
		if e.stored {
			t.Fatal("a message from the store before Load older")
		}
	}
	if in.olderBtn.Disabled() {
		t.Fatal("Load older is disabled")
	}
	pages := 0
	for !in.st.older.done {
		test.Tap(in.olderBtn)
		h.q.until(t, "a page of older messages", func() bool { return !in.st.older.loading })
		if in.st.older.err != nil {
			t.Fatal(in.st.older.err)
		}
		pages++
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	var got []string
	for _, e := range in.st.h.ents {
		got = append(got, string(e.rec.Payload))
	}
	var want []string
	for i := total - 1; i >= 0; i-- {
		want = append(want, fmt.Sprintf("%d", i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("history after %d pages:\n got %q\nwant every message once, newest first", pages, got)
	}
	if pages != 3 { // 250 - a few in RAM, 100 at a time
		t.Errorf("%d pages", pages)
	}
	if !in.olderBtn.Disabled() {
		t.Error("Load older enabled after the last page")
	}
	containsAll(t, "history status", in.histStatus.Text,
		fmt.Sprintf("250 messages listed (%d from RAM, %d from the capture)", inRAM, total-inRAM), "No older messages in the capture")
	// The oldest RAM message now has the one before it, from the store, to
	// compare with.
	in.histList.Select(inRAM - 1)
	h.waitDecoded()
	h.q.until(t, "the diff", func() bool { return len(in.diff.rows) > 0 })
	if !strings.Contains(in.diff.header.Text, "Compared line by line") {
		t.Errorf("diff header %q", in.diff.header.Text)
	}
}

func TestNoCaptureHistoryIsRAMOnly(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("a", "1", 0), rec("a", "2", 1))
	h.show("a")
	if !h.in.olderBtn.Disabled() || !strings.Contains(h.in.histStatus.Text, "Capture is off") {
		t.Errorf("without capture: button disabled %v, status %q", h.in.olderBtn.Disabled(), h.in.histStatus.Text)
	}
}

func TestDiffNamesTheChangedField(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("s/1", `{"temp":21.5,"unit":"C","n":1}`, 0), rec("s/1", `{"unit":"C","temp":22.25,"n":1}`, 1))
	h.show("s/1")
	in := h.in
	h.q.until(t, "the diff", func() bool { return len(in.diff.rows) > 0 })
	containsAll(t, "diff header", in.diff.header.Text, "Compared as JSON", "1 change")
	rows := in.diff.texts()
	if rows[0] != "changed  temp: 21.5 → 22.25" {
		t.Errorf("first diff row %q", rows[0])
	}
	if !slices.Contains(rows, `-   "temp": 21.5,`) || !slices.Contains(rows, `+   "temp": 22.25,`) {
		t.Errorf("line diff %q lacks the temp lines", rows)
	}
	for _, r := range rows {
		if strings.Contains(r, "unit") && (strings.HasPrefix(r, "+") || strings.HasPrefix(r, "-")) {
			t.Errorf("unchanged field marked as changed: %q", r)
		}
	}
	// The oldest message has nothing before it.
	in.histList.Select(1)
	h.waitDecoded()
	if len(in.diff.rows) != 0 || !strings.Contains(in.diff.header.Text, "nothing to compare with") {
		t.Errorf("oldest message: diff %q rows %q", in.diff.header.Text, in.diff.texts())
	}
}

func TestChartOfANumericPayload(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("plant/temp", "20", 0), rec("plant/temp", "21.5", 10), rec("plant/temp", " 23\n", 20))
	h.show("plant/temp")
	in := h.in
	h.q.until(t, "the chart", func() bool { return len(in.chart.chart.series) == 1 })
	s := in.chart.chart.series[0]
	want := []point{
		{t: base.UnixNano(), v: 20}, {t: base.Add(10 * time.Second).UnixNano(), v: 21.5}, {t: base.Add(20 * time.Second).UnixNano(), v: 23},
	}
	if s.name != decode.PayloadPath || !slices.Equal(s.pts, want) {
		t.Errorf("series %q %v, want the payload %v", s.name, s.pts, want)
	}
	if !slices.Equal(in.chart.picks, []string{decode.PayloadPath}) {
		t.Errorf("picks %q", in.chart.picks)
	}
	// Live messages extend the series.
	h.feed(rec("plant/temp", "19", 30))
	h.q.until(t, "the new point", func() bool { return len(in.chart.chart.series[0].pts) == 4 })

	// What is drawn: a line per pair of points, and time labels.
	in.tabs.SelectIndex(1)
	in.chart.chart.Resize(fyne.NewSize(600, 300))
	lines, labels := 0, []string{}
	for _, o := range test.WidgetRenderer(in.chart.chart).Objects() {
		switch o := o.(type) {
		case *canvas.Line:
			if o.StrokeColor == palette[0] {
				lines++
			}
		case *canvas.Text:
			labels = append(labels, o.Text)
		}
	}
	if lines != 3 {
		t.Errorf("%d data segments for 4 points", lines)
	}
	// Ticks fall on whole 10 s of local time within the 30 s shown.
	ticks := 0
	for _, l := range labels {
		at, err := time.ParseInLocation("15:04:05", l, time.Local)
		if err != nil {
			continue
		}
		at = time.Date(base.Year(), base.Month(), base.Day(), at.Hour(), at.Minute(), at.Second(), 0, time.Local)
		if at.Before(base) || at.After(base.Add(30*time.Second)) || at.Second()%10 != 0 {
			t.Errorf("time label %q outside the data or off the 10 s grid", l)
		}
		ticks++
	}
	if ticks < 2 {
		t.Errorf("%d time labels in %q", ticks, labels)
	}
}

func TestChartOfPickedJSONFields(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	for i := range 5 {
		h.feed(rec("dev/9", fmt.Sprintf(`{"temp":%d,"hum":%d,"name":"x"}`, 20+i, 50-i), i))
	}
	h.show("dev/9")
	in := h.in
	h.q.until(t, "the chart", func() bool { return len(in.chart.chart.series) == 1 })
	if in.chart.chart.series[0].name != "temp" || !slices.Equal(in.chart.fields, []string{"temp", "hum"}) {
		t.Fatalf("default series %q of fields %q", in.chart.chart.series[0].name, in.chart.fields)
	}
	// Tick "hum" as a user would.
	in.tabs.SelectIndex(1)
	in.chart.list.Resize(fyne.NewSize(300, 300))
	var hum *widget.Check
	visible(in.chart.list, func(o fyne.CanvasObject) {
		if c, ok := o.(*widget.Check); ok && c.Text == "hum" {
			hum = c
		}
	})
	if hum == nil {
		t.Fatal("no check for hum")
	}
	test.Tap(hum)
	h.q.until(t, "the hum series", func() bool { return len(in.chart.chart.series) == 2 })
	s := in.chart.chart.series[1]
	var vals []float64
	for _, p := range s.pts {
		vals = append(vals, p.v)
	}
	if s.name != "hum" || !slices.Equal(vals, []float64{50, 49, 48, 47, 46}) {
		t.Errorf("series %q values %v", s.name, vals)
	}
	// The pick is remembered for the topic.
	in.Show(h.lookup("dev/9"))
	h.q.until(t, "the chart again", func() bool { return len(in.chart.chart.series) == 2 })
}

func TestCopyButtons(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	bin := []byte{0x00, 0x01, 0xfe, 0xff}
	r := rec("cam/1/frame", "", 0)
	r.Payload = bin
	h.feed(rec("plant/pump-7/state", "running\n", 0), r)
	clip := fyne.CurrentApp().Clipboard()

	h.show("plant/pump-7/state")
	test.Tap(h.in.copyTopic)
	if got := clip.Content(); got != "plant/pump-7/state" {
		t.Errorf("Copy topic put %q", got)
	}
	test.Tap(h.in.copyPayload)
	h.q.until(t, "the payload on the clipboard", func() bool { return clip.Content() == "running\n" })

	h.show("cam/1/frame")
	test.Tap(h.in.copyPayload)
	h.q.until(t, "the hex dump on the clipboard", func() bool { return clip.Content() == hex.Dump(bin) })
}

// big10MB is about 10 MB of minified telemetry JSON, as a device dumping
// its log would publish it.
func big10MB() []byte {
	var sb strings.Builder
	sb.WriteString(`{"device":"pump-7","readings":[`)
	for i := 0; sb.Len() < 10<<20; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"t":%d,"temp":%.2f,"ok":%t}`, 1700000000000+i, 20+float64(i%100)/10, i%7 != 0)
	}
	sb.WriteString(`]}`)
	return []byte(sb.String())
}

func TestLargePayloadDoesNotBlock(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	r := rec("plant/pump-7/log", "", 0)
	r.Payload = big10MB()
	h.feed(r)
	var slowest time.Duration
	h.q.ran = func(d time.Duration) { slowest = max(slowest, d) }

	start := time.Now()
	h.in.Show(h.lookup("plant/pump-7/log"))
	took := time.Since(start)
	// Show did not read or decode: it only asked Serve to.
	if h.in.st.res != nil || h.in.hint.Text != hintLoading {
		t.Fatal("Show decoded the payload itself")
	}
	h.waitDecoded()
	shown := time.Since(start)
	t.Logf("Show took %v; decoded and shown after %v; slowest UI update %v", took, shown, slowest)
	want := []string{"{", `  "device": "pump-7",`, `  "readings": [`, "    {", `      "t": 1700000000000,`}
	if got := h.rows(5); !slices.Equal(got, want) {
		t.Errorf("first rows %q, want %q", got, want)
	}
	if n := h.in.lines.rowCount(); n < 1_000_000 {
		t.Errorf("%d rows for 10 MB of JSON", n)
	}
	// Had any UI update decoded or measured the payload, it would have
	// taken most of the wait for the first lines (a tenth of a second,
	// seconds under the race detector); they take a few percent of it.
	if slowest > shown/3 {
		t.Errorf("a UI update took %v of the %v until the lines showed", slowest, shown)
	}
	// Scrolling to the end reads only the end.
	last := h.in.lines.row(h.in.lines.rowCount() - 1)
	if last != "}" {
		t.Errorf("last row %q", last)
	}
}

func TestLongLinesWrapAndKeepEveryByte(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	text := strings.Repeat("0123456789abcdef", 1000) + "\n" + strings.Repeat("é", 300) + "\nshort"
	h.feed(rec("log/line", text, 0))
	h.show("log/line")
	cols := h.in.lines.rows.cols
	if cols < 20 || cols >= 4096 {
		t.Fatalf("%d columns", cols)
	}
	var sb strings.Builder
	for i := range h.in.lines.rowCount() {
		row := h.in.lines.row(i)
		if n := textCols(row); n > cols {
			t.Fatalf("row %d is %d columns wide, over %d", i, n, cols)
		}
		sb.WriteString(row)
	}
	if got, want := sb.String(), strings.ReplaceAll(text, "\n", ""); got != want {
		t.Errorf("the rows do not add up to the payload: %d bytes, want %d", len(got), len(want))
	}
}

func TestGoneAndLevelNodes(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("plant/a/temp", "1", 0), rec("plant/b/temp", "2", 0))
	h.in.Show(h.lookup("plant"))
	h.q.until(t, "the level's hint", func() bool { return strings.Contains(h.in.hint.Text, "no messages of its own") })
	containsAll(t, "hint", h.in.hint.Text, "plant", "below it: 2 topics, 2 messages")
	// It gets a message of its own later.
	h.feed(rec("plant", "on", 1))
	h.q.until(t, "the level's own message", func() bool { return h.in.body.Visible() && h.in.st.res != nil })
	if got := h.rows(1); !slices.Equal(got, []string{"on"}) {
		t.Errorf("shows %q", got)
	}
	h.in.Show(topics.NodeID(1 << 30))
	h.q.until(t, "the unknown node's hint", func() bool { return strings.Contains(h.in.hint.Text, "no longer in the tree") })
}

// The app opens a new capture store while it runs (after the user moved a
// damaged one aside): the inspector pages older messages from it without
// being made again.
func TestHistoryPagesFromACaptureOpenedLater(t *testing.T) {
	const topic = "plant/pump-7/flow"
	var recs []message.Message
	for i := range 30 {
		recs = append(recs, rec(topic, fmt.Sprintf("%d", i), i))
	}
	h := newHarness(t, topics.Options{HistoryBytesPerTopic: 100}, nil)
	h.feed(recs...)
	h.show(topic)
	in := h.in
	if !in.olderBtn.Disabled() || !strings.Contains(in.histStatus.Text, "Capture is off") {
		t.Fatalf("before a store opens: Load older enabled %v, status %q", !in.olderBtn.Disabled(), in.histStatus.Text)
	}

	h.store.Store(openStore(t, recs...))
	h.feed(rec(topic, "30", 30))
	h.q.until(t, "Load older to be enabled", func() bool { return !in.olderBtn.Disabled() })
	test.Tap(in.olderBtn)
	h.q.until(t, "a page of older messages", func() bool { return !in.st.older.loading })
	if in.st.older.err != nil {
		t.Fatal(in.st.older.err)
	}
	if got := len(in.st.h.ents); got != 31 {
		t.Errorf("%d messages listed after paging from the new store, want all 31", got)
	}
	containsAll(t, "history status", in.histStatus.Text, "from the capture", "No older messages in the capture")
}

// A source's root and a level without messages of their own are described
// by what is below them, the root by its source's name.
func TestLevelAndSourceHints(t *testing.T) {
	retained := rec("plant/b/temp", "2", 0)
	retained.Retain = true
	remote := rec("site/x", "1", 0)
	remote.Source = "factory-gw"
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("plant/a/temp", "1", 0), retained, rec("plant/a/temp", "3", 1), remote)
	root := func(source string) topics.NodeID {
		for _, s := range h.model.Sources() {
			if s.Source == source {
				return s.ID
			}
		}
		t.Fatalf("no source %q", source)
		return 0
	}
	tests := []struct {
		name string
		id   topics.NodeID
		want string
	}{
		{"the embedded broker's root, named as its connection is", root("broker"),
			"Local broker: 2 topics, 3 messages, 1 retained message. Select a topic to inspect it."},
		{"a connection's root", root("factory-gw"),
			"factory-gw: 1 topic, 1 message. Select a topic to inspect it."},
		{"a level", h.lookup("plant/a"),
			"plant/a has no messages of its own; below it: 1 topic, 2 messages. Select a topic to inspect it."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.in.Show(tt.id)
			h.q.until(t, "the hint", func() bool { return h.in.hint.Text != hintLoading })
			if got := h.in.hint.Text; got != tt.want {
				t.Errorf("hint %q\nwant %q", got, tt.want)
			}
			if strings.Contains(strings.Join(texts(h.in.Content()), " "), `""`) {
				t.Errorf("the inspector shows an empty level for %s", tt.name)
			}
		})
	}
}

// A topic longer than the header is wide is shown whole, over several
// lines, at the app's default window size.
func TestLongTopicIsShownWhole(t *testing.T) {
	topic := "spBv1.0/plant-north/DDATA/edge-node-building-7/line-3/conveyor-12/motor-controller/phase-b/winding-temperature"
	h := newHarness(t, topics.Options{}, nil)
	h.win.Resize(fyne.NewSize(550, 720)) // the inspector's half of 1100 × 720
	h.feed(rec(topic, "71.5", 0))
	h.show(topic)
	var shown strings.Builder
	lines := 0
	visible(h.in.title, func(o fyne.CanvasObject) {
		if t, ok := o.(*canvas.Text); ok {
			shown.WriteString(t.Text)
			lines++
		}
	})
	if shown.String() != topic {
		t.Errorf("the header shows %q, want the whole topic", shown.String())
	}
	if lines < 2 {
		t.Errorf("the topic takes %d line(s) in a 550-wide inspector; it cannot fit on one", lines)
	}
	if w := h.in.title.Size().Width; w > 550 {
		t.Errorf("the title is %v wide, wider than the window", w)
	}
}

// Long rows of the diff and of the JSON tree can be read to their end:
// the diff wraps them, the tree scrolls sideways, and neither widens the
// window.
func TestLongDiffAndTreeRowsAreReadable(t *testing.T) {
	long := strings.Repeat("calibration-", 25) + "end"
	h := newHarness(t, topics.Options{}, nil)
	h.win.Resize(fyne.NewSize(550, 720))
	h.feed(rec("dev/1", `{"note":"short"}`, 0), rec("dev/1", `{"note":"`+long+`"}`, 1))
	h.show("dev/1")
	in := h.in
	in.tabs.SelectIndex(0)
	h.q.until(t, "the diff", func() bool { return len(in.diff.rows) > 0 })

	d := in.diff
	if d.cols != monoCols(d.list.Size().Width) || d.cols > 80 {
		t.Fatalf("the diff wraps at %d columns in a list %v wide", d.cols, d.list.Size().Width)
	}
	var joined strings.Builder
	for _, r := range d.shown {
		if textCols(r.text) > d.cols {
			t.Errorf("a diff row of %d columns in a list of %d: %q", textCols(r.text), d.cols, r.text)
		}
		joined.WriteString(r.text)
	}
	if !strings.Contains(joined.String(), `changed  note: "short" → "`+long+`"`) {
		t.Errorf("the wrapped diff rows do not hold the whole change:\n%s", joined.String())
	}

	in.mode.SetSelected(lang.L(modeTree))
	h.q.until(t, "the tree", func() bool { return in.tree.box.Visible() })
	row := `note: "` + long + `"`
	if !slices.Contains(in.tree.rows(), row) {
		t.Errorf("tree rows %q lack the whole value", in.tree.rows())
	}
	rowW := newTreeRow(in.tree).MinSize().Width
	textW := fyne.MeasureText(row, theme.TextSize(), fyne.TextStyle{Monospace: true}).Width
	if rowW < textW {
		t.Errorf("tree rows are %v wide, the value needs %v: its end cannot be scrolled to", rowW, textW)
	}
	if w := in.Content().MinSize().Width; w >= 550 {
		t.Errorf("the inspector needs %v of width for a long value; the window is 550", w)
	}
}

// Publish… opens the publish form on the message shown: the newest, or
// the one picked in the history.
func TestPublishToOpensTheFormOnTheShownMessage(t *testing.T) {
	h := newHarness(t, topics.Options{}, nil)
	h.feed(rec("plant/line1/speed", "12.5", 0), rec("plant/line1/speed", "13.0", 1))
	h.show("plant/line1/speed")
	in := h.in
	if !in.publish.Visible() {
		t.Fatal("Publish… is hidden although the app opens a publish form")
	}
	test.Tap(in.publish)
	in.histList.Select(1)
	h.waitDecoded()
	test.Tap(in.publish)
	want := []published{{"broker", "plant/line1/speed", "13.0"}, {"broker", "plant/line1/speed", "12.5"}}
	if !slices.Equal(h.published, want) {
		t.Errorf("OnPublishTo got %+v, want %+v", h.published, want)
	}

	without := New(h.model, h.store.Load, h.win, Options{})
	if without.publish.Visible() {
		t.Error("Publish… is shown without a form to open")
	}
}

// A level's description follows what happens below it: deleting retained
// messages under it (or anything else that changes its subtree) updates
// the counts, although the level itself never has a message.
func TestLevelHintFollowsItsSubtree(t *testing.T) {
	a, b := rec("plant/a", "1", 0), rec("plant/b", "2", 0)
	a.Retain, b.Retain = true, true
	h := newHarness(t, topics.Options{}, nil)
	h.feed(a, b)
	h.in.Show(h.lookup("plant"))
	h.q.until(t, "2 retained", func() bool { return strings.Contains(h.in.hint.Text, "2 retained messages") })
	cleared := rec("plant/b", "", 1)
	cleared.Retain = true
	h.feed(cleared)
	h.q.until(t, "the hint to say 1 retained message", func() bool {
		return strings.Contains(h.in.hint.Text, "3 messages, 1 retained message.")
	})
}
