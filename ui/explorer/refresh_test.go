package explorer

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/iotstudio/iotstudio/engine/topics"
)

// A filter typed while the UI still applies the last update (a slow
// refresh under load) is applied as soon as the UI is done, not at the
// next tick: here the next tick is an hour away.
func TestActionDuringSlowRefreshIsServedWhenTheUIIsFree(t *testing.T) {
	test.NewTempApp(t)
	m := topics.New(topics.Options{BatchInterval: -1})
	ctx, cancel := context.WithCancel(context.Background())
	modelDone := make(chan struct{})
	go func() { defer close(modelDone); _ = m.Serve(ctx) }()
	ui := make(chan func(), 4) // the test goroutine plays the UI goroutine
	p := New(m, test.NewTempWindow(t, nil), Options{Do: func(fn func()) { ui <- fn }})
	p.interval = time.Hour
	served := make(chan struct{})
	go func() { defer close(served); _ = p.Serve(ctx) }()
	defer func() { cancel(); <-served; <-modelDone }()

	next := func(what string) func() {
		t.Helper()
		select {
		case fn := <-ui:
			return fn
		case <-time.After(5 * time.Second):
			t.Fatalf("no update reached the UI %s", what)
			return nil
		}
	}
	first := next("at start")
	// The user types a filter while the first update waits for the UI.
	p.filter.SetText("home/#")
	// Let the refresh goroutine take the kick and find the UI busy.
	for deadline := time.Now().Add(5 * time.Second); len(p.kick) > 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	first()
	next("after the busy UI was done with the first update")()
	if p.lastUpdate == nil || p.lastUpdate.gen != p.gen {
		t.Fatalf("the update applied is of filter generation %v, want %d (the filter typed)", p.lastUpdate, p.gen)
	}
}
