package journalstore

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/iotstudio/iotstudio/engine/auth"
	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/broker/brokertest"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

// dial connects an MQTT 5 client (paho) and reports the CONNACK's error.
func dial(t *testing.T, addr, id, user, pass string) (*paho.Client, error) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, testkit.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	cp := &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true}
	if user != "" {
		cp.Username, cp.UsernameFlag = user, true
		cp.Password, cp.PasswordFlag = []byte(pass), true
	}
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	if _, err := c.Connect(ctx, cp); err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return c, nil
}

// Passwords, right or wrong, never reach the journal's files: the raw
// files are searched for them, and for the client IDs, which must be
// there (the memtable log holds the events uncompressed).
func TestPasswordNeverStored(t *testing.T) {
	const good, bad = "Good-Pw-5x81Q", "Wrong-Pw-77Zk"
	users := filepath.Join(t.TempDir(), "users.yaml")
	u := &auth.Users{}
	if err := u.SetPassword("alice", []byte(good)); err != nil {
		t.Fatal(err)
	}
	if err := u.Save(users); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := open(t, dir, Options{})
	srv := brokertest.Start(t, func(c *broker.Config) { c.UsersFile, c.Journal = users, s })
	if _, err := dial(t, srv.Addr, "client-with-good-pw", "alice", good); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(t, srv.Addr, "client-with-bad-pw", "alice", bad); err == nil {
		t.Fatal("a wrong password connected")
	}
	testkit.Eventually(t, "the refusal journaled", func() bool {
		flush(t, s)
		return len(query(t, s, Query{Client: "client-with-bad-pw"})) == 1
	})
	found := map[string]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, s := range []string{good, bad, "client-with-good-pw", "client-with-bad-pw"} {
			if bytes.Contains(b, []byte(s)) {
				found[s] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found[good] || found[bad] {
		t.Fatalf("a password is in the journal's files: %v", found)
	}
	if !found["client-with-good-pw"] || !found["client-with-bad-pw"] {
		t.Fatalf("the client IDs are not in the raw files (%v): the search proves nothing", found)
	}
}

// A journal whose writer is stuck (a slow disk) costs the broker nothing:
// sessions still connect, messages are still routed, and the events that
// do not fit the queue are counted as dropped.
func TestStuckJournalDoesNotBlockBroker(t *testing.T) {
	hold := make(chan struct{})
	s := open(t, t.TempDir(), Options{QueueLen: 8, hold: hold})
	t.Cleanup(func() { close(hold) }) // before the store's Close (cleanups run last first)
	srv := brokertest.Start(t, func(c *broker.Config) { c.Journal = s })
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	sub, err := rawmqtt.Dial(ctx, srv.Addr, "sub", 4096, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Subscribe("t/#", 0); err != nil {
		t.Fatal(err)
	}
	for i := range 30 { // 60 events for a queue of 8
		c, err := rawmqtt.Dial(ctx, srv.Addr, fmt.Sprintf("churn-%d", i), 256, 256)
		if err != nil {
			t.Fatalf("connect %d with the journal stuck: %v", i, err)
		}
		c.Close()
	}
	pub, err := rawmqtt.Dial(ctx, srv.Addr, "pub", 4096, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	const n = 200
	frames := []rawmqtt.PubFrame{rawmqtt.EncodePublish("t/x", []byte("hello"), 0, false)}
	if err := pub.Publish(ctx, frames, n, 0, 0); err != nil {
		t.Fatal(err)
	}
	_ = sub.Conn.SetReadDeadline(time.Now().Add(testkit.Timeout))
	for i := range n {
		if _, err := sub.Next(); err != nil {
			t.Fatalf("message %d of %d not routed with the journal stuck: %v", i+1, n, err)
		}
	}
	testkit.Eventually(t, "events dropped and counted", func() bool {
		st, _ := s.Stats()
		return st.DroppedQueueFull >= 60-8-1
	})
	if ev, _ := s.Stats(); ev.Events != 0 {
		t.Fatalf("%d events written while the writer was held", ev.Events)
	}
}

// BenchmarkJournalStorm: 5,000 sessions connect to the real broker and
// leave (4 at a time), journaled into a real store; then one client's
// events are queried. Reports the events stored, the drops (the goal: 0)
// and the one-client query time.
//
//	go test -run '^$' -bench BenchmarkJournalStorm -benchtime 1x ./engine/journalstore/
func BenchmarkJournalStorm(b *testing.B) {
	const sessions, parallel = 5000, 4
	for b.Loop() {
		s := open(b, b.TempDir(), Options{})
		srv := brokertest.Start(b, func(c *broker.Config) { c.Journal = s })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		ids := make(chan int)
		errs := make(chan error, parallel)
		for range parallel {
			go func() {
				for i := range ids {
					c, err := rawmqtt.Dial(ctx, srv.Addr, fmt.Sprintf("storm-%04d", i), 256, 256)
					if err != nil {
						errs <- err
						return
					}
					c.Close()
				}
				errs <- nil
			}()
		}
		start := time.Now()
		for i := range sessions {
			ids <- i
		}
		close(ids)
		for range parallel {
			if err := <-errs; err != nil {
				b.Fatal(err)
			}
		}
		stormed := time.Since(start)
		testkit.Eventually(b, "every session's disconnect journaled", func() bool {
			flush(b, s)
			st, _ := s.Stats()
			return st.Events+st.Dropped() >= 2*sessions
		})
		t0 := time.Now()
		evs, err := s.Query(ctx, Query{Client: "storm-2500"})
		took := time.Since(t0)
		cancel()
		if err != nil || len(evs) != 2 {
			b.Fatalf("query: %d events, %v", len(evs), err)
		}
		st, _ := s.Stats()
		b.ReportMetric(float64(st.Events), "events")
		b.ReportMetric(float64(st.Dropped()), "dropped")
		b.ReportMetric(stormed.Seconds(), "storm-s")
		b.ReportMetric(float64(took.Microseconds())/1000, "query-ms")
	}
}
