package sessionstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/mochi-mqtt/server/v2/system"

	"github.com/iotstudio/iotstudio/engine/testkit"
)

var discard = slog.New(slog.DiscardHandler)

// openTemp opens a Hook in a fresh directory and stops it at test end.
func openTemp(t *testing.T) *Hook {
	t.Helper()
	h, err := Open(t.TempDir(), discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { stop(t, h) })
	return h
}

// stop calls h.Stop and fails the test if it errs or takes over 10s.
func stop(t testing.TB, h *Hook) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- h.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Stop did not return within 10s; goroutines:\n%s", strings.Join(ownGoroutines(), "\n\n"))
	}
}

func flush(t *testing.T, h *Hook) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

func testClient(id string) *mqtt.Client {
	return &mqtt.Client{
		ID:  id,
		Net: mqtt.ClientConnection{Remote: "127.0.0.1:5555", Listener: "t"},
		Properties: mqtt.ClientProperties{
			ProtocolVersion: 5,
			Username:        []byte("user-" + id),
			Props: packets.Properties{
				SessionExpiryInterval:     3600,
				SessionExpiryIntervalFlag: true,
			},
		},
	}
}

func publishPacket(topic, payload string, qos byte, retain bool, id uint16) packets.Packet {
	return packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos, Retain: retain},
		TopicName:   topic,
		Payload:     []byte(payload),
		PacketID:    id,
		Origin:      "origin",
		Created:     time.Now().Unix(),
		Properties:  packets.Properties{ContentType: "text/plain"},
	}
}

func mustClients(t *testing.T, h *Hook) map[string]storage.Client {
	t.Helper()
	v, err := h.StoredClients()
	if err != nil {
		t.Fatalf("StoredClients: %v", err)
	}
	m := map[string]storage.Client{}
	for _, c := range v {
		m[c.ID] = c
	}
	return m
}

func TestProvidesSameAsMochiBadger(t *testing.T) {
	h := &Hook{}
	want := []byte{
		mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnSubscribed, mqtt.OnUnsubscribed,
		mqtt.OnRetainMessage, mqtt.OnWillSent, mqtt.OnQosPublish, mqtt.OnQosComplete,
		mqtt.OnQosDropped, mqtt.OnSysInfoTick, mqtt.OnClientExpired, mqtt.OnRetainedExpired,
		mqtt.StoredClients, mqtt.StoredInflightMessages, mqtt.StoredRetainedMessages,
		mqtt.StoredSubscriptions, mqtt.StoredSysInfo,
	}
	for _, b := range want {
		if !h.Provides(b) {
			t.Errorf("Provides(%d) = false, want true", b)
		}
	}
	for _, b := range []byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPublish, mqtt.OnPacketRead} {
		if h.Provides(b) {
			t.Errorf("Provides(%d) = true, want false", b)
		}
	}
	if h.ID() != "iotstudio-sessions" {
		t.Errorf("ID = %q", h.ID())
	}
}

func TestRetainedSetAndDelete(t *testing.T) {
	h := openTemp(t)
	cl := testClient("c1")

	h.OnRetainMessage(cl, publishPacket("a/b", "hello", 1, true, 0), 1)
	h.OnRetainMessage(cl, publishPacket("a/c", "other", 0, true, 0), 1)
	flush(t, h)
	got, err := h.StoredRetainedMessages()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("retained = %d records, want 2: %+v", len(got), got)
	}
	byTopic := map[string]storage.Message{}
	for _, m := range got {
		byTopic[m.TopicName] = m
	}
	m := byTopic["a/b"]
	if string(m.Payload) != "hello" || !m.FixedHeader.Retain || m.FixedHeader.Qos != 1 ||
		m.Client != "c1" || m.Properties.ContentType != "text/plain" || m.ID != "RET_a/b" {
		t.Errorf("stored retained = %+v", m)
	}

	// A retained publish with an empty payload: mochi reports r == -1.
	h.OnRetainMessage(cl, publishPacket("a/b", "", 1, true, 0), -1)
	h.OnRetainedExpired("a/c")
	flush(t, h)
	got, err = h.StoredRetainedMessages()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("retained after delete = %+v, want none", got)
	}
}

