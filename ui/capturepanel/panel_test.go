package capturepanel

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/ui/shell"
	"github.com/iotstudio/iotstudio/ui/uitest"
)

// The panel plugs into the main window; the real store is a Source.
var (
	_ shell.Panel = (*Panel)(nil)
	_ Source      = (*capture.Store)(nil)
)

var base = time.Now().Add(-time.Hour).Truncate(time.Second)

// sample returns n records over topics a/1, a/2 and b/1, one ms apart.
func sample(n int) []message.Message {
	topics := []string{"a/1", "a/2", "b/1"}
	var recs []message.Message
	for i := range n {
		recs = append(recs, message.Message{
			Time: base.Add(time.Duration(i) * time.Millisecond), Topic: topics[i%3], ClientID: "dev", Protocol: 4,
			Payload: []byte("msg " + string(rune('A'+i%26))),
		})
	}
	return recs
}

func TestSearchFilterShowsOnlyMatchingInOrder(t *testing.T) {
	store := openStore(t, sample(30)...)
	h := newHarness(t, store)
	p := h.panel

	h.search(t, "a/+", false)
	if len(p.recs) != 20 {
		t.Fatalf("a/+ shows %d records, want 20", len(p.recs))
	}
	for i, r := range p.recs {
		if !strings.HasPrefix(r.Topic, "a/") {
			t.Errorf("row %d has topic %q", i, r.Topic)
		}
		if i > 0 && r.Seq <= p.recs[i-1].Seq {
			t.Errorf("oldest first: row %d seq %d after %d", i, r.Seq, p.recs[i-1].Seq)
		}
	}
	if p.shown.Text != "20 records shown" || p.moreBtn.Visible() {
		t.Errorf("footer %q, Load more visible %v", p.shown.Text, p.moreBtn.Visible())
	}
	rows := uitest.Labels(p.list)
	if !anyContains(rows, "a/1") || anyContains(rows, "b/1") {
		t.Errorf("rendered rows %q", rows)
	}

	h.search(t, "b/1", true)
	if len(p.recs) != 10 {
		t.Fatalf("b/1 shows %d records, want 10", len(p.recs))
	}
	for i, r := range p.recs {
		if r.Topic != "b/1" || (i > 0 && r.Seq >= p.recs[i-1].Seq) {
			t.Errorf("newest first: row %d is %s seq %d", i, r.Topic, r.Seq)
		}
	}

	// Contains and a time window narrow the search further.
	p.contains.SetText("msg C")
	p.since.SetText(base.Add(-time.Second).Format(time.RFC3339))
	h.search(t, "", false)
	if len(p.recs) != 2 || p.recs[0].Payload[4] != 'C' {
		t.Errorf("contains \"msg C\" shows %d records", len(p.recs))
	}
	p.since.SetText("-1m") // everything is an hour old
	h.search(t, "", false)
	if len(p.recs) != 0 || p.shown.Text != "No matching records." {
		t.Errorf("since -1m shows %d records, footer %q", len(p.recs), p.shown.Text)
	}
}

func TestInvalidFilterShowsErrorAndIssuesNoQuery(t *testing.T) {
	src := newCounting(nil)
	h := newHarness(t, src)
	p := h.panel

	p.filter.SetText("a/#/b")
	test.Tap(p.searchBtn)
	if !p.formErr.Visible() || !strings.Contains(p.formErr.Text, "'#' must be the last level") {
		t.Errorf("error shown %v: %q", p.formErr.Visible(), p.formErr.Text)
	}
	p.filter.SetText("a/+")
	p.since.SetText("yesterday")
	test.Tap(p.searchBtn)
	if !p.formErr.Visible() || !strings.Contains(p.formErr.Text, "since") {
		t.Errorf("bad since: error shown %v: %q", p.formErr.Visible(), p.formErr.Text)
	}
	h.q.Drain()
	if n := src.nQueries(); n != 0 {
		t.Fatalf("%d queries issued for an invalid form", n)
	}

	p.since.SetText("-2h")
	h.search(t, "a/+", true)
	if p.formErr.Visible() {
		t.Errorf("error still shown after a valid search: %q", p.formErr.Text)
	}
	if n := src.nQueries(); n != 1 {
		t.Errorf("%d queries for one valid search", n)
	}
}

