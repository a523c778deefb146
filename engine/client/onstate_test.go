package client

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
)

// Options.OnState hears every state change: connected, the link lost
// (reconnecting, with why), and the user's close.
func TestOnStateTellsEveryChange(t *testing.T) {
	b, err := broker.New(broker.Config{MQTTAddr: "127.0.0.1:0", NoPersistence: true, DataDir: t.TempDir(), Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop() })
	addr := b.State().Listeners[0].Address

	var mu sync.Mutex
	var seen []Status
	opts := testOptions()
	opts.OnState = func(st Status) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, st)
	}
	m := NewManager(nil, opts)
	c, err := m.Open(profile("bench", "mqtt://"+addr, MQTT5), Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, c, StateConnected, 10*time.Second)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, StateReconnecting, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.CloseAll(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var states []State
	for _, st := range seen {
		if len(states) == 0 || states[len(states)-1] != st.State {
			states = append(states, st.State)
		}
	}
	if want := []State{StateConnected, StateReconnecting, StateDisconnected}; !slices.Equal(states, want) {
		t.Fatalf("OnState heard %v, want %v", states, want)
	}
	i := slices.IndexFunc(seen, func(st Status) bool { return st.State == StateReconnecting && st.LastError != nil })
	if i < 0 || seen[i].Name != "bench" {
		t.Fatalf("OnState heard %+v; want the lost link with the connection's name and why", seen)
	}
}
