package bridge

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
)

func TestOutWithMapping(t *testing.T) {
	remote := mosquittopeer.Start(t, "")
	l := startLocal(t)
	_, got := testClient(t, remote.URL(), "remote-sub", false, client.Subscription{Filter: "#", QoS: 1})
	b := openBridge(t, l, remote.URL(), client.MQTT5, "", 0, Rule{Direction: Out, Local: "plant/#", Remote: "site1/plant/#", QoS: 1, Retain: RetainKeep})
	connected(t, b)
	pub, _ := testClient(t, l.url(), "local-pub", false)
	publish(t, pub, "other/x", "not bridged", 1)
	publish(t, pub, "plant/a/temp", "21.5", 1)
	testkit.Eventually(t, "the message at the remote", func() bool { return got.count() >= 1 })
	testkit.Eventually(t, "forwarded out counted", func() bool { return b.Stats().ForwardedOut == 1 })
	msgs := got.all()
	if len(msgs) != 1 || msgs[0].Topic != "site1/plant/a/temp" || string(msgs[0].Payload) != "21.5" || msgs[0].QoS != 1 {
		t.Fatalf("remote received %+v, want one site1/plant/a/temp 21.5 at QoS 1", msgs)
	}
}

func TestInWithMapping(t *testing.T) {
	remote := mosquittopeer.Start(t, "")
	l := startLocal(t)
	_, got := testClient(t, l.url(), "local-sub", false, client.Subscription{Filter: "#", QoS: 1})
	b := openBridge(t, l, remote.URL(), client.MQTT5, "", 0, Rule{Direction: In, Local: "plant/cmd/#", Remote: "site1/cmd/#", QoS: 1, Retain: RetainDrop})
	connected(t, b)
	pub, _ := testClient(t, remote.URL(), "remote-pub", false)
	// The bridge's subscription is made right after it connects; a
	// retained message reaches it whenever that is.
	publish(t, pub, "site1/cmd/valve", "open", 1)
	testkit.Eventually(t, "the command locally", func() bool { return b.Stats().ForwardedIn >= 1 })
	testkit.Eventually(t, "the local subscriber has it", func() bool { return got.count() >= 1 })
	msgs := got.all()
	if msgs[0].Topic != "plant/cmd/valve" || string(msgs[0].Payload) != "open" {
		t.Fatalf("local received %+v, want plant/cmd/valve open", msgs[0])
	}
	if s := b.Stats(); s.ForwardedOut != 0 {
		t.Errorf("an in rule sent %d messages out", s.ForwardedOut)
	}
}

func TestBothDirectionsNoLoop(t *testing.T) {
	remote := mosquittopeer.Start(t, "")
	l := startLocal(t)
	_, atLocal := testClient(t, l.url(), "local-sub", false, client.Subscription{Filter: "plant/#", QoS: 1})
	_, atRemote := testClient(t, remote.URL(), "remote-sub", false, client.Subscription{Filter: "site1/#", QoS: 1})
	b := openBridge(t, l, remote.URL(), client.MQTT5, "", 0, Rule{Name: "mirror", Direction: Both, Local: "plant/#", Remote: "site1/plant/#", QoS: 1, Retain: RetainKeep})
	connected(t, b)
	// The bridge's remote subscription follows its connect.
	rpub, _ := testClient(t, remote.URL(), "remote-pub", false)
	testkit.Eventually(t, "bridge subscribed at the remote", func() bool {
		publish(t, rpub, "site1/plant/probe", "p", 1)
		return b.Stats().ForwardedIn > 0
	})
	lpub, _ := testClient(t, l.url(), "local-pub", false)
	const n = 20
	for i := range n {
		publish(t, lpub, fmt.Sprintf("plant/l/%d", i), "L", 1)
		publish(t, rpub, fmt.Sprintf("site1/plant/r/%d", i), "R", 1)
	}
	// Markers last: once they crossed, any echo of the earlier ones would
	// have too.
	publish(t, lpub, "plant/l/end", "L", 1)
	publish(t, rpub, "site1/plant/r/end", "R", 1)
	testkit.Eventually(t, "markers across", func() bool {
		return atRemote.countBy()["site1/plant/l/end L"] == 1 && atLocal.countBy()["plant/r/end R"] == 1
	})
	testkit.Eventually(t, "counters settled", func() bool { return b.Stats().ForwardedOut == n+1 })
	for name, c := range map[string]*collector{"local": atLocal, "remote": atRemote} {
		for k, v := range c.countBy() {
			if strings.Contains(k, "probe") {
				continue
			}
			if v != 1 {
				t.Errorf("%s subscriber got %q %d times, want once", name, k, v)
			}
		}
	}
	if got := len(atLocal.countBy()); got < 2*(n+1) {
		t.Errorf("local subscriber saw %d distinct messages, want %d", got, 2*(n+1))
	}
	s := b.Stats()
	if s.ForwardedOut != n+1 {
		t.Errorf("forwarded out %d, want %d (an echo came back)", s.ForwardedOut, n+1)
	}
}

