package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/message"
)

// indexedBlock is a b| entry: the block's first seq and where it is.
type indexedBlock struct {
	first uint64
	ptr   blockPtr
}

// indexedBlocks lists the store's blocks, oldest first.
func indexedBlocks(t *testing.T, s *Store) []indexedBlock {
	t.Helper()
	var blocks []indexedBlock
	if err := s.db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefixBlock})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			b := indexedBlock{first: seqFromKey(it.Item().Key())}
			if err := it.Item().Value(func(v []byte) error {
				p, ok := decodeBlockPtr(v)
				if !ok {
					return fmt.Errorf("block %d is not in a block file", b.first)
				}
				b.ptr = p
				return nil
			}); err != nil {
				return err
			}
			blocks = append(blocks, b)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return blocks
}

// damagePayload is record i's payload in the damage tests: 50 bytes of i.
func damagePayload(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 50) }

// A few flipped bytes in a block file (bit rot, a bad sector, a stray
// write) cost that block's records and nothing else: every query serves
// the intact records, never a corrupted payload, and says which records
// of which file it could not read.
func TestDamagedBlockIsReportedAndTheRestServed(t *testing.T) {
	dir := t.TempDir()
	opts := Options{blockBytes: 2000}
	s := openAt(t, dir, opts)
	for i := range 100 {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: fmt.Sprintf("dmg/%d", i%3), Payload: damagePayload(i)})
	}
	flush(t, s)
	blocks := indexedBlocks(t, s)
	if len(blocks) < 4 {
		t.Fatalf("%d blocks, want several", len(blocks))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A block in the middle, large enough for three flips (blocks are
	// also sealed by age, so sizes vary on a busy machine).
	v := 1
	for v < len(blocks)-2 && blocks[v].ptr.n < 600 {
		v++
	}
	victim := blocks[v]
	if victim.ptr.n < 300 {
		t.Fatalf("no block of the %d is large enough to damage in three places", len(blocks))
	}
	lostFirst, lostLast := victim.first, blocks[v+1].first-1
	path := filepath.Join(dir, blocksDir, blockFileName(victim.ptr.file))
	q := victim.ptr.n / 4
	flipBytes(t, path, victim.ptr.off+q-32, victim.ptr.off+2*q-32, victim.ptr.off+3*q-32)

	s = openAt(t, dir, opts)
	check := func(name string, q Query, want int) {
		t.Helper()
		var damage []Damage
		q.OnDamage = func(d Damage) { damage = append(damage, d) }
		q.Limit = 1000
		recs, _ := query(t, s, q)
		if len(recs) != want {
			t.Errorf("%s: %d records, want the %d intact ones", name, len(recs), want)
		}
		for _, r := range recs {
			if r.Seq >= lostFirst && r.Seq <= lostLast {
				t.Errorf("%s: returned seq %d of the damaged block", name, r.Seq)
			}
			if !bytes.Equal(r.Payload, damagePayload(int(r.Seq-1))) {
				t.Errorf("%s: seq %d has a corrupted payload", name, r.Seq)
			}
		}
		if len(damage) == 0 {
			t.Fatalf("%s: the damaged block was skipped without a report", name)
		}
		d := damage[0]
		if d.File != path || d.First != lostFirst || d.Last != lostLast || !strings.Contains(d.Reason, "checksum") {
			t.Errorf("%s: damage reported as %+v, want %s seq %d..%d (checksum)", name, d, path, lostFirst, lostLast)
		}
	}
	lost := int(lostLast - lostFirst + 1)
	inTopic1 := 0
	for seq := lostFirst; seq <= lostLast; seq++ {
		if (seq-1)%3 == 1 {
			inTopic1++
		}
	}
	check("every record, oldest first", Query{}, 100-lost)
	check("every record, newest first", Query{Newest: true}, 100-lost)
	check("wildcard", Query{Filter: "dmg/+"}, 100-lost)
	check("one topic", Query{Filter: "dmg/1"}, 33-inTopic1)

	st := stats(t, s)
	if len(st.Damaged) != 1 || st.Damaged[0].First != lostFirst || st.DamagedRecords != int64(lost) {
		t.Errorf("Stats.Damaged = %+v (%d records), want the block at seq %d with %d records", st.Damaged, st.DamagedRecords, lostFirst, lost)
	}
}

// flipBytes inverts 64 bytes at each offset of the file at path.
func flipBytes(t *testing.T, path string, offsets ...int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64)
	for _, off := range offsets {
		if _, err := f.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
		for i := range buf {
			buf[i] ^= 0xff
		}
		if _, err := f.WriteAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
}

// A power cut can leave the index pointing at blocks the disk never got
// whole. Those records are lost, and Open says so (Stats.Lost, kept across
// runs); everything else stays true: the record count is what can be
// read, and new records continue right after the last intact one, not a
// block's worth of seqs later.
func TestTornNewestBlocksKeepSeqsAndCountTrue(t *testing.T) {
	for _, cut := range []int64{500, 3000} { // into the newest block; through it into the one before
		t.Run(fmt.Sprintf("cut %d bytes", cut), func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{blockBytes: 2000}
			s := openAt(t, dir, opts)
			for i := range 100 {
				ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: "torn", Payload: damagePayload(i)})
			}
			flush(t, s)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			names := blockFileNames(t, dir)
			last := filepath.Join(dir, blocksDir, names[len(names)-1])
			info, err := os.Stat(last)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(last, info.Size()-cut); err != nil {
				t.Fatal(err)
			}

			s = openAt(t, dir, opts)
			all, _ := query(t, s, Query{Limit: 1000})
			n := len(all)
			if n < 40 || n >= 100 || all[0].Seq != 1 || all[n-1].Seq != uint64(n) {
				t.Fatalf("%d records readable, seqs %d..%d; want all but the torn end, from 1", n, all[0].Seq, all[n-1].Seq)
			}
			st := stats(t, s)
			if st.Records != int64(n) {
				t.Errorf("Stats.Records = %d after recovery, but %d records can be read", st.Records, n)
			}
			if len(st.Lost) != 1 || st.Lost[0].First != uint64(n+1) || st.Lost[0].Last != 100 || st.Lost[0].File != last {
				t.Errorf("Stats.Lost = %+v, want seq %d..100 in %s", st.Lost, n+1, last)
			}
			ingest(t, s, message.Message{Time: base.Add(time.Hour), Topic: "torn", Payload: []byte("after")})
			flush(t, s)
			newest, _ := query(t, s, Query{Newest: true, Limit: 1})
			if len(newest) != 1 || string(newest[0].Payload) != "after" || newest[0].Seq != uint64(n+1) {
				t.Fatalf("newest after recovery: %+v, want the new record as seq %d", newest, n+1)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s = openAt(t, dir, opts)
			st = stats(t, s)
			if st.Records != int64(n+1) || len(st.Lost) != 1 {
				t.Errorf("after another Open: %d records (want %d), lost %+v (want the one report)", st.Records, n+1, st.Lost)
			}
			if got, _ := query(t, s, Query{Limit: 1000}); len(got) != n+1 {
				t.Errorf("after another Open: %d records readable, want %d", len(got), n+1)
			}
		})
	}
}

