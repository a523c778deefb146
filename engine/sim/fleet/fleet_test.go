package fleet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/iotstudio/iotstudio/engine/broker"
	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
	"github.com/iotstudio/iotstudio/engine/sim/scenario"
	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/mosquittopeer"
	"golang.org/x/crypto/bcrypt"
)

func protoName(p byte) string { return message.ProtocolName(p) }

// Every device's stream reaches the broker in order, counted, with its
// sequence number (MQTT 5) and measured lag.
func TestMessagesArriveInOrder(t *testing.T) {
	for _, proto := range []byte{5, 4} {
		t.Run(protoName(proto), func(t *testing.T) {
			srv, tp := startBroker(t)
			const n = 50
			r := run(t, fleetOf{n: n, every: 100 * time.Millisecond, ramp: scenario.Ramp{PerSecond: 500}},
				Target{URL: "mqtt://" + srv.Addr, Protocol: proto}, Options{Seed: 1})
			tp.runner.Store(r.Runner)
			testkit.Eventually(t, "50 devices online, each with 5 messages at the broker", func() bool {
				if r.Stats().Connected != n {
					return false
				}
				for i := range n {
					id := fmt.Sprintf("sim-dev%03d", i)
					if len(tp.matching(func(m message.Message) bool { return m.ClientID == id && strings.HasPrefix(m.Topic, "data/") })) < 5 {
						return false
					}
				}
				return true
			})
			for i := range n {
				id := fmt.Sprintf("sim-dev%03d", i)
				msgs := tp.matching(func(m message.Message) bool { return m.ClientID == id && strings.HasPrefix(m.Topic, "data/") })
				for k, m := range msgs {
					if got, want := string(m.Payload), strconv.Itoa(k+1); got != want {
						t.Fatalf("%s message %d: payload %q, want %q (out of order or lost)", id, k, got, want)
					}
					if proto == 5 {
						if seq := prop(m, PropSeq); seq != strconv.Itoa(k) {
							t.Fatalf("%s message %d: %s = %q, want %d", id, k, PropSeq, seq, k)
						}
						if prop(m, PropTime) == "" {
							t.Fatalf("%s message %d has no %s", id, k, PropTime)
						}
					}
				}
			}
			testkit.Eventually(t, "a send rate", func() bool { return r.Stats().SentPerSec > 0 })
			st := r.Stats()
			if st.Wanted != n || st.Sent < 5*n || st.Errors != 0 {
				t.Fatalf("stats %+v: want %d wanted, ≥ %d sent, no errors", st, n, 5*n)
			}
			if st.LagP99 <= 0 || st.LagMax < st.LagP99 || st.LagP50 > st.LagP99 {
				t.Fatalf("lag not measured: p50 %s p99 %s max %s", st.LagP50, st.LagP99, st.LagMax)
			}
			if proto == 5 && (!st.Observed || st.Delivered == 0 || st.Lost != 0 || st.LatencyP99 <= 0) {
				t.Fatalf("observed %v delivered %d lost %d latency p99 %s: want delivered > 0, none lost, latency measured", st.Observed, st.Delivered, st.Lost, st.LatencyP99)
			}
			for _, d := range r.Devices() {
				if d.State != Online || d.Sent == 0 {
					t.Fatalf("device %+v: want online with messages sent", d)
				}
			}
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func prop(m message.Message, key string) string {
	for _, u := range m.UserProps {
		if u.Key == key {
			return u.Value
		}
	}
	return ""
}

// A command through the broker gets its reply: on MQTT 5 on the response
// topic with the correlation data; the handler's delay and offline
// effects run without blocking.
func TestHandlerReplyRoundTrip(t *testing.T) {
	srv, tp := startBroker(t)
	r := run(t, fleetOf{n: 2, every: time.Hour, conf: sim.Connect{ReconnectMin: 100 * time.Millisecond}},
		Target{URL: "mqtt://" + srv.Addr, Protocol: 5}, Options{})
	testkit.Eventually(t, "2 devices online", func() bool { return r.Stats().Connected == 2 })
	testkit.Eventually(t, "devices subscribed", func() bool {
		n := 0
		for _, c := range srv.Clients() {
			if strings.HasPrefix(c.ID, "sim-") && len(c.Subscriptions) == 1 {
				n++
			}
		}
		return n == 2
	})
	snd, err := client.DialSender(context.Background(), client.SenderOptions{URL: "mqtt://" + srv.Addr})
	if err != nil {
		t.Fatal(err)
	}
	defer snd.Close()
	if err := snd.Publish(context.Background(), client.Message{Topic: "test/dev001/cmd", Payload: []byte("ping"), QoS: 1,
		ResponseTopic: "answers/7", CorrelationData: []byte("c-7")}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the reply on answers/7 with correlation data c-7", func() bool {
		return len(tp.matching(func(m message.Message) bool {
			return m.ClientID == "sim-dev001" && m.Topic == "answers/7" && string(m.Payload) == "ok:ping" && bytes.Equal(m.CorrelationData, []byte("c-7"))
		})) == 1
	})

	// Command runs the handler as if received; Delay defers the reply.
	if err := r.Command("dev000", message.Message{Topic: "test/dev000/cmd", Payload: []byte("later")}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "the delayed reply", func() bool {
		return len(tp.matching(func(m message.Message) bool { return m.Topic == "test/dev000/reply" && string(m.Payload) == "ok:later" })) == 1
	})

	// Offline: the reply goes out, then the device drops (its will fires)
	// and comes back.
	w := watch(t, srv.Addr, "status/#")
	// The subscription's retained messages first: mochi reads them after
	// the SUBACK, and a will retained meanwhile would be read instead (and
	// mochi v2.7.9 retains a will unsynchronised with that read).
	testkit.Eventually(t, "the watcher's retained status", func() bool { return w.saw("status/dev000", "online") })
	if err := r.Command("dev000", message.Message{Topic: "test/dev000/cmd", Payload: []byte("nap")}); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyErr(t, "the nap's reply, the will, and the device back online", func() error {
		replies := len(tp.matching(func(m message.Message) bool { return m.Topic == "test/dev000/reply" && string(m.Payload) == "ok:nap" }))
		lost, online, st := w.saw("status/dev000", "lost"), w.count("status/dev000", "online"), r.Stats()
		if replies != 1 || !lost || online < 2 || st.Connected != 2 {
			var seen, pub []string
			w.mu.Lock()
			for _, m := range w.msgs {
				seen = append(seen, m.Topic+"="+string(m.Payload)+fmt.Sprint(m.Retain))
			}
			w.mu.Unlock()
			for _, m := range tp.matching(func(m message.Message) bool { return strings.HasPrefix(m.Topic, "status/") }) {
				pub = append(pub, m.ClientID+":"+m.Topic+"="+string(m.Payload))
			}
			return fmt.Errorf("%d replies, will seen %v, online seen %d times, %d connected, devices %+v; watcher got %v; broker got %v", replies, lost, online, st.Connected, r.Devices(), seen, pub)
		}
		return nil
	})
	if err := r.Command("nosuch", message.Message{}); err == nil || !strings.Contains(err.Error(), `no device "nosuch"`) {
		t.Fatalf("command to an unknown device: %v", err)
	}
}

// Kill drops a device without DISCONNECT: the broker publishes its will.
// A graceful stop publishes offline and no will fires.
func TestKillFiresWillGracefulStopDoesNot(t *testing.T) {
	for _, proto := range []byte{5, 4} {
		t.Run(protoName(proto), func(t *testing.T) {
			srv, _ := startBroker(t)
			w := watch(t, srv.Addr, "status/#")
			r := run(t, fleetOf{n: 3, every: 50 * time.Millisecond, conf: sim.Connect{ReconnectMin: 100 * time.Millisecond}},
				Target{URL: "mqtt://" + srv.Addr, Protocol: proto}, Options{})
			testkit.Eventually(t, "3 devices online", func() bool {
				return r.Stats().Connected == 3 && w.saw("status/dev000", "online") && w.saw("status/dev001", "online") && w.saw("status/dev002", "online")
			})
			if err := r.Kill("dev001"); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "dev001's will, then dev001 back online", func() bool {
				return w.saw("status/dev001", "lost") && w.count("status/dev001", "online") == 2 && r.Stats().Connected == 3
			})
			if st := r.Stats(); st.Reconnects != 1 {
				t.Fatalf("reconnects %d, want 1", st.Reconnects)
			}
			if err := r.stop(); err != nil {
				t.Fatalf("graceful stop: %v", err)
			}
			testkit.Eventually(t, "the devices gone from the broker", func() bool {
				for _, c := range srv.Clients() {
					if strings.HasPrefix(c.ID, "sim-") {
						return false
					}
				}
				return true
			})
			// mochi sends a will before it forgets the client, so the
			// retained status is final now.
			retained := map[string]string{}
			for _, m := range srv.RetainedMessages() {
				retained[m.Topic] = string(m.Payload)
			}
			for _, id := range []string{"dev000", "dev001", "dev002"} {
				if got := retained["status/"+id]; got != "offline" {
					t.Errorf("retained status/%s = %q after a graceful stop, want offline", id, got)
				}
			}
			if w.saw("status/dev000", "lost") || w.saw("status/dev002", "lost") {
				t.Error("a will fired on a graceful stop")
			}
			for _, d := range r.Devices() {
				if d.State != Stopped {
					t.Errorf("device %s: state %s after stop", d.ID, d.State)
				}
			}
		})
	}
}

// Devices come back after the broker restarts, counted as reconnects,
// and while it is down the error says so in words.
func TestReconnectAfterBrokerRestart(t *testing.T) {
	port := testkit.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	srv, _ := startBroker(t, func(c *broker.Config) { c.MQTTAddr = addr })
	const n = 10
	r := run(t, fleetOf{n: n, every: 50 * time.Millisecond, conf: sim.Connect{ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}},
		Target{URL: "mqtt://" + addr, Protocol: 5}, Options{})
	testkit.Eventually(t, "10 devices online", func() bool { return r.Stats().Connected == n })
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "no device connected, the error in words", func() bool {
		st := r.Stats()
		return st.Connected == 0 && strings.Contains(st.LastError, "connection refused") && strings.Contains(st.LastError, addr)
	})
	for _, d := range r.Devices() {
		if d.State != Reconnecting || d.LastError == "" {
			t.Fatalf("device %+v: want reconnecting with its last error", d)
		}
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, "10 devices back online", func() bool {
		st := r.Stats()
		return st.Connected == n && st.Reconnects >= n
	})
	sent := r.Stats().Sent
	testkit.Eventually(t, "messages flowing again", func() bool { return r.Stats().Sent > sent+n })
}

// A wrong password is said in words and no device counts as connected.
func TestWrongPassword(t *testing.T) {
	for _, proto := range []byte{5, 4} {
		t.Run(protoName(proto), func(t *testing.T) {
			dir := t.TempDir()
			// bcrypt's lowest cost: at the default one, a CONNECT takes
			// seconds under the race detector on a busy machine.
			hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			users := filepath.Join(dir, "users.yaml")
			if err := os.WriteFile(users, []byte("anonymous: false\nusers:\n  - name: alice\n    password_hash: \""+string(hash)+"\"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			srv, _ := startBroker(t, func(c *broker.Config) { c.UsersFile = users })
			r := run(t, fleetOf{n: 3, every: 50 * time.Millisecond, conf: sim.Connect{ReconnectMin: 50 * time.Millisecond}},
				Target{URL: "mqtt://" + srv.Addr, Protocol: proto, Username: "alice", Password: "wrong"}, Options{})
			testkit.Eventually(t, "every device refused, the reason in words", func() bool {
				st := r.Stats()
				return st.Errors >= 3 && strings.Contains(st.LastError, `user "alice"`) &&
					(strings.Contains(st.LastError, "bad user name or password") || strings.Contains(st.LastError, "not authorized"))
			})
			st := r.Stats()
			if st.Connected != 0 || st.Sent != 0 {
				t.Fatalf("stats %+v: want none connected, nothing sent", st)
			}
			for _, d := range r.Devices() {
				if d.State == Online {
					t.Fatalf("device %s online with a wrong password", d.ID)
				}
			}
		})
	}
}

// Chaos disconnects devices at random and drops a share of their
// messages, counted; the devices come back.
func TestChaos(t *testing.T) {
	srv, _ := startBroker(t)
	r := run(t, fleetOf{n: 5, every: 20 * time.Millisecond, conf: sim.Connect{
		MTBF: 150 * time.Millisecond, Downtime: 50 * time.Millisecond, DropPercent: 50, ReconnectMin: 50 * time.Millisecond,
	}}, Target{URL: "mqtt://" + srv.Addr, Protocol: 5}, Options{Seed: 7})
	testkit.Eventually(t, "chaos disconnects, reconnects, drops and sends", func() bool {
		st := r.Stats()
		return st.ChaosDisconnects >= 3 && st.Reconnects >= 3 && st.Dropped >= 10 && st.Sent >= 10
	})
}

// Pause stops the streams without disconnecting; Resume restarts them.
func TestPauseResume(t *testing.T) {
	srv, _ := startBroker(t)
	r := run(t, fleetOf{n: 3, every: 20 * time.Millisecond}, Target{URL: "mqtt://" + srv.Addr}, Options{})
	testkit.Eventually(t, "messages flowing", func() bool { return r.Stats().Sent > 10 })
	r.Pause()
	// Messages already handed to a sender still go out; then none.
	var before uint64
	testkit.Eventually(t, "sending stopped", func() bool {
		s := r.Stats().Sent
		time.Sleep(100 * time.Millisecond) // five intervals
		before = r.Stats().Sent
		return before == s
	})
	if st := r.Stats(); st.Connected != 3 || !st.Paused {
		t.Fatalf("paused: %+v, want 3 connected and paused", st)
	}
	r.Resume()
	testkit.Eventually(t, "messages flowing again", func() bool { return r.Stats().Sent > before+10 })
}

// The ramp spreads the connects: Over a duration, and PerSecond.
func TestRampPaces(t *testing.T) {
	srv, _ := startBroker(t)
	start := time.Now()
	r := run(t, fleetOf{n: 20, every: time.Hour, ramp: scenario.Ramp{Over: 400 * time.Millisecond}}, Target{URL: "mqtt://" + srv.Addr}, Options{})
	testkit.Eventually(t, "20 devices online", func() bool { return r.Stats().Connected == 20 })
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Fatalf("20 devices over 400ms connected in %s", took)
	}
	if got := New(fleetOf{n: 5}, Target{}, Options{}).rampEvery(); got != 10*time.Millisecond {
		t.Fatalf("default ramp: %s between connects, want 10ms (100/s)", got)
	}
}

// Debian's mosquitto as the target, both protocols; its will on Kill.
func TestMosquittoTarget(t *testing.T) {
	addr := mosquittopeer.Start(t, "max_connections -1\n").Addr() // no limit on the fleet's connections
	for _, proto := range []byte{5, 4} {
		t.Run(protoName(proto), func(t *testing.T) {
			w := watch(t, addr, "#")
			r := run(t, fleetOf{n: 5, every: 50 * time.Millisecond, conf: sim.Connect{ReconnectMin: 100 * time.Millisecond}},
				Target{URL: "mqtt://" + addr, Protocol: proto}, Options{})
			testkit.Eventually(t, "5 devices online and sending through mosquitto", func() bool {
				return r.Stats().Connected == 5 && w.saw("data/dev004", "3")
			})
			if err := r.Kill("dev002"); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "mosquitto publishes dev002's will", func() bool { return w.saw("status/dev002", "lost") })
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "offline published at stop", func() bool { return w.saw("status/dev004", "offline") })
		})
	}
}

