package topics

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

func TestTreeReflectsMessages(t *testing.T) {
	type want struct {
		msgs, subMsgs               uint64
		subTopics, children, subRet int
		retained                    bool
		last                        string
	}
	tests := []struct {
		name string
		recs []message.Message
		want map[string]want // by topic; "" only where a level named "" exists
	}{
		{
			name: "one topic creates its levels",
			recs: []message.Message{msg("a/b/c", "1"), msg("a/b/c", "2")},
			want: map[string]want{
				"a":     {subMsgs: 2, subTopics: 1, children: 1},
				"a/b":   {subMsgs: 2, subTopics: 1, children: 1},
				"a/b/c": {msgs: 2, subMsgs: 2, subTopics: 1, last: "2"},
			},
		},
		{
			name: "siblings and a topic that is also a parent",
			recs: []message.Message{msg("home/kitchen/temp", "21"), msg("home/kitchen", "on"),
				msg("home/hall/temp", "19"), msg("home/kitchen/temp", "22")},
			want: map[string]want{
				"home":              {subMsgs: 4, subTopics: 3, children: 2},
				"home/kitchen":      {msgs: 1, subMsgs: 3, subTopics: 2, children: 1, last: "on"},
				"home/kitchen/temp": {msgs: 2, subMsgs: 2, subTopics: 1, last: "22"},
				"home/hall/temp":    {msgs: 1, subMsgs: 1, subTopics: 1, last: "19"},
			},
		},
		{
			name: "empty levels are levels",
			recs: []message.Message{msg("/a", "x"), msg("a//b", "y"), msg("a/", "z")},
			want: map[string]want{
				"":     {subMsgs: 1, subTopics: 1, children: 1},
				"/a":   {msgs: 1, subMsgs: 1, subTopics: 1, last: "x"},
				"a":    {subMsgs: 2, subTopics: 2, children: 1},
				"a/":   {msgs: 1, subMsgs: 2, subTopics: 2, children: 1, last: "z"},
				"a//b": {msgs: 1, subMsgs: 1, subTopics: 1, last: "y"},
			},
		},
		{
			name: "retained set, kept by a plain publish, counted up the tree",
			recs: []message.Message{retainedMsg("s/1", "on"), msg("s/1", "live"), retainedMsg("s/2", "off")},
			want: map[string]want{
				"s":   {subMsgs: 3, subTopics: 2, children: 2, subRet: 2},
				"s/1": {msgs: 2, subMsgs: 2, subTopics: 1, subRet: 1, retained: true, last: "live"},
				"s/2": {msgs: 1, subMsgs: 1, subTopics: 1, subRet: 1, retained: true, last: "off"},
			},
		},
		{
			name: "retained with an empty payload clears",
			recs: []message.Message{retainedMsg("s/1", "on"), retainedMsg("s/2", "on"), retainedMsg("s/1", "")},
			want: map[string]want{
				"s":   {subMsgs: 3, subTopics: 2, children: 2, subRet: 1},
				"s/1": {msgs: 2, subMsgs: 2, subTopics: 1, last: ""},
				"s/2": {msgs: 1, subMsgs: 1, subTopics: 1, subRet: 1, retained: true, last: "on"},
			},
		},
		{
			name: "clearing what was never retained changes nothing",
			recs: []message.Message{msg("s/1", "x"), retainedMsg("s/1", "")},
			want: map[string]want{
				"s":   {subMsgs: 2, subTopics: 1, children: 1},
				"s/1": {msgs: 2, subMsgs: 2, subTopics: 1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			// One record per version, as separate batches; the same records
			// in one batch are checked by the last line.
			for _, r := range tt.recs {
				applyAll(m, r)
			}
			one := New(Options{})
			applyAll(one, tt.recs...)
			for _, mm := range []*Model{m, one} {
				checkInvariants(t, mm)
				for topic, w := range tt.want {
					s := summaryOf(t, mm, topic)
					got := want{s.Messages, s.SubtreeMessages, s.SubtreeTopics, s.Children, s.SubtreeRetained, s.Retained, s.Preview}
					if got != w {
						t.Errorf("%q: got %+v, want %+v", topic, got, w)
					}
				}
				root := mm.Sources()[0]
				if root.SubtreeMessages != uint64(len(tt.recs)) {
					t.Errorf("root counts %d messages, want %d", root.SubtreeMessages, len(tt.recs))
				}
			}
		})
	}
}

func TestLastMessageKeepsEveryField(t *testing.T) {
	format, expiry := byte(1), uint32(600)
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	full := message.Message{
		Time: at, Source: "broker", ClientID: "thermo-1", Protocol: 5, Topic: "home/kitchen/temp",
		Payload: []byte{0, 1, 2, 0xff}, QoS: 1, Retain: true,
		PayloadFormat: &format, ContentType: "application/octet-stream", MessageExpiry: &expiry,
		ResponseTopic: "home/kitchen/reply", CorrelationData: []byte("corr-7"),
		UserProps: []message.UserProp{{Key: "unit", Value: "C"}, {Key: "unit", Value: "again"}},
	}
	bare := message.Message{Time: at.Add(time.Second), Source: "broker", Topic: "home/kitchen/temp", Protocol: 4}
	tests := []struct {
		name string
		recs []message.Message
	}{
		{"every MQTT 5 field", []message.Message{full}},
		{"nothing optional", []message.Message{bare}},
		{"after another message", []message.Message{bare, full}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			applyAll(m, tt.recs...)
			d, ok := m.Node(lookup(t, m, "home/kitchen/temp"))
			if !ok {
				t.Fatal("no detail")
			}
			want := tt.recs[len(tt.recs)-1]
			if !d.Last.Time.Equal(want.Time) {
				t.Fatalf("time %v, want %v", d.Last.Time, want.Time)
			}
			d.Last.Time = want.Time
			if !reflect.DeepEqual(d.Last, want) {
				t.Fatalf("last message\n got %+v\nwant %+v", d.Last, want)
			}
			if !d.LastSeen.Equal(want.Time) || !d.FirstSeen.Equal(tt.recs[0].Time) {
				t.Fatalf("first/last seen %v/%v", d.FirstSeen, d.LastSeen)
			}
			if d.HistoryLen != len(tt.recs) || d.PayloadLen != len(want.Payload) {
				t.Fatalf("history len %d payload len %d", d.HistoryLen, d.PayloadLen)
			}
		})
	}
}

