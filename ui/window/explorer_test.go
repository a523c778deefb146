package window

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"golang.org/x/sync/errgroup"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/capture"
	"github.com/iotstudio/iotstudio/engine/studio"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/ui/shell"
)

// The Explorer's wiring, without the window loop: the broker feeds both
// the capture and the topic model, the Explorer is the first panel, and
// everything stops in the window's and the engine's shutdown order.
func TestGUIFeedsCaptureAndTopicsAndShowsTheExplorerFirst(t *testing.T) {
	for _, withCapture := range []bool{true, false} {
		t.Run(map[bool]string{true: "capture", false: "no capture"}[withCapture], func(t *testing.T) {
			a := test.NewTempApp(t)
			data := t.TempDir()
			cfg := broker.DefaultConfig(data)
			cfg.MQTTAddr, cfg.WSAddr, cfg.NoPersistence = "127.0.0.1:0", "", true
			eng, err := studio.Open(studio.Config{Broker: cfg, Capture: withCapture, Topics: true, Logger: testkit.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			stop := testkit.Serve(t, eng.Serve)
			if err := eng.Start(); err != nil {
				t.Fatal(err)
			}
			b := eng.Broker
			tops := newTopicsView(eng)
			w := shell.NewMainWindow(a)
			t.Cleanup(w.Close)
			ctx, cancel := context.WithCancel(context.Background())
			var serving errgroup.Group
			tops.show(ctx, &serving, w, b)
			if tabs := mustTabs(w); len(tabs.Items) != 1 || tabs.Items[0].Text != "Explorer" {
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
			if err := serving.Wait(); err != nil {
				t.Error(err)
			}
			if err := stop(); err != nil {
				t.Error(err)
			}
			if !withCapture {
				return
			}
			store, err := capture.Open(studio.CaptureDir(data), capture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if st, _ := store.Stats(); st.Records != 1 {
				t.Errorf("the capture holds %d records, want the 1 message", st.Records)
			}
		})
	}
}