func TestQoS1AcrossRemoteRestart(t *testing.T) {
	remote := mosquittopeer.Start(t, "persistence true\npersistence_location "+t.TempDir()+"/\n")
	l := startLocal(t)
	_, got := testClient(t, remote.URL(), "remote-sub", true, client.Subscription{Filter: "site1/#", QoS: 1})
	b := openBridge(t, l, remote.URL(), client.MQTT5, "", 0, Rule{Direction: Out, Local: "plant/#", Remote: "site1/plant/#", QoS: 1})
	connected(t, b)
	remote.Stop()
	testkit.Eventually(t, "bridge sees the remote down", func() bool { return b.Stats().State == StateDown })
	pub, _ := testClient(t, l.url(), "local-pub", false)
	const n = 100
	for i := range n {
		publish(t, pub, fmt.Sprintf("plant/m/%d", i%7), fmt.Sprint(i), 1)
	}
	testkit.Eventually(t, "100 queued", func() bool { return b.Stats().Queued == n })
	if s := b.Stats(); s.LastError == "" {
		t.Errorf("down without a last error: %+v", s)
	}
	remote.Start()
	testkit.Eventually(t, "all 100 at the remote subscriber", func() bool { return len(got.countBy()) == n })
	testkit.Eventually(t, "all counted", func() bool { return b.Stats().ForwardedOut == n })
	s := b.Stats()
	if s.Dropped != 0 || s.Queued != 0 {
		t.Errorf("stats after delivery: %+v", s)
	}
	seen := map[string]bool{}
	for _, m := range got.all() {
		seen[string(m.Payload)] = true
	}
	for i := range n {
		if !seen[fmt.Sprint(i)] {
			t.Errorf("message %d lost", i)
		}
	}
}

func TestQueueFullDropsOldestAndSurvivesRestart(t *testing.T) {
	port := testkit.FreePort(t) // nothing listens yet: the remote is down
	remote := mosquittopeer.New(t, fmt.Sprintf("listener %d 127.0.0.1\n", port), port)
	l := startLocal(t)
	dir := t.TempDir()
	rule := Rule{Direction: Out, Local: "plant/#", Remote: "site1/plant/#", QoS: 1}
	b := openBridge(t, l, remote.URL(), client.MQTT5, dir, 10, rule)
	testkit.Eventually(t, "bridge down", func() bool { return b.Stats().State == StateDown })
	pub, _ := testClient(t, l.url(), "local-pub", false)
	for i := range 25 {
		publish(t, pub, "plant/x", fmt.Sprint(i), 1)
	}
	testkit.Eventually(t, "queue full", func() bool { s := b.Stats(); return s.Queued+int(s.Dropped) == 25 })
	if s := b.Stats(); s.Queued != 10 || s.Dropped != 15 {
		t.Fatalf("queued %d, dropped %d; want 10 and 15", s.Queued, s.Dropped)
	}
	closeBridge(t, l, b) // the app stops with 10 waiting

	remote.Start()
	_, got := testClient(t, remote.URL(), "remote-sub", false, client.Subscription{Filter: "site1/#", QoS: 1})
	// The remote is up, so the reopened bridge may send the 10 before its
	// queue can be counted: that they arrive, newest ten in order, from a
	// publisher that sent nothing since, shows they were kept on disk.
	openBridge(t, l, remote.URL(), client.MQTT5, dir, 10, rule)
	testkit.Eventually(t, "the 10 kept ones delivered", func() bool { return got.count() >= 10 })
	var payloads []string
	for _, m := range got.all() {
		payloads = append(payloads, string(m.Payload))
	}
	if want := "15 16 17 18 19 20 21 22 23 24"; strings.Join(payloads, " ") != want {
		t.Errorf("delivered %v, want the newest ten in order: %s", payloads, want)
	}
}

