// Command burst publishes a burst of QoS 0 messages over many topics to an
// MQTT broker on loopback, as fast as one connection can write them: the
// load of issue 11's topic-model finding. It is run by
// .ci/topics-rss.sh; run it alone with
//
//	go run .ci/burst/main.go -addr 127.0.0.1:PORT -messages 1000000 -topics 100000
//
// Topics are site/<s>/device/<d>/<kind> as in the topic model's benchmarks;
// the first -topics messages create every topic once, the rest go to
// topics drawn at random. Payloads are JSON of 50–300 bytes.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:1883", "broker `HOST:PORT`")
	messages := flag.Int("messages", 1_000_000, "messages to publish")
	nTopics := flag.Int("topics", 100_000, "distinct topics")
	flag.Parse()
	if err := run(*addr, *messages, *nTopics); err != nil {
		fmt.Fprintln(os.Stderr, "burst:", err)
		os.Exit(1)
	}
}

func run(addr string, messages, nTopics int) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("connect to %s (is the app's broker listening there?): %w", addr, err)
	}
	defer conn.Close()
	w := bufio.NewWriterSize(conn, 256<<10)
	if _, err := w.Write(connectPacket("burst-publisher")); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// CONNACK: 4 bytes, return code last.
	ack := make([]byte, 4)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(conn, ack); err != nil {
		return fmt.Errorf("read CONNACK: %w", err)
	}
	if ack[0] != 0x20 || ack[3] != 0 {
		return fmt.Errorf("broker refused the connection: CONNACK % x", ack)
	}
	// Anything the broker sends later (nothing at QoS 0) is discarded, so
	// that it can never block on us.
	_ = conn.SetReadDeadline(time.Time{})
	go func() { _, _ = io.Copy(io.Discard, conn) }()

	rng := rand.New(rand.NewPCG(1, 2))
	kinds := []string{"temperature", "humidity", "power", "status"}
	var buf []byte
	start := time.Now()
	for i := range messages {
		t := i
		if i >= nTopics {
			t = rng.IntN(nTopics)
		}
		topic := fmt.Sprintf("site/%d/device/%d/%s", t/1000, (t/4)%250, kinds[t%4])
		payload := fmt.Appendf(nil, `{"seq":%d,"value":%d,"pad":"`, i, rng.IntN(1000))
		for n := 50 + rng.IntN(251); len(payload) < n-2; {
			payload = append(payload, 'x')
		}
		payload = append(payload, '"', '}')
		buf = publishPacket(buf[:0], topic, payload)
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("publish message %d: %w", i, err)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// DISCONNECT, so the broker reads everything before the close.
	if _, err := conn.Write([]byte{0xe0, 0}); err != nil {
		return err
	}
	fmt.Printf("sent %d messages over %d topics in %.2f s\n", messages, min(messages, nTopics), time.Since(start).Seconds())
	return nil
}

func connectPacket(clientID string) []byte {
	var body []byte
	body = appendString(body, "MQTT")
	body = append(body, 4, 0x02) // 3.1.1, clean session
	body = append(body, 0, 60)   // keep-alive 60 s
	body = appendString(body, clientID)
	return append(appendHeader(nil, 0x10, len(body)), body...)
}

func publishPacket(b []byte, topic string, payload []byte) []byte {
	b = appendHeader(b, 0x30, 2+len(topic)+len(payload))
	b = appendString(b, topic)
	return append(b, payload...)
}

func appendHeader(b []byte, typ byte, n int) []byte {
	b = append(b, typ)
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}
