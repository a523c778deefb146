package fleet

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"

	"github.com/iotstudio/iotstudio/engine/client"
	"github.com/iotstudio/iotstudio/engine/message"
	"github.com/iotstudio/iotstudio/engine/sim"
)

// countConn counts the writes that reach the socket.
type countConn struct {
	net.Conn
	writes int
	wire   bytes.Buffer
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes++
	return c.wire.Write(p)
}

// A PUBLISH from paho.golang reaches the socket in one write: paho hands
// it over in slices, one system call each through its own conn wrapper.
func TestPacketConnOneWritePerPacket(t *testing.T) {
	pub := &packets.Publish{Topic: "data/dev000", Payload: []byte("42"), Properties: &packets.Properties{
		User: []packets.User{{Key: PropSeq, Value: "7"}},
	}}
	var want bytes.Buffer
	if _, err := pub.WriteTo(&want); err != nil {
		t.Fatal(err)
	}
	cc := &countConn{}
	pc := &packetConn{Conn: cc}
	for range 3 {
		if _, err := pub.WriteTo(pc); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := packets.NewControlPacket(packets.PINGREQ).WriteTo(pc); err != nil {
		t.Fatal(err)
	}
	if cc.writes != 4 {
		t.Fatalf("%d writes for 3 PUBLISH and a PINGREQ, want 4", cc.writes)
	}
	wantAll := bytes.Repeat(want.Bytes(), 3)
	wantAll = append(wantAll, 0xC0, 0x00)
	if !bytes.Equal(cc.wire.Bytes(), wantAll) {
		t.Fatalf("bytes on the wire differ from the packets")
	}
}

func TestPacketLen(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want int
		ok   bool
	}{
		{[]byte{0xC0}, 0, false},
		{[]byte{0xC0, 0x00}, 2, true},
		{[]byte{0x30, 0x7F}, 129, true},
		{[]byte{0x30, 0x80}, 0, false},
		{[]byte{0x30, 0x80, 0x01}, 131, true},
		{[]byte{0x30, 0xFF, 0xFF, 0xFF, 0x7F}, 1 + 4 + 268435455, true},
	} {
		got, ok := packetLen(tc.b)
		if got != tc.want || ok != tc.ok {
			t.Errorf("packetLen(% x) = %d, %v; want %d, %v", tc.b, got, ok, tc.want, tc.ok)
		}
	}
}

// Ingest counts a device's messages delivered, a gap in sim-seq as lost
// (undone when the late message comes), and latency from sim-ts.
func TestIngestCountsLossAndLatency(t *testing.T) {
	r := New(fleetOf{n: 2}, Target{}, Options{})
	msg := func(client string, seq int) message.Message {
		return message.Message{ClientID: client, Topic: "data", UserProps: []message.UserProp{
			{Key: PropSeq, Value: strconv.Itoa(seq)},
			{Key: PropTime, Value: strconv.FormatInt(time.Now().Add(-20*time.Millisecond).UnixNano(), 10)},
		}}
	}
	// Observing starts mid-stream at 5: nothing before counts as lost.
	for _, seq := range []int{5, 6, 9, 7} {
		if !r.Ingest(msg("sim-dev000", seq)) {
			t.Fatal("Ingest refused a message")
		}
	}
	r.Ingest(msg("sim-dev001", 0))
	r.Ingest(message.Message{ClientID: "sim-dev001", Topic: "status/dev001"}) // no sim-seq: not a stream message
	r.Ingest(msg("someone-else", 3))
	st := r.Stats()
	if st.Delivered != 5 || st.Lost != 1 || !st.Observed {
		t.Fatalf("delivered %d lost %d observed %v; want 5, 1 (seq 8), true", st.Delivered, st.Lost, st.Observed)
	}
	if st.LatencyP50 < 15*time.Millisecond || st.LatencyP99 > time.Second {
		t.Fatalf("latency p50 %s p99 %s; want about 20ms", st.LatencyP50, st.LatencyP99)
	}
}