func TestLoopRefusedAtOpen(t *testing.T) {
	l := startLocal(t)
	_, err := Open(Config{Name: "x", Connection: "old", Rules: []Rule{{Name: "mirror", Direction: Both, Local: "plant/#", Remote: "site1/plant/#"}}},
		Options{Profile: client.Profile{ID: "o", Name: "old", URL: "mqtt://127.0.0.1:1", Protocol: client.MQTT311}, Local: l.Broker, QueueDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `rule "mirror" would loop`) || !strings.Contains(err.Error(), "MQTT 3.1.1") {
		t.Fatalf("err = %v, want the mirror rule refused as a loop on MQTT 3.1.1", err)
	}
}

func TestRemoteWithCredentialsFromKeyring(t *testing.T) {
	mosquittopeer.Binary(t) // mosquitto_passwd comes with it: skip or fail as for mosquitto
	pwFile := filepath.Join(t.TempDir(), "passwd")
	if out, err := exec.Command("mosquitto_passwd", "-b", "-c", pwFile, "bridge", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v: %s", err, out)
	}
	if err := os.Chmod(pwFile, 0o600); err != nil {
		t.Fatal(err)
	}
	remote := mosquittopeer.Start(t, "allow_anonymous false\npassword_file "+pwFile+"\n")
	l := startLocal(t)

	dataDir := t.TempDir()
	prof := client.Profile{ID: client.NewID(), Name: "Site broker", URL: remote.URL(), Protocol: client.MQTT311, Username: "bridge", HasPassword: true, CleanStart: true}
	if err := client.NewStore(dataDir).Save([]client.Profile{prof}); err != nil {
		t.Fatal(err)
	}
	secrets := client.NewSecrets(&memKeyring{})
	if err := secrets.Set(prof.ID, client.SecretPassword, "wrong"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "bridges.yaml")
	yaml := "bridges:\n  - name: site\n    connection: Site broker\n    rules:\n      - direction: out\n        local: plant/#\n        remote: site1/plant/#\n        qos: 1\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	saved, err := client.NewStore(dataDir).Load()
	if err != nil {
		t.Fatal(err)
	}
	plans, err := LoadFile(file, saved)
	if err != nil {
		t.Fatal(err)
	}
	open := func() *Bridge {
		b, err := OpenPlanned(plans[0], secrets, l.Broker, dataDir, fastRetry, testkit.Logger())
		if err != nil {
			t.Fatal(err)
		}
		l.tap.b.Store(b)
		return b
	}
	bad := open()
	testkit.Eventually(t, "refused login reported", func() bool {
		s := bad.Stats()
		return s.State == StateDown && strings.Contains(strings.ToLower(s.LastError), "password")
	})
	t.Logf("wrong password: %s", bad.Stats().LastError)
	closeBridge(t, l, bad)

	if err := secrets.Set(prof.ID, client.SecretPassword, "s3cret"); err != nil {
		t.Fatal(err)
	}
	b := open()
	t.Cleanup(func() { closeBridge(t, l, b) })
	connected(t, b)
	remoteSub := client.Profile{ID: "s", Name: "sub", URL: remote.URL(), Protocol: client.MQTT5, Username: "bridge", HasPassword: true, CleanStart: true}
	col := &collector{}
	mgr := client.NewManager(col, fastRetry)
	conn, err := mgr.Open(remoteSub, client.Credentials{Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.CloseAll(context.Background()) })
	testkit.Eventually(t, "subscriber up", func() bool { return conn.Status().State == client.StateConnected })
	if _, err := conn.Subscribe(context.Background(), client.Subscription{Filter: "site1/#", QoS: 1}); err != nil {
		t.Fatal(err)
	}
	pub, _ := testClient(t, l.url(), "local-pub", false)
	publish(t, pub, "plant/p", "x", 1)
	testkit.Eventually(t, "message through the authenticated remote", func() bool { return col.count() == 1 })
}

func TestRetainHandling(t *testing.T) {
	for _, tc := range []struct {
		mode     RetainMode
		retained bool // a subscriber arriving later gets the message
	}{{RetainKeep, true}, {RetainDrop, false}} {
		t.Run(string(tc.mode), func(t *testing.T) {
			remote := mosquittopeer.Start(t, "")
			l := startLocal(t)
			b := openBridge(t, l, remote.URL(), client.MQTT5, "", 0, Rule{Direction: Out, Local: "plant/#", Remote: "site1/plant/#", QoS: 1, Retain: tc.mode})
			connected(t, b)
			pub, _ := testClient(t, l.url(), "local-pub", false)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := pub.Publish(ctx, client.Message{Topic: "plant/state", Payload: []byte("on"), QoS: 1, Retain: true}); err != nil {
				t.Fatal(err)
			}
			publish(t, pub, "plant/marker", "m", 1) // same lane or not, both settle before the check
			testkit.Eventually(t, "both forwarded", func() bool { return b.Stats().ForwardedOut == 2 })
			_, late := testClient(t, remote.URL(), "late-sub", false, client.Subscription{Filter: "site1/#", QoS: 1})
			// A retained message arrives with the SUBACK's flow; the marker,
			// not retained, never does: publish one more to know we waited.
			publish(t, pub, "plant/after", "a", 1)
			testkit.Eventually(t, "the later message", func() bool { return late.countBy()["site1/plant/after a"] == 1 })
			gotRetained := late.countBy()["site1/plant/state on"] > 0
			if gotRetained != tc.retained {
				t.Errorf("retain %s: a later subscriber got the retained message: %v, want %v", tc.mode, gotRetained, tc.retained)
			}
		})
	}
}

// On MQTT 3.1.1 both directions work when the remote filters are disjoint.
func TestMQTT311BothWaysDisjoint(t *testing.T) {
	remote := mosquittopeer.Start(t, "")
	l := startLocal(t)
	_, atLocal := testClient(t, l.url(), "local-sub", false, client.Subscription{Filter: "plant/#", QoS: 1})
	_, atRemote := testClient(t, remote.URL(), "remote-sub", false, client.Subscription{Filter: "site1/#", QoS: 1})
	b := openBridge(t, l, remote.URL(), client.MQTT311, "", 0,
		Rule{Name: "up", Direction: Out, Local: "plant/data/#", Remote: "site1/up/#", QoS: 1},
		Rule{Name: "down", Direction: In, Local: "plant/cmd/#", Remote: "site1/down/#", QoS: 1})
	connected(t, b)
	rpub, _ := testClient(t, remote.URL(), "remote-pub", false)
	testkit.Eventually(t, "a command down", func() bool {
		publish(t, rpub, "site1/down/valve", "open", 1)
		return atLocal.countBy()["plant/cmd/valve open"] > 0
	})
	lpub, _ := testClient(t, l.url(), "local-pub", false)
	publish(t, lpub, "plant/data/t", "20", 1)
	testkit.Eventually(t, "data up", func() bool { return atRemote.countBy()["site1/up/t 20"] == 1 })
}

// Messages kept on disk beyond a queue made smaller since are dropped
// oldest first at open, and counted.
func TestSmallerQueueAtRestartDropsOldest(t *testing.T) {
	dir := t.TempDir()
	q, err := openQueue(dir, 10, testkit.Logger())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		q.push(message.Message{Topic: "t", Payload: []byte(fmt.Sprint(i)), QoS: 1})
	}
	if err := q.close(); err != nil {
		t.Fatal(err)
	}
	q, err = openQueue(dir, 4, testkit.Logger())
	if err != nil {
		t.Fatal(err)
	}
	defer q.close()
	queued, dropped := q.counts()
	es := q.take(10)
	if queued != 4 || dropped != 6 || len(es) != 4 || string(es[0].m.Payload) != "6" || string(es[3].m.Payload) != "9" {
		t.Fatalf("queued %d dropped %d, first %q; want 4, 6 and the newest four", queued, dropped, es[0].m.Payload)
	}
}

// A full queue says so in the log, not only in the counters.
func TestQueueDropsAreLogged(t *testing.T) {
	l := startLocal(t)
	var logs lockedLog
	b, err := Open(Config{Name: "x", Connection: "down", Queue: 2, Rules: []Rule{{Direction: Out, Local: "a/#", Remote: "b/#", QoS: 1}}},
		Options{Profile: client.Profile{ID: "d", Name: "down", URL: fmt.Sprintf("mqtt://127.0.0.1:%d", testkit.FreePort(t)), Protocol: client.MQTT5},
			Local: l.Broker, QueueDir: t.TempDir(), Client: fastRetry, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer closeBridge(t, l, b)
	for i := range 5 {
		b.Ingest(message.Message{Topic: "a/x", Payload: []byte(fmt.Sprint(i)), QoS: 1, ClientID: "c"})
	}
	testkit.Eventually(t, "the drops in the log", func() bool {
		return strings.Contains(logs.String(), "bridge queue full") && strings.Contains(logs.String(), "dropped_total=")
	})
}

type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