func TestModelCopiesWhatItKeeps(t *testing.T) {
	m := New(Options{})
	r := msg("a", "before")
	r.CorrelationData = []byte("corr")
	applyAll(m, r)
	copy(r.Payload, "XXXXXX")
	copy(r.CorrelationData, "XXXX")
	d, _ := m.Node(lookup(t, m, "a"))
	if string(d.Last.Payload) != "before" || string(d.Last.CorrelationData) != "corr" {
		t.Fatalf("model aliases the caller's slices: %q %q", d.Last.Payload, d.Last.CorrelationData)
	}
	d.Last.Payload[0] = 'Y'
	if d2, _ := m.Node(lookup(t, m, "a")); string(d2.Last.Payload) != "before" {
		t.Fatalf("reader's copy aliases the model: %q", d2.Last.Payload)
	}
}

func TestPreviewCutsAtCharacterBoundary(t *testing.T) {
	tests := []struct {
		name, payload, want string
	}{
		{"short", "21.5", "21.5"},
		{"exactly the preview", strings.Repeat("a", PreviewBytes), strings.Repeat("a", PreviewBytes)},
		{"ascii cut", strings.Repeat("a", PreviewBytes+10), strings.Repeat("a", PreviewBytes)},
		// 63 ASCII bytes then a 3-byte character spanning the cut.
		{"character spanning the cut", strings.Repeat("a", PreviewBytes-1) + "€tail", strings.Repeat("a", PreviewBytes-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{})
			applyAll(m, msg("p", tt.payload))
			s := summaryOf(t, m, "p")
			if s.Preview != tt.want || s.PayloadLen != len(tt.payload) {
				t.Fatalf("preview %q (len %d), want %q (len %d)", s.Preview, s.PayloadLen, tt.want, len(tt.payload))
			}
		})
	}
}