func TestHistQuantiles(t *testing.T) {
	var h hist
	if h.quantile(0.99) != 0 {
		t.Fatal("an empty histogram has quantiles")
	}
	for i := 1; i <= 100; i++ {
		h.observe(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		got := h.quantile(tc.q)
		// A bucket is 12 % wide.
		if got < tc.want || float64(got) > float64(tc.want)*1.12 {
			t.Errorf("quantile %.2f = %s, want %s to +12%%", tc.q, got, tc.want)
		}
	}
	if time.Duration(h.max.Load()) != 100*time.Millisecond {
		t.Errorf("max %s", time.Duration(h.max.Load()))
	}
	h.observe(time.Hour) // beyond the last bucket: counted there, max exact
	if h.quantile(1) != time.Hour {
		t.Errorf("quantile 1 after an hour-long lag = %s", h.quantile(1))
	}
}

// memKeyring is a keyring in memory.
type memKeyring map[string]string

func (k memKeyring) Get(a string) (string, error) {
	if v, ok := k[a]; ok {
		return v, nil
	}
	return "", client.ErrSecretNotFound
}
func (k memKeyring) Set(a, s string) error { k[a] = s; return nil }
func (k memKeyring) Delete(a string) error { delete(k, a); return nil }

// A saved connection gives the devices its URL, protocol, user, password
// from the keyring and TLS settings.
func TestTargetFromProfile(t *testing.T) {
	secrets := client.NewSecrets(memKeyring{})
	ca := writeCA(t)
	p := client.Profile{ID: "p1", Name: "plant", URL: "mqtts://broker.example:8883", Protocol: client.MQTT311,
		Username: "alice", HasPassword: true, TLS: client.TLSOptions{CAFile: ca}}
	if _, err := TargetFromProfile(p, secrets); err == nil {
		t.Fatal("no error for a password missing from the keyring")
	}
	if err := secrets.Set("p1", client.SecretPassword, "s3cret"); err != nil {
		t.Fatal(err)
	}
	tg, err := TargetFromProfile(p, secrets)
	if err != nil {
		t.Fatal(err)
	}
	if tg.URL != p.URL || tg.Protocol != 4 || tg.Username != "alice" || tg.Password != "s3cret" {
		t.Fatalf("target %+v", tg)
	}
	if tg.TLS == nil || tg.TLS.RootCAs == nil || tg.TLS.ServerName != "broker.example" {
		t.Fatalf("TLS settings not taken from the profile: %+v", tg.TLS)
	}
	p.URL, p.TLS, p.Protocol = "mqtt://127.0.0.1:1883", client.TLSOptions{}, client.MQTT5
	if tg, err = TargetFromProfile(p, secrets); err != nil || tg.TLS != nil || tg.Protocol != 5 {
		t.Fatalf("plain profile: %+v, %v", tg, err)
	}
}

func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The reconnect back-off doubles from ReconnectMin to ReconnectMax, less
// up to a fifth so that a fleet does not retry in step.
func TestBackoffDoubles(t *testing.T) {
	d := &device{conf: sim.Connect{ReconnectMin: 100 * time.Millisecond, ReconnectMax: time.Second}, rnd: newDevRand(3, 0)}
	for _, tc := range []struct {
		attempt int
		full    time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond}, {4, 800 * time.Millisecond}, {5, time.Second}, {30, time.Second}} {
		for range 20 {
			got := backoff(d, tc.attempt)
			if got > tc.full || got < tc.full*4/5 {
				t.Fatalf("attempt %d: back-off %s, want %s less at most a fifth", tc.attempt, got, tc.full)
			}
		}
	}
	d.conf = sim.Connect{}
	if got := backoff(d, 1); got > time.Second || got < 800*time.Millisecond {
		t.Fatalf("default first back-off %s, want about 1s", got)
	}
}
