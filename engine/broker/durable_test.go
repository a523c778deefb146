package broker

import (
	"context"
	"encoding/binary"
	"fmt"
	"github.com/iotstudio/iotstudio/engine/sessionstore"
	"io"
	"os"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

const durableChildDirEnv = "IOTSTUDIO_DURABLE_CHILD_DIR"

// TestDurableAckChild is the broker process that
// TestAckedPublishSurvivesSIGKILL starts and kills; on its own it skips.
func TestDurableAckChild(t *testing.T) {
	dir := os.Getenv(durableChildDirEnv)
	if dir == "" {
		t.Skip("the broker child of TestAckedPublishSurvivesSIGKILL")
	}
	b, err := New(withStore(Config{MQTTAddr: "127.0.0.1:0", DataDir: dir, Logger: testkit.Logger()}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("listening %s\n", listenerAddr(t, b, "mqtt"))
	_, _ = io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin (or kills us)
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
}

// dialSession connects an MQTT 3.1.1 client with a persistent session
// (clean session 0) and reports whether the broker had one.
func dialSession(ctx context.Context, t *testing.T, addr, id string) (*rawmqtt.Client, bool) {
	t.Helper()
	c, present, err := rawmqtt.DialSession(ctx, addr, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, present
}

// An acknowledged QoS 1 message (QoS 2: PUBREC) queued for an offline
// persistent session survives a SIGKILL of the broker right after the
// acknowledgement.
func TestAckedPublishSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the broker in a child process three times")
	}
	for _, qos := range []byte{1, 2} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) { ackedPublishSurvivesSIGKILL(t, qos) })
	}
}

func ackedPublishSurvivesSIGKILL(t *testing.T, qos byte) {
	const n = 100
	ack := byte(rawmqtt.TypePuback)
	if qos == 2 {
		ack = 0x50 // PUBREC
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()

	// The session is set up by a broker that then stops cleanly, so it is
	// on disk for sure; what is at stake is only the publishes.
	child := startChildBroker(ctx, t, "TestDurableAckChild", durableChildDirEnv+"="+dir)
	addr := child.addr
	keeper, _ := dialSession(ctx, t, addr, "keeper")
	if err := keeper.Subscribe("jobs/#", 1); err != nil {
		t.Fatal(err)
	}
	// The broker closes the connection once it has handled the DISCONNECT,
	// so after EOF the session is offline and queues what follows.
	if err := keeper.Send([]byte{rawmqtt.TypeDisconnect, 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := keeper.R.ReadByte(); err != io.EOF {
		t.Fatalf("after DISCONNECT: %v, want EOF", err)
	}
	child.stop(t)

	child = startChildBroker(ctx, t, "TestDurableAckChild", durableChildDirEnv+"="+dir)
	addr = child.addr

	pub, err := rawmqtt.Dial(ctx, addr, "pub", 4096, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var batch []byte
	for i := 1; i <= n; i++ {
		f := rawmqtt.EncodePublish("jobs/x", fmt.Appendf(nil, "job-%03d", i), qos, false)
		f.SetPacketID(uint16(i))
		batch = append(batch, f.B...)
	}
	if err := pub.Send(batch); err != nil {
		t.Fatal(err)
	}
	var buf []byte
	for acked := 0; acked < n; {
		typ, body, err := pub.ReadPacket(&buf)
		if err != nil {
			t.Fatalf("after %d acknowledgements: %v", acked, err)
		}
		if typ == ack && len(body) >= 2 {
			acked++
		}
	}
	if err := child.cmd.Process.Kill(); err != nil { // SIGKILL, right at the 100th acknowledgement
		t.Fatal(err)
	}
	_ = child.cmd.Wait()

	addr = startChildBroker(ctx, t, "TestDurableAckChild", durableChildDirEnv+"="+dir).addr
	keeper, present := dialSession(ctx, t, addr, "keeper")
	if !present {
		t.Fatal("CONNACK says the persistent session is gone after the restart")
	}
	_ = keeper.Conn.SetReadDeadline(time.Now().Add(testTimeout))
	got := map[string]bool{}
	for len(got) < n {
		typ, body, err := keeper.ReadPacket(&buf)
		if err != nil {
			t.Fatalf("got %d of %d acknowledged messages after the restart: %v", len(got), n, err)
		}
		if typ&0xf0 != rawmqtt.TypePublish {
			continue
		}
		tl := int(binary.BigEndian.Uint16(body))
		pid := body[2+tl : 4+tl]
		got[string(body[4+tl:])] = true
		if err := keeper.Send(rawmqtt.Frame(rawmqtt.TypePuback, append([]byte(nil), pid...))); err != nil {
			t.Fatal(err)
		}
	}
}

// Concurrent publishers to a persistent session: every acknowledged message
// is already queued in the session when its PUBACK arrives, and the store
// writes they wait for are shared. The test logs what it costs, counted in
// store writes (commits) per message, against clean-session traffic that
// needs no store write at all.
func TestDurableAckCost(t *testing.T) {
	const pubs, msgs, window = 20, 50, 16
	for _, persistent := range []bool{true, false} {
		t.Run(fmt.Sprintf("persistent=%v", persistent), func(t *testing.T) {
			b := startBroker(t, nil)
			addr := listenerAddr(t, b, "mqtt")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if persistent {
				keeper, _ := dialSession(ctx, t, addr, "keeper")
				if err := keeper.Subscribe("jobs/#", 1); err != nil {
					t.Fatal(err)
				}
				keeper.Close()
				waitOffline(t, b, "keeper")
			}
			clients := make([]*rawmqtt.Client, pubs)
			for i := range clients {
				c, err := rawmqtt.Dial(ctx, addr, fmt.Sprintf("pub-%d", i), 4096, 64<<10)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				clients[i] = c
			}
			if err := b.sessions.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			commits0 := b.sessions.(*sessionstore.Hook).Commits()
			errs := make(chan error, pubs)
			for i, c := range clients {
				frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish(fmt.Sprintf("jobs/%d", i), []byte("job"), 1, false)}
				go func() { errs <- c.Publish(ctx, frames, msgs, 1, window) }()
			}
			for range clients {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			commits := b.sessions.(*sessionstore.Hook).Commits() - commits0
			if persistent { // no waiting: acknowledged means queued
				for _, c := range b.Clients() {
					if c.ID == "keeper" && c.Inflight != pubs*msgs {
						t.Errorf("all %d messages acknowledged, but the session holds %d", pubs*msgs, c.Inflight)
					}
				}
			}
			t.Logf("%d publishers x %d QoS 1 messages (window %d): %d store commits, %.3f per message",
				pubs, msgs, window, commits, float64(commits)/float64(pubs*msgs))
		})
	}
}