func TestSubscriptionAddRemove(t *testing.T) {
	h := openTemp(t)
	cl := testClient("c1")
	sub := packets.Packet{Filters: packets.Subscriptions{
		{Filter: "x/#", Qos: 1, NoLocal: true, Identifier: 7},
		{Filter: "y/+", Qos: 2, RetainHandling: 2},
	}}
	h.OnSubscribed(cl, sub, []byte{1, 2})
	h.OnSubscribed(testClient("c2"), packets.Packet{Filters: packets.Subscriptions{{Filter: "x/#"}}}, []byte{0})
	flush(t, h)

	subs, err := h.StoredSubscriptions()
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 3 {
		t.Fatalf("subscriptions = %+v, want 3", subs)
	}
	found := false
	for _, s := range subs {
		if s.Client == "c1" && s.Filter == "x/#" {
			found = true
			if s.Qos != 1 || !s.NoLocal || s.Identifier != 7 || s.ID != "SUB_c1:x/#" {
				t.Errorf("stored subscription = %+v", s)
			}
		}
	}
	if !found {
		t.Fatalf("c1 x/# not stored: %+v", subs)
	}

	h.OnUnsubscribed(cl, packets.Packet{Filters: packets.Subscriptions{{Filter: "x/#"}}})
	flush(t, h)
	subs, err = h.StoredSubscriptions()
	if err != nil {
		t.Fatal(err)
	}
	if len(subs) != 2 {
		t.Fatalf("subscriptions after unsubscribe = %+v, want 2", subs)
	}
	for _, s := range subs {
		if s.Client == "c1" && s.Filter == "x/#" {
			t.Fatalf("c1 x/# still stored after unsubscribe")
		}
	}
}

func TestClientStoredAndDeletedOnCleanDisconnect(t *testing.T) {
	h := openTemp(t)
	cl := testClient("c1")
	cl.Properties.Will = mqtt.Will{TopicName: "will/c1", Payload: []byte("bye"), Flag: 1}

	h.OnSessionEstablished(cl, packets.Packet{})
	flush(t, h)
	got := mustClients(t, h)
	c, ok := got["c1"]
	if !ok {
		t.Fatalf("client not stored on session established: %+v", got)
	}
	if string(c.Username) != "user-c1" || c.Remote != "127.0.0.1:5555" || c.Listener != "t" ||
		c.ProtocolVersion != 5 || c.Properties.SessionExpiryInterval != 3600 ||
		!c.Properties.SessionExpiryIntervalFlag || c.Will.TopicName != "will/c1" {
		t.Errorf("stored client = %+v", c)
	}

	// Will sent: the record is rewritten without the will.
	cl.Properties.Will = mqtt.Will{}
	h.OnWillSent(cl, packets.Packet{})
	flush(t, h)
	if c := mustClients(t, h)["c1"]; c.Will.TopicName != "" {
		t.Errorf("will still stored after OnWillSent: %+v", c.Will)
	}

	// Persistent session: disconnect keeps the record.
	h.OnDisconnect(cl, nil, false)
	flush(t, h)
	if _, ok := mustClients(t, h)["c1"]; !ok {
		t.Fatal("persistent client deleted on disconnect")
	}

	// Session ends with the connection: record deleted.
	h.OnDisconnect(cl, nil, true)
	flush(t, h)
	if _, ok := mustClients(t, h)["c1"]; ok {
		t.Fatal("client still stored after disconnect with expire")
	}
}

func TestClientKeptOnSessionTakeover(t *testing.T) {
	h := openTemp(t)
	cl := testClient("c1")
	h.OnSessionEstablished(cl, packets.Packet{})
	cl.Stop(packets.ErrSessionTakenOver)
	h.OnDisconnect(cl, packets.ErrSessionTakenOver, true)
	flush(t, h)
	if _, ok := mustClients(t, h)["c1"]; !ok {
		t.Fatal("client deleted although its session was taken over")
	}

	h.OnClientExpired(cl)
	flush(t, h)
	if _, ok := mustClients(t, h)["c1"]; ok {
		t.Fatal("client still stored after OnClientExpired")
	}
}

