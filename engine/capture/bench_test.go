package capture

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkIngest measures sustained capture throughput: records per second
// through Ingest until written and synced by Flush, with 250-byte payloads.
func BenchmarkIngest(b *testing.B) {
	s := openAt(b, b.TempDir(), Options{})
	payload := bytes.Repeat([]byte("x"), 250)
	topics := make([]string, 100)
	for i := range topics {
		topics[i] = fmt.Sprintf("bench/device/%d/telemetry", i)
	}
	flushEvery := DefaultQueueSize / 4 // the queue never fills
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Ingest(Record{
			Time: time.Now(), Source: "broker", ClientID: "bench", Protocol: 5,
			Topic: topics[i%len(topics)], Payload: payload, QoS: 1,
		})
		if i%flushEvery == flushEvery-1 {
			flush(b, s)
		}
	}
	flush(b, s)
	b.StopTimer()
	if d := s.Dropped(); d > 0 {
		b.Fatalf("dropped %d of %d", d, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkQueryNewestOfTopic measures the newest 1,000 records of one
// topic in a store of 200,000 records over 100 topics.
func BenchmarkQueryNewestOfTopic(b *testing.B) {
	const records, topics = 200_000, 100
	s := openAt(b, b.TempDir(), Options{})
	payload := bytes.Repeat([]byte("p"), 250)
	start := time.Now().Add(-time.Hour)
	for i := 0; i < records; i++ {
		if !s.Ingest(Record{
			Time: start.Add(time.Duration(i) * time.Millisecond), Source: "broker", Protocol: 4,
			Topic: fmt.Sprintf("bench/device/%d/telemetry", i%topics), Payload: payload,
		}) {
			b.Fatal("queue full while loading")
		}
		if i%16384 == 16383 {
			flush(b, s)
		}
	}
	flush(b, s)
	q := Query{Filter: "bench/device/42/telemetry", Limit: 1000, Newest: true}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		recs, next, err := s.Query(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != 1000 || next == "" || recs[0].Seq != records-topics+43 {
			b.Fatalf("got %d records (first seq %d), next %q", len(recs), recs[0].Seq, next)
		}
	}
	b.StopTimer()
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/op")
}