// A target with nothing listening says so, with the address.
func TestRefusedTargetInWords(t *testing.T) {
	addr := "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t))
	r := run(t, fleetOf{n: 2, every: time.Second}, Target{URL: "mqtt://" + addr}, Options{})
	testkit.Eventually(t, "the refusal in words", func() bool {
		st := r.Stats()
		return strings.Contains(st.LastError, addr) && strings.Contains(st.LastError, "connection refused") && strings.Contains(st.LastError, "broker is running")
	})
	if err := New(fleetOf{n: 1}, Target{URL: "http://x"}, Options{}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Fatalf("bad URL: %v", err)
	}
}

// A connected device costs little memory: paho.golang sizes a channel per
// client by the Receive Maximum it announces (512 KiB when unset), so the
// devices announce a small one. The heap measured includes the embedded
// broker's side of each connection (about 160 KiB in mochi).
func TestHeapPerDevice(t *testing.T) {
	srv, _ := startBroker(t)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 100
	r := run(t, fleetOf{n: n, every: time.Hour, ramp: scenario.Ramp{PerSecond: 1000}}, Target{URL: "mqtt://" + srv.Addr}, Options{})
	testkit.Eventually(t, "100 devices online", func() bool { return r.Stats().Connected == n })
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	per := (int64(after.HeapInuse) - int64(before.HeapInuse)) / n
	t.Logf("heap per device, broker's side included: %d KiB", per>>10)
	if per > 400<<10 {
		t.Fatalf("heap per connected device %d KiB, want under 400 KiB", per>>10)
	}
}

