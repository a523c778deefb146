package capture

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/iotstudio/iotstudio/engine/message"
)

// TestQueryAgreesWithModel checks paged queries of every kind against a
// plain filter over the records, on a store with many small blocks and
// segments and some out-of-order records, before and after retention.
func TestQueryAgreesWithModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := openAt(t, t.TempDir(), Options{blockBytes: 300, segmentBlocks: 3, MaxAge: -1, MaxBytes: -1})
	start := time.Now().Add(-time.Hour)
	var all []message.Message
	for i := range 600 {
		at := start.Add(time.Duration(i) * 100 * time.Millisecond)
		if i%97 == 13 { // an import-like record from a day earlier
			at = at.Add(-24 * time.Hour)
		}
		r := message.Message{Time: at, Topic: fmt.Sprintf("m/%d/%d", rng.IntN(4), rng.IntN(3)), Payload: []byte(fmt.Sprintf(`{"n": %d}`, i))}
		ingest(t, s, r)
		r.Seq = uint64(i + 1)
		all = append(all, r)
		if rng.IntN(40) == 0 {
			flush(t, s)
		}
	}
	flush(t, s)

	check := func(t *testing.T, kept []message.Message) {
		t.Helper()
		mid := start.Add(30 * time.Second)
		queries := []Query{
			{}, {Filter: "m/1/2"}, {Filter: "m/+/1"}, {Filter: "m/3/#"}, {Filter: "nothing"},
			{Since: mid}, {Until: mid}, {Since: mid, Until: mid.Add(10 * time.Second)},
			{Filter: "m/2/0", Since: mid}, {Filter: "m/0/1", Until: start.Add(-time.Hour)},
			{Since: start.Add(-25 * time.Hour), Until: start.Add(-23 * time.Hour)},
			{Contains: "7}"}, {Filter: "m/1/1", Contains: "1"},
		}
		for _, q := range queries {
			for _, newest := range []bool{false, true} {
				for _, limit := range []int{7, 1000} {
					q := q
					q.Newest, q.Limit = newest, limit
					var want []uint64
					for _, r := range kept {
						if (q.Filter == "" || message.MatchTopic(q.Filter, []byte(r.Topic))) &&
							(q.Since.IsZero() || !r.Time.Before(q.Since)) &&
							(q.Until.IsZero() || r.Time.Before(q.Until)) &&
							bytes.Contains(r.Payload, []byte(q.Contains)) {
							want = append(want, r.Seq)
						}
					}
					if newest {
						slices.Reverse(want)
					}
					var got []uint64
					for page := 0; ; page++ {
						recs, next := query(t, s, q)
						got = append(got, seqs(recs)...)
						if next == "" || page > 200 {
							break
						}
						q.Cursor = next
					}
					if !slices.Equal(got, want) {
						t.Fatalf("%+v:\n got %v\nwant %v", q, got, want)
					}
				}
			}
		}
	}
	t.Run("all", func(t *testing.T) { check(t, all) })

	// Keep about the newest half by size: whole segments go, oldest first.
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	s.SetRetention(st.Bytes/2, -1)
	flush(t, s)
	first, _ := query(t, s, Query{Limit: 1})
	if len(first) != 1 || first[0].Seq < 200 {
		t.Fatalf("after retention to half the size the oldest record is %+v", first)
	}
	t.Run("after retention", func(t *testing.T) { check(t, all[first[0].Seq-1:]) })
}
