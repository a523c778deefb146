package connections

import (
	"strings"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
)

// Issue 14: the embedded broker was away (stopped, or stopped by a
// settings change it could not apply) and came back at the same address;
// the Local broker connection took 14 s to follow, because its own
// retries had backed off (1, 2, 4, 8 s…) and the panel, seeing the same
// address, left it to them. It must reconnect as soon as the broker is
// back, well before its next retry.
func TestTheLocalProfileReconnectsAtOnceWhenTheBrokerIsBack(t *testing.T) {
	// Retries wait 0, 0.6, 1.2, 2.4, then at least 3.84 s (4.8 s less
	// jitter). Attempts counts the lost link too: at 5 the long wait is on.
	h := newHarness(t, harnessOpts{minBackoff: 600 * time.Millisecond})
	local := h.row(t, LocalName)
	b := brokertest.Start(t)
	addr := b.Addr
	h.local.Store(&addr)
	connected := func() bool {
		return strings.HasPrefix(local.state.Text, "Connected") && strings.Contains(local.where.Text, addr)
	}
	h.q.Until(t, "the local profile to connect", connected)

	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	away := ""
	h.local.Store(&away)
	h.q.Until(t, "the connection's retries to back off to a long wait", func() bool {
		return h.mgr.Get(LocalName).Status().Attempts >= 5
	})

	brokertest.Start(t, func(c *broker.Config) { c.MQTTAddr = addr })
	h.local.Store(&addr)
	const prompt = 2500 * time.Millisecond // the next retry is at least 3.84 s away
	deadline := time.After(prompt)
	for !connected() {
		select {
		case fn := <-h.q:
			fn()
		case <-deadline:
			t.Fatalf("the local profile is %q %q %v after the broker came back; it waits for its own retry", local.state.Text, local.where.Text, prompt)
		}
	}
}
