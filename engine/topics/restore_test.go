package topics

import (
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

func TestRestoreFillsOnlyTopicsWithoutMessages(t *testing.T) {
	published := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	old := func(topic, payload string) (r message.Message) {
		r = retainedMsg(topic, payload)
		r.Time = published
		return r
	}
	tests := []struct {
		name        string
		live        []message.Message // applied before Restore
		queued      []message.Message // ingested before Restore, applied after it
		restore     []message.Message
		wantApplied int
		want        map[string]string // topic: last payload
		wantRet     int               // retained topics in the source
	}{
		{"an empty model takes every message",
			nil, nil, []message.Message{old("home/a", "1"), old("home/b", "2")},
			2, map[string]string{"home/a": "1", "home/b": "2"}, 2},
		{"a topic the model has keeps its newer message",
			[]message.Message{msg("home/a", "live")}, nil, []message.Message{old("home/a", "1"), old("home/b", "2")},
			1, map[string]string{"home/a": "live", "home/b": "2"}, 1},
		{"a queued message is applied after the restored one",
			nil, []message.Message{retainedMsg("home/a", "")}, []message.Message{old("home/a", "1")},
			1, map[string]string{"home/a": ""}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Options{BatchInterval: -1})
			applyAll(m, tt.live...)
			for _, r := range tt.queued {
				m.Ingest(r)
			}
			if got := m.Restore(tt.restore); got != tt.wantApplied {
				t.Errorf("Restore applied %d, want %d", got, tt.wantApplied)
			}
			runModel(t, m)
			syncModel(t, m)
			for topic, want := range tt.want {
				d, _ := m.Node(lookup(t, m, topic))
				if string(d.Last.Payload) != want {
					t.Errorf("%s shows %q, want %q", topic, d.Last.Payload, want)
				}
			}
			root := m.Sources()[0]
			if root.SubtreeRetained != tt.wantRet {
				t.Errorf("%d retained topics, want %d", root.SubtreeRetained, tt.wantRet)
			}
			checkInvariants(t, m)
		})
	}
}

func TestRestoredMessagesKeepTheirTimeAndStayOutOfTheRate(t *testing.T) {
	published := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	m := New(Options{})
	r := retainedMsg("plant/line1/speed", "12.5")
	r.Time = published
	m.Restore([]message.Message{r})
	s := summaryOf(t, m, "plant/line1/speed")
	if !s.Retained || !s.LastSeen.Equal(published) || s.Messages != 1 {
		t.Errorf("restored topic: retained %v, last seen %v, %d messages; want retained, %v, 1",
			s.Retained, s.LastSeen, s.Messages, published)
	}
	if st := m.Stats(); st.Rate != 0 || s.Rate != 0 {
		t.Errorf("rates after a restore: model %v, topic %v msg/s; want 0, nothing arrived", st.Rate, s.Rate)
	}
}