func TestInflightAddComplete(t *testing.T) {
	h := openTemp(t)
	cl := testClient("c1")
	pk1 := publishPacket("q/1", "one", 1, false, 11)
	pk2 := publishPacket("q/2", "two", 2, false, 12)
	h.OnQosPublish(cl, pk1, 1234, 0)
	h.OnQosPublish(cl, pk2, 1235, 0)
	flush(t, h)

	msgs, err := h.StoredInflightMessages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 {
		t.Fatalf("inflight = %+v, want 2", msgs)
	}
	for _, m := range msgs {
		if m.PacketID == 11 && (string(m.Payload) != "one" || m.Sent != 1234 || m.Client != "c1" ||
			m.ID != "IFM_c1:11" || m.TopicName != "q/1") {
			t.Errorf("stored inflight = %+v", m)
		}
	}

	h.OnQosComplete(cl, pk1)
	h.OnQosDropped(cl, pk2)
	flush(t, h)
	msgs, err = h.StoredInflightMessages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 {
		t.Fatalf("inflight after complete/dropped = %+v, want none", msgs)
	}
}

func TestSysInfo(t *testing.T) {
	h := openTemp(t)
	v, err := h.StoredSysInfo()
	if err != nil || v.Info.Version != "" {
		t.Fatalf("empty StoredSysInfo = %+v, %v", v, err)
	}
	h.OnSysInfoTick(&system.Info{Version: "2.7.9", Uptime: 42})
	flush(t, h)
	v, err = h.StoredSysInfo()
	if err != nil {
		t.Fatal(err)
	}
	if v.Info.Version != "2.7.9" || v.Info.Uptime != 42 {
		t.Fatalf("StoredSysInfo = %+v", v.Info)
	}
}

// Many changes to one key, spanning several batches: the last one wins.
func TestSameKeyOrderPreserved(t *testing.T) {
	h := openTemp(t)
	cl := testClient("c1")
	for i := 0; i < 5000; i++ {
		h.OnRetainMessage(cl, publishPacket("k", fmt.Sprint(i), 0, true, 0), 1)
		if i%3 == 0 {
			h.OnRetainMessage(cl, publishPacket("k", "", 0, true, 0), -1)
		}
		if i%997 == 0 {
			time.Sleep(60 * time.Millisecond) // let the timer cut a batch mid-stream
		}
	}
	flush(t, h)
	got, err := h.StoredRetainedMessages()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got[0].Payload) != "4999" {
		t.Fatalf("retained k = %+v, want payload 4999", got)
	}
	if d := h.Dropped(); d != 0 {
		t.Fatalf("Dropped = %d, want 0", d)
	}
}

// Writes queued without Flush are on disk after Stop and a reopen.
func TestStopDrainsQueue(t *testing.T) {
	dir := t.TempDir()
	h, err := Open(dir, discard)
	if err != nil {
		t.Fatal(err)
	}
	cl := testClient("c1")
	h.OnSessionEstablished(cl, packets.Packet{})
	for i := 0; i < 3000; i++ {
		h.OnRetainMessage(cl, publishPacket(fmt.Sprintf("t/%d", i), "p", 0, true, 0), 1)
	}
	stop(t, h)

	h2, err := Open(dir, discard)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer h2.Stop()
	got, err := h2.StoredRetainedMessages()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3000 {
		t.Fatalf("after reopen: %d retained, want 3000", len(got))
	}
	if _, ok := mustClients(t, h2)["c1"]; !ok {
		t.Fatal("client lost across Stop/Open")
	}
}

