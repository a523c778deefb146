package app

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// The wiring of runGUI, without the window loop: the broker feeds both
// the capture and the topic model, the Explorer is the first panel, and
// everything stops in the app's shutdown order.
func TestGUIFeedsCaptureAndTopicsAndShowsTheExplorerFirst(t *testing.T) {
	for _, withCapture := range []bool{true, false} {
		t.Run(map[bool]string{true: "capture", false: "no capture"}[withCapture], func(t *testing.T) {
			a := test.NewTempApp(t)
			log := slog.New(slog.DiscardHandler)
			var capt *guiCapture
			if withCapture {
				var err error
				if capt, err = newGUICapture(filepath.Join(t.TempDir(), "capture"), log); err != nil {
					t.Fatal(err)
				}
			}
			tops := newGUITopics(log)
			b, err := broker.New(broker.Config{MQTTAddr: "127.0.0.1:0", DataDir: t.TempDir(), NoPersistence: true,
				Recorder: tops.recorder(capt), Logger: log})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(); err != nil {
				t.Fatal(err)
			}
			w := shell.NewMainWindow(a)
			t.Cleanup(w.Close)
			ctx, cancel := context.WithCancel(context.Background())
			tops.show(ctx, w, b, nil)
			if tabs := w.Content().(*container.AppTabs); len(tabs.Items) != 1 || tabs.Items[0].Text != "Explorer" {
				t.Fatalf("tabs after show: %d, first %q", len(tabs.Items), tabs.Items[0].Text)
			}

			if err := b.Publish("plant/line1/speed", []byte("12.5"), true, 0); err != nil {
				t.Fatal(err)
			}
			sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer scancel()
			if err := tops.model.Sync(sctx); err != nil {
				t.Fatal(err)
			}
			if id, ok := tops.model.Lookup(broker.SourceBroker, "plant/line1/speed"); !ok {
				t.Error("the topic model did not get the broker's message")
			} else if d, _ := tops.model.Node(id); string(d.Last.Payload) != "12.5" || !d.Retained {
				t.Errorf("the model holds %q (retained %v)", d.Last.Payload, d.Retained)
			}

			cancel()
			tops.wait()
			if err := b.Stop(); err != nil {
				t.Error(err)
			}
			tops.close()
			if capt == nil {
				return
			}
			st, err := capt.rec.store.Load().Stats()
			if err != nil {
				t.Fatal(err)
			}
			if st.Ingested != 1 {
				t.Errorf("the capture ingested %d records, want the 1 message", st.Ingested)
			}
			capt.close()
		})
	}
}
