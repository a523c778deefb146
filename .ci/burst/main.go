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
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
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
	c, err := rawmqtt.Dial(context.Background(), addr, "burst-publisher", 4<<10, 256<<10)
	if err != nil {
		return fmt.Errorf("connect to %s (is the app's broker listening there?): %w", addr, err)
	}
	// Close sends DISCONNECT, so the broker reads everything before the close.
	defer c.Close()
	// Anything the broker sends later (nothing at QoS 0) is discarded, so
	// that it can never block on us.
	go func() { _, _ = io.Copy(io.Discard, c.R) }()

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
		buf = rawmqtt.AppendPublish(buf[:0], topic, payload)
		if _, err := c.W.Write(buf); err != nil {
			return fmt.Errorf("publish message %d: %w", i, err)
		}
	}
	if err := c.W.Flush(); err != nil {
		return err
	}
	fmt.Printf("sent %d messages over %d topics in %.2f s\n", messages, min(messages, nTopics), time.Since(start).Seconds())
	return nil
}