func TestPagingLoadsNextPageWithoutDuplicates(t *testing.T) {
	store := openStore(t, sample(25)...)
	src := newCounting(store)
	h := newHarness(t, src)
	p := h.panel
	p.pageSize = 10

	h.search(t, "", true)
	if len(p.recs) != 10 || !p.moreBtn.Visible() || !strings.Contains(p.shown.Text, "more available") {
		t.Fatalf("first page: %d records, Load more %v, footer %q", len(p.recs), p.moreBtn.Visible(), p.shown.Text)
	}
	for _, want := range []int{20, 25} {
		test.Tap(p.moreBtn)
		test.Tap(p.moreBtn) // a second tap while loading must not fetch twice
		h.q.Until(t, "the next page", func() bool { return !p.loading })
		if len(p.recs) != want {
			t.Fatalf("after Load more: %d records, want %d", len(p.recs), want)
		}
	}
	if p.moreBtn.Visible() || p.next != "" || p.shown.Text != "25 records shown" {
		t.Errorf("last page: Load more %v, next %q, footer %q", p.moreBtn.Visible(), p.next, p.shown.Text)
	}
	seen := map[uint64]bool{}
	for i, r := range p.recs {
		if seen[r.Seq] {
			t.Errorf("seq %d shown twice", r.Seq)
		}
		seen[r.Seq] = true
		if i > 0 && r.Seq >= p.recs[i-1].Seq {
			t.Errorf("row %d out of order", i)
		}
	}
	if n := src.nQueries(); n != 3 {
		t.Errorf("%d queries for three pages", n)
	}
	for _, q := range src.queries {
		if q.Limit != 10 {
			t.Errorf("query limit %d, want the page size", q.Limit)
		}
	}

	// Scrolling near the end loads the next page by itself, once.
	h2 := newHarness(t, openStore(t, sample(120)...))
	p = h2.panel
	p.pageSize, p.autoLoad = 50, true
	h2.search(t, "", false)
	h2.q.Drain()
	if len(p.recs) != 50 {
		t.Fatalf("first page with auto-load: %d records, want 50", len(p.recs))
	}
	p.list.ScrollToBottom()
	h2.q.Until(t, "scrolling to load more", func() bool { return len(p.recs) >= 100 && !p.loading })
	h2.q.Drain()
	if len(p.recs) != 100 {
		t.Errorf("after scrolling to the end once: %d records, want 100", len(p.recs))
	}
	seen = map[uint64]bool{}
	for _, r := range p.recs {
		if seen[r.Seq] {
			t.Errorf("seq %d shown twice", r.Seq)
		}
		seen[r.Seq] = true
	}
}

func TestNewSearchCancelsRunningOne(t *testing.T) {
	store := openStore(t, sample(6)...)
	src := newCounting(store)
	h := newHarness(t, src)
	p := h.panel

	p.filter.SetText("slow")
	test.Tap(p.searchBtn)
	h.search(t, "b/1", false)
	select {
	case <-src.cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the first search was not cancelled")
	}
	h.q.Drain()
	if len(p.recs) != 2 || p.recs[0].Topic != "b/1" || p.queryErr.Visible() {
		t.Errorf("results %d, error %q", len(p.recs), p.queryErr.Text)
	}
}

func TestQueryErrorIsShown(t *testing.T) {
	store := openStore(t)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, store)
	h.search(t, "", true)
	if !h.panel.queryErr.Visible() || !strings.Contains(h.panel.queryErr.Text, "closed") {
		t.Errorf("query error %q", h.panel.queryErr.Text)
	}
}