func TestSourcesAreSeparateTrees(t *testing.T) {
	m := New(Options{})
	remote := msg("plant/line1/power", "7")
	remote.Source = "factory"
	applyAll(m, msg("plant/line1/power", "3"), remote, msg("home/temp", "20"))
	srcs := m.Sources()
	var names []string
	for _, s := range srcs {
		names = append(names, s.Name)
		if s.Parent != 0 || s.Topic != "" || s.Source != s.Name {
			t.Fatalf("root summary %+v", s)
		}
	}
	if !slices.Equal(names, []string{"broker", "factory"}) {
		t.Fatalf("sources %v", names)
	}
	if srcs[0].SubtreeMessages != 2 || srcs[0].SubtreeTopics != 2 || srcs[1].SubtreeMessages != 1 {
		t.Fatalf("per-source counts: %+v", srcs)
	}
	b, _ := m.Lookup("broker", "plant/line1/power")
	f, _ := m.Lookup("factory", "plant/line1/power")
	if b == f || b == 0 || f == 0 {
		t.Fatalf("same topic in two sources shares a node: %d %d", b, f)
	}
	if d, _ := m.Node(f); string(d.Last.Payload) != "7" || d.Source != "factory" || d.Last.Source != "factory" {
		t.Fatalf("factory node %+v", d)
	}
	if _, ok := m.Lookup("factory", "home/temp"); ok {
		t.Fatal("broker topic visible in the factory tree")
	}
	if _, ok := m.Lookup("nowhere", "home/temp"); ok {
		t.Fatal("unknown source found")
	}
}

func TestChildrenInNaturalOrder(t *testing.T) {
	m := New(Options{})
	names := []string{"sensor10", "sensor2", "Beta", "alpha", "sensor1", "gamma", "sensor02", "_x", "10", "9"}
	// In three batches so that merging new children into sorted ones runs.
	for i := 0; i < len(names); i += 4 {
		var recs []message.Message
		for _, n := range names[i:min(i+4, len(names))] {
			recs = append(recs, msg("dev/"+n, "1"))
		}
		applyAll(m, recs...)
	}
	var got []string
	for _, c := range m.Children(lookup(t, m, "dev")) {
		got = append(got, c.Name)
	}
	want := []string{"9", "10", "_x", "alpha", "Beta", "gamma", "sensor1", "sensor02", "sensor2", "sensor10"}
	if !slices.Equal(got, want) {
		t.Fatalf("children\n got %v\nwant %v", got, want)
	}
	ids := m.ChildIDs(lookup(t, m, "dev"))
	for i, id := range ids {
		if s := m.Summaries(nil, []NodeID{id})[0]; s.Name != want[i] {
			t.Fatalf("ChildIDs[%d] is %q, want %q", i, s.Name, want[i])
		}
	}
	checkInvariants(t, m)
}

func TestNaturalCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"sensor2", "sensor10", -1},
		{"sensor10", "sensor2", 1},
		{"a", "a", 0},
		{"a1", "a01", 1}, // equal by value: byte order decides ('1' > '0')
		{"a01", "a1", -1},
		{"alpha", "Beta", -1},
		{"Beta", "beta", -1}, // equal ignoring case: byte order decides
		{"a", "ab", -1},
		{"a1", "a1b", -1},
		{"9", "10", -1},
		{"x9y", "x10a", -1},
		{"1000000000000000000000", "999999999999999999999", 1}, // longer than int64
		{"a-1", "a1", -1}, // '-' sorts before digits
		{"", "a", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := naturalCompare(tt.a, tt.b); got != tt.want {
				t.Fatalf("naturalCompare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := naturalCompare(tt.b, tt.a); got != -tt.want {
				t.Fatalf("not antisymmetric: naturalCompare(%q, %q) = %d", tt.b, tt.a, got)
			}
		})
	}
}

// FuzzNaturalCompare checks that the order is total and transitive, which
// sorting relies on.
func FuzzNaturalCompare(f *testing.F) {
	f.Add("sensor2", "sensor10", "Sensor3")
	f.Add("a01", "a1", "a001")
	f.Add("", "0", "00")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, bc, ac := naturalCompare(a, b), naturalCompare(b, c), naturalCompare(a, c)
		if naturalCompare(b, a) != -ab {
			t.Fatalf("not antisymmetric for %q %q", a, b)
		}
		if (ab == 0) != (a == b) {
			t.Fatalf("%q and %q compare %d", a, b, ab)
		}
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Fatalf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
	})
}