// A stop does not wait for connect attempts to a target that never
// answers: they are abandoned, not left to time out.
func TestStopAbandonsConnectAttempts(t *testing.T) {
	for _, proto := range []byte{5, 4} {
		t.Run(protoName(proto), func(t *testing.T) { stopAbandonsConnects(t, proto) })
	}
}

func stopAbandonsConnects(t *testing.T, proto byte) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			held = append(held, c) // read nothing, answer nothing
		}
	}()
	r := run(t, fleetOf{n: 3, every: time.Second}, Target{URL: "mqtt://" + l.Addr().String(), Protocol: proto}, Options{ConnectTimeout: time.Minute})
	testkit.Eventually(t, "3 connects under way", func() bool { return accepted.Load() == 3 })
	start := time.Now()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("stop took %s with connects pending (connect timeout 1m)", took)
	}
	if st := r.Stats(); st.Connected != 0 || st.NotStopped != 0 {
		t.Fatalf("stats after stop: %+v", st)
	}
}

// bigDevice sends large messages, to fill a socket quickly.
type bigDevice struct{ *counter }

func (b bigDevice) Next(int, time.Time) (message.Message, bool) {
	return message.Message{Topic: "data/" + b.id, Payload: make([]byte, 256<<10)}, true
}

type bigFleet struct{ fleetOf }

