package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/iotstudio/iotstudio/engine/testkit"
	"github.com/iotstudio/iotstudio/engine/testkit/rawmqtt"
)

// BenchmarkScrape measures what one scrape costs the process (the client
// side of the HTTP request included) with 0, 200 and 1000 clients
// connected, in allocations and bytes: docs/PERFORMANCE.md counts these,
// not its time. Metrics add nothing per message, only per scrape.
func BenchmarkScrape(b *testing.B) {
	for _, clients := range []int{0, 200, 1000} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchmarkScrape(b, clients) })
	}
}

func benchmarkScrape(b *testing.B, clients int) {
	s := startServed(b, true)
	ctx, cancel := context.WithTimeout(context.Background(), testkit.Timeout)
	defer cancel()
	for i := range clients {
		c, err := rawmqtt.Dial(ctx, s.mqtt, fmt.Sprintf("bench-%d", i), 4096, 4096)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
	}
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		resp, err := http.Get(s.metrics)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		size = n
	}
	b.ReportMetric(float64(size), "exposition-bytes")
}