func TestSelectShowsDetail(t *testing.T) {
	pf, exp := byte(0), uint32(60)
	bin := []byte{0x00, 0x01, 0xfe, 0xff, 'h', 'i'}
	when := base.Add(123456789 * time.Nanosecond)
	store := openStore(t,
		message.Message{Time: base, Topic: "t/text", ClientID: "c1", Protocol: 4, Payload: []byte("hello\nworld")},
		message.Message{Time: when, Topic: "t/bin", ClientID: "sensor-9", Source: "broker", Protocol: 5, QoS: 1, Retain: true,
			Payload: bin, PayloadFormat: &pf, MessageExpiry: &exp, ContentType: "application/octet-stream",
			ResponseTopic: "t/reply", CorrelationData: []byte("req-7"),
			UserProps: []message.UserProp{{Key: "unit", Value: "celsius"}, {Key: "fw", Value: "1.2"}}},
	)
	h := newHarness(t, store)
	p := h.panel
	if !p.copyBtn.Disabled() {
		t.Error("copy is enabled with nothing selected")
	}
	h.search(t, "", false)
	if len(p.recs) != 2 {
		t.Fatalf("%d records", len(p.recs))
	}
	if got := rowText(&p.recs[1], ""); !strings.Contains(got, "Q1 R") || !strings.Contains(got, "0x0001feff6869") {
		t.Errorf("row %q lacks QoS/retain or hex preview", got)
	}

	p.list.Select(1)
	for _, want := range []string{
		when.Format("15:04:05.000000000"), "Topic: t/bin", "Client: sensor-9", "Protocol: MQTT 5", "QoS: 1", "Retain: true",
		"Content type: application/octet-stream", "Message expiry: 60 s", "Response topic: t/reply",
		"Correlation data: req-7", "unit = celsius", "fw = 1.2",
	} {
		if !strings.Contains(p.meta.Text, want) {
			t.Errorf("detail lacks %q:\n%s", want, p.meta.Text)
		}
	}
	if !strings.Contains(p.payload.Text, "00 01 fe ff 68 69") {
		t.Errorf("binary payload not a hex dump: %q", p.payload.Text)
	}
	p.payload.SetText("edited")
	if !strings.Contains(p.payload.Text, "00 01 fe ff") {
		t.Error("the payload view is editable")
	}

	p.list.Select(0)
	if p.payload.Text != "hello\nworld" || !strings.Contains(p.meta.Text, "MQTT 3.1.1") {
		t.Errorf("text payload %q", p.payload.Text)
	}
	test.Tap(p.copyBtn)
	if got := h.app.Clipboard().Content(); got != "hello\nworld" {
		t.Errorf("clipboard holds %q", got)
	}
}

func TestRunUpdatesStatusAndStopsOnCancel(t *testing.T) {
	src := newCounting(nil)
	h := newHarness(t, src)
	p := h.panel
	p.interval = 5 * time.Millisecond

	stop := h.q.Serve(t, p.Serve)
	h.q.Until(t, "Serve to start", p.serving.Load)
	if err := p.Serve(context.Background()); err == nil {
		t.Error("a second Serve while serving returned nil, want an error")
	}
	h.q.Until(t, "the first status", func() bool { return p.records.Text == "0 records" })
	if p.span.Text != "empty" || p.dropped.Importance == widget.DangerImportance {
		t.Errorf("empty store: span %q, dropped importance %v", p.span.Text, p.dropped.Importance)
	}

	src.mu.Lock()
	src.stats = capture.Stats{Records: 1234567, DiskBytes: 3 << 20, Ingested: 100000, Dropped: 4,
		Oldest: base, Newest: base.Add(time.Minute)}
	src.mu.Unlock()
	h.q.Until(t, "counters to refresh", func() bool { return p.records.Text == "1,234,567 records" })
	if p.disk.Text != "3.0 MiB on disk" {
		t.Errorf("disk %q", p.disk.Text)
	}
	if p.dropped.Text != "4 dropped" || p.dropped.Importance != widget.DangerImportance {
		t.Errorf("dropped %q importance %v", p.dropped.Text, p.dropped.Importance)
	}
	if !strings.Contains(p.span.Text, "oldest") || !strings.Contains(p.span.Text, "newest") {
		t.Errorf("span %q", p.span.Text)
	}
	if p.rate.Text == "— rec/s" || p.rate.Text == "0.0 rec/s" {
		t.Errorf("rate %q after 100000 ingested", p.rate.Text)
	}
	h.q.Until(t, "the rate to settle", func() bool { return p.rate.Text == "0.0 rec/s" })

	src.mu.Lock()
	src.statsErr = errors.New("capture: stats: store is closed")
	src.mu.Unlock()
	h.q.Until(t, "the error", func() bool { return p.records.Text == "Capture store unavailable" })

	h.stopServe(t, stop)
}

