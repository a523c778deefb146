package infer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim/device"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
)

// A retained online/offline topic per device is the devices' lifecycle
// status, not a stream with a choice of two words sent every so often.
func TestInferMakesARetainedOnlineOfflineTopicTheStatus(t *testing.T) {
	for _, tc := range []struct {
		name              string
		words             []string
		wantOn, wantOff   string
		wantStatus        bool
		wantStatusStreams int
	}{
		{"online and offline", []string{"online", "offline", "online"}, "online", "offline", true, 0},
		{"only online seen, in capitals", []string{"ONLINE"}, "ONLINE", "OFFLINE", true, 0},
		{"capitalised pair", []string{"Connected", "Disconnected"}, "Connected", "Disconnected", true, 0},
		{"three words is a state, a stream", []string{"online", "offline", "sleeping"}, "", "", false, 1},
		{"unrelated words", []string{"open", "closed"}, "", "", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := series(3, 30, func(dev int) string { return fmt.Sprintf("plant/dev%d/climate", dev) },
				func(dev int) string { return fmt.Sprintf("dev%d", dev) },
				func(i, dev int, _ time.Time) string { return fmt.Sprintf(`{"t":%d.5}`, 20+i%3) })
			base := msgs[0].Time
			for dev := range 3 {
				for i, w := range tc.words {
					m := msg(base.Add(time.Duration(i*10)*time.Second), fmt.Sprintf("plant/dev%d/status", dev), fmt.Sprintf("dev%d", dev), w)
					m.Retain, m.QoS = true, 1
					msgs = append(msgs, m)
				}
			}
			f, rep := inferOK(t, msgs, Options{})
			p := f.Profiles[0]
			statusStreams := 0
			for _, st := range p.Streams {
				if strings.HasSuffix(st.Topic, "/status") {
					statusStreams++
				}
			}
			if statusStreams != tc.wantStatusStreams {
				t.Fatalf("%d status streams, want %d", statusStreams, tc.wantStatusStreams)
			}
			if !tc.wantStatus {
				if p.Lifecycle != nil {
					t.Fatalf("lifecycle %+v, want none", p.Lifecycle)
				}
				return
			}
			if p.Lifecycle == nil || p.Lifecycle.Status == nil {
				t.Fatalf("no lifecycle status; notes %v", rep.Notes)
			}
			st := p.Lifecycle.Status
			if st.Topic != "plant/{{.ID}}/status" || st.Online != tc.wantOn || st.Offline != tc.wantOff || st.QoS != 1 {
				t.Fatalf("status %+v, want plant/{{.ID}}/status, %s/%s, QoS 1", st, tc.wantOn, tc.wantOff)
			}
			if !strings.Contains(strings.Join(rep.Notes, "\n"), "lifecycle status") {
				t.Errorf("notes %v do not say the topic became the status", rep.Notes)
			}
			compileInferred(t, f)
		})
	}
}

// Status alone is not something to simulate on a schedule.
func TestInferOnlyStatusSaysWhatIsMissing(t *testing.T) {
	var msgs []message.Message
	for dev := range 3 {
		m := msg(time.Now(), fmt.Sprintf("plant/dev%d/status", dev), fmt.Sprintf("dev%d", dev), "online")
		m.Retain = true
		msgs = append(msgs, m)
	}
	if _, _, err := Infer(msgs, Options{}); err == nil || !strings.Contains(err.Error(), "only the devices' status") {
		t.Fatalf("error %v, want it to say only status was seen", err)
	}
}

// compileInferred saves, parses back and compiles f, as the user runs it.
func compileInferred(t *testing.T, f *scenario.File) {
	t.Helper()
	text, err := scenario.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := scenario.Parse("inferred.yaml", text)
	if err != nil {
		t.Fatalf("the proposed file does not parse back:\n%v\n%s", err, text)
	}
	if _, err := device.Compile(saved, nil, device.Options{Protocol: 5}); err != nil {
		t.Fatalf("the proposed file does not compile:\n%v\n%s", err, text)
	}
}

// A shared phase just under a whole period rounds to 0, not to 1, which
// the sine generator refuses (the inferred file then did not compile).
func TestSharedPhaseNearAWholePeriodIsZero(t *testing.T) {
	for _, phases := range [][]float64{{0.9997, 0.9999}, {0.9996, 0.0002}} {
		if p, ok := (wave{phases: phases}).shared(); !ok || p != 0 {
			t.Errorf("phases %v: shared %v (%v), want 0", phases, p, ok)
		}
	}
}