func TestStopIdempotentAndAfterStop(t *testing.T) {
	h, err := Open(t.TempDir(), discard)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Stop(); err != nil {
				t.Errorf("Stop: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := h.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}

	// Nothing panics, nothing blocks, nothing is counted as a queue drop.
	cl := testClient("c1")
	h.OnSessionEstablished(cl, packets.Packet{})
	h.OnQosPublish(cl, publishPacket("a", "b", 1, false, 1), 0, 0)
	if h.Dropped() != 0 {
		t.Errorf("Dropped after Stop = %d, want 0", h.Dropped())
	}
	if err := h.Flush(context.Background()); err != nil {
		t.Errorf("Flush after Stop: %v", err)
	}
	if _, err := h.StoredClients(); !errors.Is(err, ErrStopped) {
		t.Errorf("StoredClients after Stop: %v, want ErrStopped", err)
	}
	if err := h.Init(nil); !errors.Is(err, ErrStopped) {
		t.Errorf("Init after Stop: %v, want ErrStopped", err)
	}
}

// Hook methods racing with Stop (mochi disconnects clients while it stops
// hooks) must neither panic nor block.
func TestEventsRacingStop(t *testing.T) {
	h, err := Open(t.TempDir(), discard)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := testClient(fmt.Sprint("c", g))
			<-start
			for i := 0; i < 2000; i++ {
				h.OnQosPublish(cl, publishPacket("a", "b", 1, false, uint16(i+1)), 0, 0)
				h.OnDisconnect(cl, nil, false)
			}
		}()
	}
	close(start)
	time.Sleep(5 * time.Millisecond)
	stop(t, h)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("hook methods blocked after Stop")
	}
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// With no writer draining the queue, a full queue drops and counts instead
// of blocking, and warns at most once per second.
func TestFullQueueDropsWithoutBlocking(t *testing.T) {
	var logs syncBuffer
	h := &Hook{
		dir: "mem",
		log: slog.New(slog.NewTextHandler(&logs, nil)),
		ops: make(chan *op, 4),
	}
	cl := testClient("c1")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			h.OnQosPublish(cl, publishPacket("a", "b", 1, false, uint16(i+1)), 0, 0)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("enqueue blocked on a full queue")
	}
	if got := h.Dropped(); got != 996 {
		t.Fatalf("Dropped = %d, want 996", got)
	}
	if n := strings.Count(logs.String(), "write queue full"); n != 1 {
		t.Fatalf("drop warning logged %d times, want 1 (rate limited): %s", n, logs.String())
	}
}

func TestOpenSameDirTwice(t *testing.T) {
	dir := t.TempDir()
	h := openTempAt(t, dir)
	_ = h
	h2, err := Open(dir, discard)
	if err == nil {
		h2.Stop()
		t.Fatal("second Open of the same dir succeeded")
	}
	t.Logf("second Open: %v", err)
	if !errors.Is(err, ErrLocked) {
		t.Errorf("error does not wrap ErrLocked: %v", err)
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "another IoT Studio may be running") {
		t.Errorf("error does not name the dir %q / explain: %v", dir, err)
	}
}

func openTempAt(t *testing.T, dir string) *Hook {
	t.Helper()
	h, err := Open(dir, discard)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { stop(t, h) })
	return h
}

func TestOpenPermissionDenied(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs a non-root POSIX user")
	}
	parent := t.TempDir()
	if err := os.Chmod(parent, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(parent, 0o700) })
	dir := filepath.Join(parent, "sessions")
	h, err := Open(dir, discard)
	if err == nil {
		h.Stop()
		t.Fatal("Open in a read-only parent succeeded")
	}
	t.Logf("Open: %v", err)
	if !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error = %v, want ErrPermission naming %s", err, dir)
	}
}

func TestOpenOnAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(f, discard)
	if err == nil || !strings.Contains(err.Error(), f) {
		t.Fatalf("Open on a file: %v, want an error naming %s", err, f)
	}
}

func TestOpenCorruptKeepsFiles(t *testing.T) {
	dir := t.TempDir()
	h, err := Open(dir, discard)
	if err != nil {
		t.Fatal(err)
	}
	h.OnRetainMessage(testClient("c"), publishPacket("a", "b", 0, true, 0), 1)
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "MANIFEST")
	garbage := []byte("this is not a badger manifest at all")
	if err := os.WriteFile(manifest, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(dir)

	h2, err := Open(dir, discard)
	if err == nil {
		h2.Stop()
		t.Fatal("Open of a corrupt dir succeeded")
	}
	t.Logf("Open: %v", err)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("error = %v, want ErrCorrupt naming %s", err, dir)
	}
	after, _ := os.ReadDir(dir)
	if len(after) < len(before) {
		t.Fatalf("files deleted: before %d, after %d", len(before), len(after))
	}
	if b, _ := os.ReadFile(manifest); !bytes.Equal(b, garbage) {
		t.Fatal("MANIFEST was modified")
	}
}

// ownGoroutines lists live goroutines running this package's or Badger's
// (and its cache's) code.
func ownGoroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sessionstore.(*Hook)") || strings.Contains(g, "github.com/dgraph-io/") {
			out = append(out, g)
		}
	}
	return out
}