func (f bigFleet) Device(i int) sim.Behaviour {
	return bigDevice{f.fleetOf.Device(i).(*counter)}
}

// A broker that stops reading fails the device's connection after the
// write timeout; the device's sender (shared with other devices) is not
// blocked for good.
// silentBroker accepts connections and MQTT 5 CONNECTs, then reads
// nothing more: a broker that stopped reading.
func silentBroker(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
			// Read CONNECT, accept it (MQTT 5 CONNACK), then read nothing.
			var hdr [5]byte
			if _, err := io.ReadFull(c, hdr[:2]); err != nil {
				continue
			}
			n, shift := int(hdr[1]&0x7f), 7
			for i := 1; hdr[i]&0x80 != 0 && i < 4; i++ {
				if _, err := io.ReadFull(c, hdr[i+1:i+2]); err != nil {
					break
				}
				n += int(hdr[i+1]&0x7f) << shift
				shift += 7
			}
			if _, err := io.CopyN(io.Discard, c, int64(n)); err != nil {
				continue
			}
			_, _ = c.Write([]byte{0x20, 0x03, 0x00, 0x00, 0x00})
		}
	}()
	return l.Addr().String()
}

func TestStuckBrokerFailsWrites(t *testing.T) {
	addr := silentBroker(t)
	r := run(t, bigFleet{fleetOf{n: 1, every: 5 * time.Millisecond, conf: sim.Connect{ReconnectMin: time.Minute}}},
		Target{URL: "mqtt://" + addr}, Options{ConnectTimeout: 500 * time.Millisecond, Senders: 1})
	testkit.EventuallyErr(t, "the device's connection failed by its write timeout", func() error {
		d := r.Devices()[0]
		if d.State != Reconnecting || !strings.Contains(d.LastError, "stopped reading") {
			return fmt.Errorf("device %+v", d)
		}
		return nil
	})
}

