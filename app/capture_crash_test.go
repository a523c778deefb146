package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/capture"
)

// A tiny MQTT 3.1.1 encoder: just what the crash test sends.

func mqttRemainingLength(b []byte, n int) []byte {
	for {
		d := byte(n % 128)
		if n /= 128; n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

func mqttString(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

// mqttConnect encodes a CONNECT with a clean session and no credentials.
func mqttConnect(clientID string) []byte {
	body := mqttString(nil, "MQTT")
	body = append(body, 4, 0x02, 0, 60) // level 4, clean session, keep-alive 60 s
	body = mqttString(body, clientID)
	return append(mqttRemainingLength([]byte{0x10}, len(body)), body...)
}

// appendPublish appends a QoS 0 PUBLISH.
func appendPublish(b []byte, topic string, payload []byte) []byte {
	b = mqttRemainingLength(append(b, 0x30), 2+len(topic)+len(payload))
	return append(mqttString(b, topic), payload...)
}

var mqttPingReq = []byte{0xc0, 0}

// After a SIGKILL, the capture opens cleanly and holds every message the
// broker had accepted more than one sync interval (1 s, plus margin) before
// the kill.
//
// A QoS 0 publish has no acknowledgement, so each batch of publishes is
// followed by a PINGREQ: the broker handles one client's packets in order
// and hands each PUBLISH to the capture before reading the next packet, so
// the PINGRESP for a batch proves the whole batch reached Ingest. A batch
// counts as published at that time, not when it was written to the socket
// (a loaded broker may lag behind the socket).
func TestCaptureSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("publishes for several seconds")
	}
	const (
		rate      = 10000 // messages per second
		tick      = 10 * time.Millisecond
		perBatch  = rate * int(tick) / int(time.Second)
		publish   = 2 * time.Second // at least
		maxPub    = 8 * time.Second // at most, on a slow machine
		margin    = 1500 * time.Millisecond
		minProven = 5000 // messages old enough to be checked before the kill
		topic     = "crash/seq"
	)
	ctx, cancel := context.WithTimeout(context.Background(), 18*time.Second)
	defer cancel()
	data := t.TempDir()
	cmd := command(ctx, "serve", "--mqtt", "127.0.0.1:0", "--ws", "off", "--data", data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	var addr string
	lines := bufio.NewScanner(stdout)
	for addr == "" && lines.Scan() {
		addr, _ = strings.CutPrefix(lines.Text(), "mqtt listening on ")
	}
	if addr == "" {
		t.Fatalf("serve printed no mqtt listener; stderr: %s", stderr.String())
	}
	go io.Copy(io.Discard, stdout)

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := conn.Write(mqttConnect("crash-test")); err != nil {
		t.Fatal(err)
	}
	connack := make([]byte, 4)
	if _, err := io.ReadFull(conn, connack); err != nil || !bytes.Equal(connack, []byte{0x20, 2, 0, 0}) {
		t.Fatalf("CONNACK %x, %v", connack, err)
	}

	// The reader stamps each PINGRESP; the i-th answers batch i.
	var mu sync.Mutex
	var acked []time.Time
	var unexpected []byte
	go func() {
		r := bufio.NewReader(conn)
		for {
			var pkt [2]byte
			if _, err := io.ReadFull(r, pkt[:]); err != nil {
				return
			}
			mu.Lock()
			if pkt != [2]byte{0xd0, 0} {
				unexpected = pkt[:]
				mu.Unlock()
				return
			}
			acked = append(acked, time.Now())
			mu.Unlock()
		}
	}()
	// provenBefore counts the messages of batches acknowledged before t.
	provenBefore := func(t time.Time) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for n < len(acked) && acked[n].Before(t) {
			n++
		}
		return n * perBatch
	}

	var sent []time.Time // wall time each batch was written
	seq := 0
	buf := make([]byte, 0, perBatch*32)
	start := time.Now()
	for {
		now := time.Now()
		elapsed := now.Sub(start)
		if elapsed >= maxPub || (elapsed >= publish && provenBefore(now.Add(-margin-100*time.Millisecond)) >= minProven) {
			break
		}
		buf = buf[:0]
		for range perBatch {
			buf = appendPublish(buf, topic, strconv.AppendInt(nil, int64(seq), 10))
			seq++
		}
		buf = append(buf, mqttPingReq...)
		if _, err := conn.Write(buf); err != nil {
			t.Fatalf("publishing batch %d: %v; serve stderr: %s", len(sent), err, stderr.String())
		}
		sent = append(sent, time.Now())
		time.Sleep(time.Until(start.Add(time.Duration(len(sent)) * tick)))
	}
	killAt := time.Now()
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed = true
	cmd.Wait()
	published := seq
	proven := provenBefore(killAt.Add(-margin))
	mu.Lock()
	nAcked := len(acked)
	var maxLag time.Duration
	for i, a := range acked {
		maxLag = max(maxLag, a.Sub(sent[i]))
	}
	bad := unexpected
	mu.Unlock()
	if bad != nil {
		t.Fatalf("unexpected packet %x from the broker; serve stderr: %s", bad, stderr.String())
	}
	t.Logf("published %d messages in %v; broker acknowledged %d batches (max lag %v); %d published more than %v before SIGKILL",
		published, killAt.Sub(start).Round(time.Millisecond), nAcked, maxLag.Round(time.Millisecond), proven, margin)
	if proven < minProven {
		t.Fatalf("only %d messages were acknowledged more than %v before the kill, want %d: the broker fell behind; serve stderr: %s",
			proven, margin, minProven, stderr.String())
	}

	store, err := capture.Open(captureDir(data), capture.Options{})
	if err != nil {
		t.Fatalf("opening the capture after SIGKILL: %v", err)
	}
	defer store.Close()
	got := make([]bool, published)
	var found, foreign int
	q := capture.Query{Limit: 5000}
	for {
		recs, next, err := store.Query(ctx, q)
		if err != nil {
			t.Fatalf("query after SIGKILL: %v", err)
		}
		for _, r := range recs {
			n, err := strconv.Atoi(string(r.Payload))
			if r.Topic != topic || err != nil || n < 0 || n >= published {
				foreign++
				continue
			}
			if got[n] {
				t.Errorf("message %d captured twice", n)
			}
			got[n] = true
			found++
		}
		if next == "" {
			break
		}
		q.Cursor = next
	}
	var missing []int
	for n := range proven {
		if !got[n] {
			missing = append(missing, n)
		}
	}
	t.Logf("the capture holds %d of the %d published messages", found, published)
	if foreign > 0 {
		t.Errorf("%d captured records are not ours", foreign)
	}
	if len(missing) > 0 {
		t.Fatalf("%d of the %d messages published more than %v before SIGKILL are missing, first %v; serve stderr: %s",
			len(missing), proven, margin, missing[:min(len(missing), 10)], stderr.String())
	}
	if st, err := store.Stats(); err != nil || st.Records < int64(proven) {
		t.Fatalf("stats after SIGKILL: %+v, %v", st, err)
	}
}

// lockedBuffer is a bytes.Buffer that a process may write while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