// waitGoroutines polls until fn reports true; a failure lists the live
// goroutines of this package and badger.
func waitGoroutines(t *testing.T, what string, fn func() bool) {
	t.Helper()
	testkit.EventuallyErr(t, what, func() error {
		if fn() {
			return nil
		}
		return fmt.Errorf("live goroutines of this package/badger:\n%s", strings.Join(ownGoroutines(), "\n\n"))
	})
}

func TestStartStopNoGoroutineGrowth(t *testing.T) {
	dir := t.TempDir()
	before := runtime.NumGoroutine()
	for i := 0; i < 25; i++ {
		h, err := Open(dir, discard)
		if err != nil {
			t.Fatalf("round %d: Open: %v", i, err)
		}
		cl := testClient("c1")
		h.OnSessionEstablished(cl, packets.Packet{})
		h.OnRetainMessage(cl, publishPacket("a", fmt.Sprint(i), 1, true, 0), 1)
		if i%2 == 0 {
			flush(t, h)
		}
		stop(t, h)
	}
	waitGoroutines(t, "the goroutines of 25 Open/Stop rounds to end", func() bool {
		return runtime.NumGoroutine() <= before && len(ownGoroutines()) == 0
	})

	h := openTempAt(t, dir)
	got, err := h.StoredRetainedMessages()
	if err != nil || len(got) != 1 || string(got[0].Payload) != "24" {
		t.Fatalf("after 25 rounds: %+v, %v", got, err)
	}
}

func TestFlushHonoursContext(t *testing.T) {
	h := openTemp(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Either outcome is fine if the writer was quick, but a cancelled
	// context must never make Flush hang.
	done := make(chan error, 1)
	go func() { done <- h.Flush(ctx) }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Flush: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Flush with cancelled context hung")
	}
}

// BenchmarkEnqueue measures what the broker's publish path pays per QoS
// delivery: encoding plus a non-blocking channel send.
func BenchmarkEnqueue(b *testing.B) {
	h, err := Open(b.TempDir(), discard)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Stop()
	cl := testClient("c1")
	pk := publishPacket("bench/topic", strings.Repeat("x", 256), 1, false, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pk.PacketID = uint16(i%65535 + 1)
		h.OnQosPublish(cl, pk, 0, 0)
		h.OnQosComplete(cl, pk)
	}
	b.StopTimer()
	if d := h.Dropped(); d > 0 {
		b.Logf("dropped %d of %d ops (queue full)", d, 2*b.N)
	}
}

// BenchmarkWriteThroughput measures how fast the writer drains to disk.
func BenchmarkWriteThroughput(b *testing.B) {
	h, err := Open(b.TempDir(), discard)
	if err != nil {
		b.Fatal(err)
	}
	defer h.Stop()
	cl := testClient("c1")
	pk := publishPacket("bench/topic", strings.Repeat("x", 256), 1, false, 1)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		pk.PacketID = uint16(i%65535 + 1)
		h.OnQosPublish(cl, pk, 0, 0)
		if i%10000 == 9999 {
			if err := h.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := h.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
	if d := h.Dropped(); d > 0 {
		b.Fatalf("dropped %d", d)
	}
}

func TestInflightSkippedWhenItCannotOutliveTheConnection(t *testing.T) {
	h := openTemp(t)
	clean5 := testClient("clean5")
	clean5.Properties.Props.SessionExpiryInterval = 0
	clean3 := testClient("clean3")
	clean3.Properties.ProtocolVersion, clean3.Properties.Clean = 4, true
	persistent := testClient("keeper")
	h.OnQosPublish(clean5, publishPacket("q", "a", 1, false, 1), 0, 0)
	h.OnQosPublish(clean3, publishPacket("q", "b", 1, false, 2), 0, 0)
	h.OnQosPublish(persistent, publishPacket("q", "c", 1, false, 3), 0, 0)
	ack := publishPacket("q", "", 1, false, 4)
	ack.FixedHeader.Type = packets.Puback
	h.OnQosPublish(persistent, ack, 0, 0)
	flush(t, h)
	msgs, err := h.StoredInflightMessages()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Client != "keeper" || string(msgs[0].Payload) != "c" {
		t.Fatalf("stored %+v, want only the persistent session's message", msgs)
	}
}