func TestMaxNodesRefusesNewTopicsAndCounts(t *testing.T) {
	// Root + a + a/b + a/c = 4 nodes; a/d and x would need more.
	m := New(Options{MaxNodes: 4})
	applyAll(m, msg("a/b", "1"), msg("a/c", "2"), msg("a/d", "3"), msg("x", "4"), msg("a/b", "5"))
	st := m.Stats()
	if st.Nodes != 4 || st.Topics != 2 || st.Messages != 3 || st.OverLimit != 2 {
		t.Fatalf("stats %+v", st)
	}
	if s := summaryOf(t, m, "a/b"); s.Messages != 2 {
		t.Fatalf("known topic still counted: %+v", s)
	}
	checkInvariants(t, m)
}

func TestRates(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const window = 2 * time.Second
	tests := []struct {
		name  string
		sends []time.Duration // when one message is applied, since epoch
		at    time.Duration   // when the rate is read
		want  float64         // msg/s
	}{
		{"nothing", nil, time.Second, 0},
		{"four in the current window", []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, time.Second}, 1500 * time.Millisecond, 2},
		// Previous window had 4, read half-way through the next: 4*0.5/2 s.
		{"previous window weighted", []time.Duration{0, 0, 0, 0}, 3 * time.Second, 1},
		{"both windows", []time.Duration{0, 0, 0, 0, 2500 * time.Millisecond, 2500 * time.Millisecond}, 3 * time.Second, 2},
		{"two windows later nothing is left", []time.Duration{0, 0}, 4*time.Second + time.Millisecond, 0},
		{"long silence then one", []time.Duration{0, 0, 0, 20 * time.Second}, 20*time.Second + 500*time.Millisecond, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: epoch}
			m := New(Options{RateWindow: window, clock: clk.Now})
			for _, d := range tt.sends {
				clk.Set(epoch.Add(d))
				applyAll(m, msg("s/1", "x"))
			}
			clk.Set(epoch.Add(tt.at))
			if got := m.Stats().Rate; got != tt.want {
				t.Errorf("total rate %v, want %v", got, tt.want)
			}
			if len(tt.sends) == 0 {
				return
			}
			for _, topic := range []string{"s", "s/1"} {
				if got := summaryOf(t, m, topic).Rate; got != tt.want {
					t.Errorf("%s rate %v, want %v", topic, got, tt.want)
				}
			}
		})
	}
}

func TestUnknownIDs(t *testing.T) {
	m := New(Options{})
	applyAll(m, msg("a", "1"))
	for _, id := range []NodeID{0, 999} {
		if _, ok := m.Node(id); ok {
			t.Errorf("Node(%d) found", id)
		}
		if m.Children(id) != nil || m.ChildIDs(id) != nil || m.History(id) != nil {
			t.Errorf("ID %d has children or history", id)
		}
		if s := m.Summaries(nil, []NodeID{id}); len(s) != 1 || s[0].ID != 0 {
			t.Errorf("Summaries(%d) = %+v", id, s)
		}
	}
}

func TestViewOutsideItsFunctionPanics(t *testing.T) {
	m := New(Options{})
	var kept View
	m.View(func(v View) { kept = v })
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "outside") {
			t.Fatalf("recovered %v", r)
		}
	}()
	kept.Stats()
}

func TestRetainedTopics(t *testing.T) {
	m := New(Options{})
	applyAll(m, retainedMsg("h/b/2", "on"), retainedMsg("h/b/10", "on"), msg("h/b/3", "live"), msg("h/b", "not retained"),
		retainedMsg("h/a", "x"), retainedMsg("h/c/1", "y"), retainedMsg("h/c/1", ""), retainedMsg("other", "z"))
	tests := []struct {
		from string
		want []string
	}{
		{"h", []string{"h/a", "h/b/2", "h/b/10"}},
		{"h/b", []string{"h/b/2", "h/b/10"}},
		{"h/b/3", nil},
		{"h/c", nil}, // cleared
		{"other", []string{"other"}},
	}
	for _, tt := range tests {
		t.Run(tt.from, func(t *testing.T) {
			got := m.RetainedTopics(lookup(t, m, tt.from))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			if s := summaryOf(t, m, tt.from); s.SubtreeRetained != len(tt.want) {
				t.Fatalf("SubtreeRetained %d for %d topics", s.SubtreeRetained, len(tt.want))
			}
		})
	}
	if got := m.RetainedTopics(m.Sources()[0].ID); len(got) != 4 {
		t.Fatalf("from the root: %v", got)
	}
}
