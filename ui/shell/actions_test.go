package shell

import (
	"context"
	"testing"
	"time"
)

// Stop cancels a running action and waits for it; later actions do not start.
func TestActionsStopCancelsAndWaits(t *testing.T) {
	var a Actions
	started, ended := make(chan struct{}), make(chan struct{})
	if !a.Go(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		close(ended)
	}) {
		t.Fatal("Go before Stop reported false")
	}
	<-started
	stopped := make(chan struct{})
	go func() { a.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return: the action's context was not cancelled")
	}
	select {
	case <-ended:
	default:
		t.Fatal("Stop returned before the action ended")
	}
	if a.Go(func(context.Context) { t.Error("an action ran after Stop") }) {
		t.Error("Go after Stop reported true")
	}
}