// Devices reach the broker over TLS (trusting its dev CA) and WebSocket,
// both protocols.
func TestTLSAndWebSocketTargets(t *testing.T) {
	srv, tp := startBroker(t, func(c *broker.Config) { c.TLSAddr, c.DevCA, c.WSAddr = "127.0.0.1:0", true, "127.0.0.1:0" })
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.DevCACert()) {
		t.Fatal("no dev CA certificate")
	}
	for _, tc := range []struct {
		name string
		url  string
	}{
		{"mqtts", "mqtts://" + srv.Listener(t, "tls")},
		{"ws", "ws://" + srv.Listener(t, "ws") + "/mqtt"},
	} {
		for _, proto := range []byte{5, 4} {
			t.Run(tc.name+"/"+protoName(proto), func(t *testing.T) {
				target := Target{URL: tc.url, Protocol: proto, TLS: &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}}
				r := run(t, fleetOf{n: 2, every: 20 * time.Millisecond}, target, Options{})
				testkit.EventuallyErr(t, "2 devices sending", func() error {
					st := r.Stats()
					if st.Connected != 2 || st.Sent < 4 {
						return fmt.Errorf("stats %+v", st)
					}
					return nil
				})
				if err := r.stop(); err != nil {
					t.Fatal(err)
				}
				if got := tp.matching(func(m message.Message) bool { return m.ClientID == "sim-dev001" && m.Topic == "data/dev001" }); len(got) == 0 {
					t.Fatal("the broker got nothing from sim-dev001")
				}
			})
		}
	}
}

