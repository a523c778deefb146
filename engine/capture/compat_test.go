package capture

import (
	"bytes"
	"fmt"
	"testing"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// TestOpensStoreWrittenWithInlineValues: a store written with the first
// release's Badger settings (16 MiB memtables x3, values up to 4 KiB inline
// in the LSM tree) opens, queries and grows with the current settings
// (values in the value log).
func TestOpensStoreWrittenWithInlineValues(t *testing.T) {
	dir := t.TempDir()
	badgerOptionsForTest = func(o *badgerdb.Options) {
		o.MemTableSize, o.NumMemtables, o.NumLevelZeroTables = 16<<20, 3, 5
		o.BlockCacheSize, o.IndexCacheSize = 16<<20, 16<<20
		o.ValueThreshold = 4 << 10
	}
	t.Cleanup(func() { badgerOptionsForTest = nil })

	payload := func(i int) []byte {
		n := 250
		if i%100 == 7 {
			n = 8 << 10 // in the value log under either setting
		}
		return bytes.Repeat([]byte{byte('a' + i%26)}, n)
	}
	topic := func(i int) string { return fmt.Sprintf("compat/%d", i%5) }
	write := func(s *Store, from, to int) {
		for i := from; i < to; i++ {
			ingest(t, s, Record{Time: base, Topic: topic(i), Payload: payload(i), ClientID: "c"})
		}
		flush(t, s)
	}
	check := func(s *Store, n int) {
		t.Helper()
		recs, next := query(t, s, Query{Limit: n + 1})
		if len(recs) != n || next != "" {
			t.Fatalf("%d records (next %q), want %d", len(recs), next, n)
		}
		for i, r := range recs {
			if r.Seq != uint64(i+1) || r.Topic != topic(i) || !bytes.Equal(r.Payload, payload(i)) {
				t.Fatalf("record %d: seq %d topic %q payload %d bytes", i, r.Seq, r.Topic, len(r.Payload))
			}
		}
		recs, _ = query(t, s, Query{Filter: topic(3), Limit: n})
		if len(recs) != n/5 {
			t.Fatalf("topic %s: %d records, want %d", topic(3), len(recs), n/5)
		}
	}

	old := openAt(t, dir, Options{})
	write(old, 0, 500)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	badgerOptionsForTest = nil
	s := openAt(t, dir, Options{})
	check(s, 500)
	write(s, 500, 1000)
	check(s, 1000)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(openAt(t, dir, Options{}), 1000)
}