func TestRunWithRealStore(t *testing.T) {
	store := openStore(t, sample(5)...)
	h := newHarness(t, store)
	p := h.panel
	p.interval = 5 * time.Millisecond
	stop := h.q.Serve(t, p.Serve)
	h.q.Until(t, "the status", func() bool { return p.records.Text == "5 records" })
	if !strings.HasSuffix(p.disk.Text, "on disk") || !strings.Contains(p.span.Text, "oldest") {
		t.Errorf("disk %q span %q", p.disk.Text, p.span.Text)
	}
	h.stopServe(t, stop)
}

func TestPanelIdentity(t *testing.T) {
	h := newHarness(t, newCounting(nil))
	if h.panel.Title() != "Capture" || h.panel.Icon() == nil || h.panel.Content() == nil {
		t.Error("Title, Icon or Content missing")
	}
}

func TestWhereConditionNarrowsSearchAndBadOneIsShown(t *testing.T) {
	var recs []message.Message
	for i, p := range []string{`{"temp": 25}`, `{"temp": 35}`, `{"temp": 41}`, `off`} {
		recs = append(recs, message.Message{Time: base.Add(time.Duration(i) * time.Millisecond), Topic: "s/t", Payload: []byte(p)})
	}
	h := newHarness(t, openStore(t, recs...))
	p := h.panel
	p.where.SetText("temp > 30")
	h.search(t, "s/#", false)
	if len(p.recs) != 2 || string(p.recs[0].Payload) != `{"temp": 35}` {
		t.Fatalf("temp > 30 shows %d records", len(p.recs))
	}
	p.where.SetText("temp >")
	test.Tap(p.searchBtn)
	if !p.formErr.Visible() || !strings.Contains(p.formErr.Text, "temp >") {
		t.Fatalf("a bad condition shows %v %q", p.formErr.Visible(), p.formErr.Text)
	}
}

// The app searches once at start, usually before anything is captured.
// Coming back to the page then lists what was captured since; a list the
// user already has stays as it is.
func TestShownListsWhatWasCapturedSinceAnEmptySearch(t *testing.T) {
	store := openStore(t)
	h := newHarness(t, store)
	p := h.panel
	h.search(t, "", true)
	if len(p.recs) != 0 || p.shown.Text != "No matching records." {
		t.Fatalf("empty store: %d records, footer %q", len(p.recs), p.shown.Text)
	}
	for _, r := range sample(3) {
		store.Ingest(r)
	}
	flush(t, store)
	p.Shown()
	h.q.Until(t, "the search to finish", func() bool { return !p.loading })
	if len(p.recs) != 3 || p.shown.Text != "3 records shown" {
		t.Fatalf("after coming back: %d records, footer %q; want the 3 captured since", len(p.recs), p.shown.Text)
	}
	p.list.Select(1)
	for _, r := range sample(2) {
		store.Ingest(r)
	}
	flush(t, store)
	p.Shown()
	if p.loading || len(p.recs) != 3 || p.selected != 1 {
		t.Fatalf("a second visit replaced the user's list: loading %v, %d records, selected %d", p.loading, len(p.recs), p.selected)
	}
}

