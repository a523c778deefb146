package broker

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

// FuzzListener feeds random bytes and mutated valid packets to a live
// listener, then checks that a healthy client can still connect, subscribe,
// publish and receive. `go test` runs only the seeds; fuzz with
// `go test -run '^$' -fuzz FuzzListener -fuzztime 60s ./engine/broker/`.
func FuzzListener(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	b, err := New(withStore(Config{MQTTAddr: "127.0.0.1:0", DataDir: f.TempDir(), Logger: testkit.Logger(), ConnectTimeout: time.Second}))
	if err != nil {
		f.Fatal(err)
	}
	if err := b.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = b.Stop() })
	addr := ""
	for _, l := range b.State().Listeners {
		addr = l.Address
	}
	var n atomic.Int64
	f.Fuzz(func(t *testing.T, data []byte) {
		hostile(t, addr, data)
		i := n.Add(1)
		sub := mustDialV5(t, addr, fmt.Sprintf("fuzz-sub-%d", i))
		topic := fmt.Sprintf("fuzz/health/%d", i)
		sub.sub(t, topic, 1)
		pub := mustDialV5(t, addr, fmt.Sprintf("fuzz-pub-%d", i))
		pub.pub(t, topic, "alive", 1, false)
		for m := sub.next(t); string(m.Payload) != "alive"; m = sub.next(t) {
		} // a fuzz input may have retained something on the topic
	})
}

// hostile writes data on its own connection and reads whatever comes back
// until the broker closes it or a moment passes.
func hostile(t *testing.T, addr string, data []byte) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("the listener refused a connection: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = conn.Write(data)
	_, _ = io.Copy(io.Discard, conn)
}

func fuzzSeeds(f *testing.F) [][]byte {
	connect4 := buildConnect(4, 2, nil, "fuzz4", nil)
	connect5 := buildConnect(5, 2, cat(prop16(packets.PropReceiveMaximum, 10), userProp("k", "v")), "fuzz5", nil)
	publish := rawmqtt.Frame(rawmqtt.TypePublish|2, append(rawmqtt.AppendString(nil, "fuzz/t"), 0, 1, 'h', 'i'))
	subscribe := rawmqtt.Frame(rawmqtt.TypeSubscribe, append(rawmqtt.AppendString([]byte{0, 2}, "fuzz/#"), 1))
	seeds := [][]byte{
		nil,
		{0x10},
		{0x10, 0xff, 0xff, 0xff, 0x7f},
		{0x10, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0x30, 0x80, 0x80, 0x80, 0x01},
		[]byte("GET /mqtt HTTP/1.1\r\nHost: x\r\n\r\n"),
		bytes.Repeat([]byte{0xff}, 300),
		connect4,
		connect5,
		cat(connect4, publish, subscribe),
		cat(connect5, subscribe, publish, []byte{0xe0, 0}),
		cat(connect4, connect4),
		cat(connect4, rawmqtt.Frame(rawmqtt.TypePublish, rawmqtt.AppendString(nil, "a/+/b"))),
		cat(connect4, []byte{0x30, 0xff, 0xff, 0xff, 0x7f}),
		cat(connect5, []byte{0x62, 0x02, 0x00, 0x09}), // PUBREL for nothing
		cat(connect5, []byte{0xf0, 0x00}),             // AUTH
	}
	// Mutations of the valid ones: truncated, one byte flipped, lengths off.
	for _, valid := range [][]byte{connect4, connect5, cat(connect5, publish)} {
		seeds = append(seeds, valid[:len(valid)/2])
		for _, at := range []int{0, 1, 9, len(valid) - 1} {
			m := bytes.Clone(valid)
			m[at] ^= 0x5a
			seeds = append(seeds, m)
		}
	}
	return seeds
}