// A record larger than the capture keeps is dropped, counted as a drop
// and as too large (also across runs), and the capture goes on.
func TestOversizedRecordIsCountedAsDropped(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	if s.Ingest(message.Message{Time: base, Topic: "big", Payload: make([]byte, MaxRecordBytes)}) {
		t.Fatal("a record over MaxRecordBytes was accepted")
	}
	ingest(t, s, message.Message{Time: base, Topic: "small", Payload: []byte("kept")})
	flush(t, s)
	st := stats(t, s)
	if st.Dropped != 1 || st.TooLarge != 1 || st.DroppedTotal != 1 || st.TooLargeTotal != 1 {
		t.Errorf("after one oversized record: dropped %d (total %d), too large %d (total %d); want 1 each",
			st.Dropped, st.DroppedTotal, st.TooLarge, st.TooLargeTotal)
	}
	if recs, _ := query(t, s, Query{}); len(recs) != 1 || string(recs[0].Payload) != "kept" {
		t.Fatalf("records after the oversized one: %+v", recs)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, Options{})
	if st := stats(t, s); st.DroppedTotal != 1 || st.TooLargeTotal != 1 || st.TooLarge != 0 {
		t.Errorf("after reopening: dropped total %d, too large %d (total %d); want 1, 0, 1", st.DroppedTotal, st.TooLarge, st.TooLargeTotal)
	}
}