// With the panel open on an empty list, records that arrive show up
// without a tap on Search; a filtered search that found nothing is not
// repeated behind the user's back (it could scan the whole store).
func TestEmptyListFollowsNewRecords(t *testing.T) {
	store := openStore(t)
	h := newHarness(t, store)
	p := h.panel
	p.interval = 5 * time.Millisecond
	stop := h.q.Serve(t, p.Serve)
	h.search(t, "", true)
	for _, r := range sample(3) {
		store.Ingest(r)
	}
	flush(t, store)
	h.q.Until(t, "the new records listed", func() bool { return len(p.recs) == 3 && !p.loading })

	h.search(t, "zzz/#", true)
	searches := p.gen
	for _, r := range sample(3) {
		store.Ingest(r)
	}
	flush(t, store)
	h.q.Until(t, "two status updates", func() bool { return p.stats.Ingested == 6 })
	if p.gen != searches || len(p.recs) != 0 {
		t.Fatalf("a filtered search was repeated: %d searches since, %d records listed", p.gen-searches, len(p.recs))
	}
	h.stopServe(t, stop)
}

// Coming back to the panel after more was captured lists the newest
// records again when the user has not touched the list (no selection,
// the first page of a newest-first search): it showed "6 records shown",
// the first six ever, under "Newest first" while 51,167 were captured.
func TestShownRefreshesAnUntouchedNewestList(t *testing.T) {
	store := openStore(t)
	h := newHarness(t, store)
	p := h.panel
	p.interval = 5 * time.Millisecond
	stop := h.q.Serve(t, p.Serve)
	for _, r := range sample(3) {
		store.Ingest(r)
	}
	flush(t, store)
	h.search(t, "", true)
	h.q.Until(t, "3 listed", func() bool { return len(p.recs) == 3 && !p.loading })
	for _, r := range sample(4) {
		store.Ingest(r)
	}
	flush(t, store)
	h.q.Until(t, "the status to count 7", func() bool { return p.stats.Ingested == 7 })
	p.Shown()
	h.q.Until(t, "the search to finish", func() bool { return !p.loading })
	if len(p.recs) != 7 || p.shown.Text != "7 records shown" {
		t.Fatalf("after coming back: %d records, footer %q; want the 7 captured", len(p.recs), p.shown.Text)
	}
	h.stopServe(t, stop)
}

// A captured message's publisher: one click shows its sessions (the
// window's Journal); the button is there only where a journal is.
func TestDetailLinksToThePublishersSessions(t *testing.T) {
	store := openStore(t,
		message.Message{Time: base, Topic: "t/a", ClientID: "sensor-9", Protocol: 5, Payload: []byte("1")},
		message.Message{Time: base.Add(time.Second), Topic: "t/b", Protocol: 5, Payload: []byte("2")},
	)
	h := newHarness(t, store)
	if h.panel.sessionsBtn.Visible() {
		t.Error("the publisher's sessions are offered without a journal")
	}
	var shown []string
	test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	p := New(store, w, Options{ShowSessions: func(id string) { shown = append(shown, id) }, Do: h.q.Do})
	w.SetContent(p.Content())
	p.autoLoad = false
	test.Tap(p.searchBtn)
	h.q.Until(t, "the search to finish", func() bool { return !p.loading && len(p.recs) == 2 })
	for i, r := range p.recs {
		p.list.Select(i)
		if want := r.ClientID != ""; p.sessionsBtn.Disabled() == want {
			t.Errorf("record from %q: sessions button enabled %v, want %v", r.ClientID, !p.sessionsBtn.Disabled(), want)
		}
		if r.ClientID != "" {
			test.Tap(p.sessionsBtn)
		}
	}
	if len(shown) != 1 || shown[0] != "sensor-9" {
		t.Fatalf("showed the sessions of %v, want sensor-9", shown)
	}
}
