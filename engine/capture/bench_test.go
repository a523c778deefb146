package capture

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
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
	flushEvery := 16384 // the queue never fills
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU(b)
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
	cpu := processCPU(b) - cpu0
	if d := s.Dropped(); d > 0 {
		b.Fatalf("dropped %d of %d", d, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	// CPU time of the whole process (the loop above, the writer, Badger's
	// goroutines and the GC) per record: less sensitive than records/s to
	// other load on the machine.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/record")
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

// BenchmarkIngestSustained ingests at a steady 20,000 records/s (the
// product target), 250-byte payloads over 100 topics, for 5 s per
// iteration, paced by a 1 ms ticker. It fails if any record is dropped and
// reports what the capture costs at that rate:
//
//	dropped      records Ingest refused (must be 0)
//	cpu-%        process CPU time (user+system: the pacing loop, the
//	             writer, Badger and the GC) / wall time; 100 = one core
//	heap-MB      peak Go HeapInuse during the run over the baseline
//	             taken after Open (which holds the queue and a memtable)
//	records/s    the rate achieved
func BenchmarkIngestSustained(b *testing.B) {
	const (
		rate     = 20_000
		duration = 5 * time.Second
	)
	s := openAt(b, b.TempDir(), Options{})
	payload := bytes.Repeat([]byte("s"), 250)
	topics := make([]string, 100)
	for i := range topics {
		topics[i] = fmt.Sprintf("bench/device/%d/telemetry", i)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	baseHeap := ms.HeapInuse
	var peakHeap uint64
	var sent int64
	var wall, cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tick := time.NewTicker(time.Millisecond)
		sample := time.NewTicker(100 * time.Millisecond)
		cpu0 := processCPU(b)
		start := time.Now()
		var n int64
		for now := start; now.Sub(start) < duration; {
			select {
			case now = <-tick.C:
			case <-sample.C:
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
				continue
			}
			due := int64(now.Sub(start).Seconds() * rate)
			for ; n < due; n++ {
				s.Ingest(Record{
					Time: time.Now(), Source: "broker", ClientID: "bench", Protocol: 5,
					Topic: topics[n%int64(len(topics))], Payload: payload, QoS: 1,
				})
			}
		}
		tick.Stop()
		sample.Stop()
		wall += time.Since(start)
		cpu += processCPU(b) - cpu0
		sent += n
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapInuse)
	}
	b.StopTimer()
	flush(b, s)
	d := s.Dropped()
	b.ReportMetric(float64(d), "dropped")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%")
	b.ReportMetric(float64(int64(peakHeap)-int64(baseHeap))/(1<<20), "heap-MB")
	b.ReportMetric(float64(sent)/wall.Seconds(), "records/s")
	if d > 0 {
		b.Errorf("dropped %d of %d records at %d records/s", d, sent, rate)
	}
}