// Nothing of a fleet keeps running once Run has returned: not the
// scheduler, senders or connectors, nor the MQTT libraries' goroutines of
// devices stopped, killed or reconnected.
func TestNoGoroutinesLeftAfterRun(t *testing.T) {
	for _, proto := range []byte{5, 4} {
		t.Run(protoName(proto), func(t *testing.T) {
			srv, _ := startBroker(t)
			before := runtime.NumGoroutine()
			r := run(t, fleetOf{n: 5, every: 20 * time.Millisecond, conf: sim.Connect{ReconnectMin: 50 * time.Millisecond}},
				Target{URL: "mqtt://" + srv.Addr, Protocol: proto}, Options{})
			testkit.Eventually(t, "5 devices online", func() bool { return r.Stats().Connected == 5 })
			if err := r.Kill("dev003"); err != nil {
				t.Fatal(err)
			}
			testkit.Eventually(t, "dev003 back", func() bool { return r.Stats().Reconnects == 1 && r.Stats().Connected == 5 })
			if err := r.stop(); err != nil {
				t.Fatal(err)
			}
			testkit.EventuallyErr(t, "the goroutines of the run gone", func() error {
				if n := runtime.NumGoroutine(); n > before {
					buf := make([]byte, 1<<16)
					return fmt.Errorf("%d goroutines, %d before the run:\n%s", n, before, buf[:runtime.Stack(buf, true)])
				}
				return nil
			})
		})
	}
}

// A device pushed out by another client with its client ID is told so.
func TestTakeoverInWords(t *testing.T) {
	srv, _ := startBroker(t)
	r := run(t, fleetOf{n: 1, every: 50 * time.Millisecond, conf: sim.Connect{ReconnectMin: time.Minute}},
		Target{URL: "mqtt://" + srv.Addr, Protocol: 5}, Options{})
	testkit.Eventually(t, "the device online", func() bool { return r.Stats().Connected == 1 })
	o := mqtt.NewClientOptions().AddBroker("tcp://" + srv.Addr).SetClientID("sim-dev000").SetCleanSession(true).SetAutoReconnect(false)
	other := mqtt.NewClient(o)
	if tok := other.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect as sim-dev000: %v", tok.Error())
	}
	defer other.Disconnect(50)
	testkit.EventuallyErr(t, "the takeover in words", func() error {
		if st := r.Stats(); !strings.Contains(st.LastError, "another client connected with client ID sim-dev000") {
			return fmt.Errorf("last error %q", st.LastError)
		}
		return nil
	})
}

// hugeGoodbye says offline with a message too big for the socket buffers
// of a broker that does not read.
type hugeGoodbye struct{ *counter }