// A format 3 store (block pointers without count and checksum) opens,
// reads as it did, takes new records with checksummed pointers and is
// marked format 4.
func TestFormat3StoreIsReadAndContinued(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{blockBytes: 2000})
	for i := range 60 {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: fmt.Sprintf("v3/%d", i%2), Payload: damagePayload(i)})
	}
	flush(t, s)
	if err := s.db.Update(func(txn *badgerdb.Txn) error { // as format 3 wrote them
		for _, b := range indexedBlocks(t, s) {
			v := make([]byte, blockPtrLen)
			copy(v, []byte{blockPtrTag})
			binary.BigEndian.PutUint32(v[1:], b.ptr.file)
			binary.BigEndian.PutUint64(v[5:], uint64(b.ptr.off))
			binary.BigEndian.PutUint32(v[13:], uint32(b.ptr.n))
			if err := txn.Set(blockKey(b.first), v); err != nil {
				return err
			}
		}
		return txn.Set(formatKey, []byte{3})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, dir, Options{blockBytes: 2000})
	for i := 60; i < 80; i++ {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: fmt.Sprintf("v3/%d", i%2), Payload: damagePayload(i)})
	}
	flush(t, s)
	all, _ := query(t, s, Query{Limit: 1000})
	if len(all) != 80 {
		t.Fatalf("%d records, want 60 old and 20 new", len(all))
	}
	for i, r := range all {
		if r.Seq != uint64(i+1) || !bytes.Equal(r.Payload, damagePayload(i)) {
			t.Fatalf("record %d: seq %d, payload %v", i, r.Seq, r.Payload[:1])
		}
	}
	if one, _ := query(t, s, Query{Filter: "v3/1", Limit: 1000}); len(one) != 40 {
		t.Fatalf("topic v3/1: %d records, want 40", len(one))
	}
	if st := stats(t, s); st.Records != 80 {
		t.Fatalf("Stats.Records = %d, want 80", st.Records)
	}
	blocks := indexedBlocks(t, s)
	if newest := blocks[len(blocks)-1].ptr; !newest.summed {
		t.Errorf("a block written after reopening has no checksum: %+v", newest)
	}
	if err := s.db.View(func(txn *badgerdb.Txn) error {
		item, err := txn.Get(formatKey)
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 1 || v[0] != storeFormat || storeFormat != 4 {
				t.Errorf("format marker %v, want 4", v)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
}

// Records counts what is stored, not the span of seqs: records of a
// write that failed (here: no block file could be created) took seqs but
// are not in the capture, and the count must not include them.
func TestRecordsCountSkipsFailedWrites(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{blockBytes: 2000, blockFileBytes: 4096})
	put := func(from, to int) {
		for i := from; i < to; i++ {
			ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: "gap", Payload: damagePayload(i)})
		}
	}
	put(0, 20)
	flush(t, s)
	blocks := filepath.Join(dir, blocksDir)
	if err := os.Rename(blocks, blocks+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocks, nil, 0o600); err != nil { // new block files cannot be created
		t.Fatal(err)
	}
	put(20, 120)
	if err := s.Flush(t.Context()); err == nil {
		t.Fatal("Flush reported no error although no block file could be created")
	}
	if err := os.Remove(blocks); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(blocks+".away", blocks); err != nil {
		t.Fatal(err)
	}
	put(120, 130)
	flush(t, s)
	all, _ := query(t, s, Query{Limit: 1000})
	st := stats(t, s)
	if st.Failed == 0 || len(all) >= 130 {
		t.Fatalf("%d records readable, %d failed: the write did not fail as the test needs", len(all), st.Failed)
	}
	if st.Records != int64(len(all)) {
		t.Errorf("Stats.Records = %d, but %d records are stored (%d failed)", st.Records, len(all), st.Failed)
	}
	if err := s.Close(); err != nil {
		t.Log(err) // the failed write is reported again
	}
	s = openAt(t, dir, Options{blockBytes: 2000, blockFileBytes: 4096})
	if st := stats(t, s); st.Records != int64(len(all)) {
		t.Errorf("after reopening: Stats.Records = %d, want %d", st.Records, len(all))
	}
}