func (h hugeGoodbye) Offline(time.Time) []message.Message {
	return []message.Message{{Topic: "status/" + h.id, Payload: make([]byte, 64<<20)}}
}

type hugeGoodbyeFleet struct{ fleetOf }

func (f hugeGoodbyeFleet) Device(i int) sim.Behaviour {
	return hugeGoodbye{f.fleetOf.Device(i).(*counter)}
}

// A graceful stop that cannot finish gives up after StopTimeout and says
// how many devices it could not stop cleanly.
func TestStopGivesUpAndCounts(t *testing.T) {
	addr := silentBroker(t)
	r := run(t, hugeGoodbyeFleet{fleetOf{n: 1, every: time.Hour}}, Target{URL: "mqtt://" + addr},
		Options{ConnectTimeout: time.Minute, StopTimeout: 300 * time.Millisecond})
	testkit.Eventually(t, "the device online", func() bool { return r.Stats().Connected == 1 })
	err := r.stop()
	if err == nil || !strings.Contains(err.Error(), "1 of 1 devices were not stopped cleanly") {
		t.Fatalf("Run returned %v, want it to say 1 of 1 devices were not stopped cleanly", err)
	}
	if st := r.Stats(); st.NotStopped != 1 {
		t.Fatalf("NotStopped %d, want 1", st.NotStopped)
	}
}

// On MQTT 3.1.1 a command through the broker gets its reply on the
// configured topic (there is no response topic), and the offline effect
// drops the device so that its will fires.
func TestHandlerRoundTripV311(t *testing.T) {
	srv, tp := startBroker(t)
	w := watch(t, srv.Addr, "#")
	r := run(t, fleetOf{n: 2, every: time.Hour, conf: sim.Connect{ReconnectMin: 100 * time.Millisecond}},
		Target{URL: "mqtt://" + srv.Addr, Protocol: 4}, Options{})
	testkit.Eventually(t, "2 devices subscribed", func() bool {
		n := 0
		for _, c := range srv.Clients() {
			if strings.HasPrefix(c.ID, "sim-") && len(c.Subscriptions) == 1 {
				n++
			}
		}
		return n == 2
	})
	if tok := w.cl.Publish("test/dev001/cmd", 1, false, "ping"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish the command: %v", tok.Error())
	}
	testkit.Eventually(t, "the reply from sim-dev001", func() bool {
		return len(tp.matching(func(m message.Message) bool {
			return m.ClientID == "sim-dev001" && m.Topic == "test/dev001/reply" && string(m.Payload) == "ok:ping"
		})) == 1
	})
	if tok := w.cl.Publish("test/dev000/cmd", 1, false, "nap"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish the command: %v", tok.Error())
	}
	testkit.Eventually(t, "dev000's will, then dev000 back", func() bool {
		return w.saw("status/dev000", "lost") && r.Stats().Reconnects == 1 && r.Stats().Connected == 2
	})
}

// The same seed drops the same messages in every run: each device draws
// its chaos from numbers of its own, whatever the timing.
func TestChaosDropsTheSameMessagesForTheSameSeed(t *testing.T) {
	kept := func() map[string][]string {
		srv, tp := startBroker(t)
		r := run(t, fleetOf{n: 20, every: 10 * time.Millisecond, ramp: scenario.Ramp{PerSecond: 2000}, conf: sim.Connect{DropPercent: 50}},
			Target{URL: "mqtt://" + srv.Addr, Protocol: 5}, Options{Seed: 11})
		out := map[string][]string{}
		testkit.Eventually(t, "every device's first 12 kept messages", func() bool {
			for i := range 20 {
				id := fmt.Sprintf("sim-dev%03d", i)
				var got []string
				for _, m := range tp.matching(func(m message.Message) bool { return m.ClientID == id && strings.HasPrefix(m.Topic, "data/") }) {
					got = append(got, string(m.Payload))
				}
				if len(got) < 12 {
					return false
				}
				out[id] = got[:12]
			}
			return true
		})
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	first, second := kept(), kept()
	for id, msgs := range first {
		if strings.Join(msgs, " ") != strings.Join(second[id], " ") {
			t.Fatalf("%s kept %v in one run and %v in the other, with the same seed", id, msgs, second[id])
		}
	}
}
