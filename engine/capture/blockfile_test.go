package capture

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/message"
)

// blockFileNames lists the block files of the store in dir.
func blockFileNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, blocksDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if _, ok := parseBlockFileName(e.Name()); ok {
			names = append(names, e.Name())
		}
	}
	return names
}

// Retention by size gives the disk back: once every block of a file is
// deleted, the file goes, so the block files stay within the budget plus
// about a file.
func TestRetentionRemovesEmptiedBlockFiles(t *testing.T) {
	const budget, file = 64 << 10, 16 << 10
	dir := t.TempDir()
	s := openAt(t, dir, Options{blockBytes: 2000, segmentBlocks: 2, blockFileBytes: file, MaxBytes: budget, MaxAge: -1})
	payload := bytes.Repeat([]byte("d"), 200)
	for i := range 5000 {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Millisecond), Topic: fmt.Sprintf("disk/%d", i%5), Payload: payload})
		if i%250 == 249 {
			flush(t, s)
		}
	}
	flush(t, s)
	names := blockFileNames(t, dir)
	// The budget's worth of files, one partly deleted and the active one.
	if max := budget/file + 2; len(names) > max {
		t.Fatalf("%d block files after retention (%v); want at most %d for a %d-byte budget", len(names), names, max, budget)
	}
	st := stats(t, s)
	if st.DiskBytes > 4*budget+(4<<20) { // the rest is Badger's index and logs
		t.Errorf("DiskBytes = %d for a %d-byte budget", st.DiskBytes, budget)
	}
	newest, _ := query(t, s, Query{Newest: true, Limit: 1})
	if len(newest) != 1 || newest[0].Seq != 5000 || !bytes.Equal(newest[0].Payload, payload) {
		t.Fatalf("newest record after retention = %+v, want seq 5000 intact", newest)
	}
	kept, _ := query(t, s, Query{Limit: 5000})
	if int64(len(kept)) != st.Records || len(kept) < budget/300 {
		t.Fatalf("%d records readable, Stats says %d", len(kept), st.Records)
	}
}

// What a crash leaves in the block directory is tidied at the next Open
// without losing an indexed record: a file that no record points to (the
// index write never happened) is removed, and the newest file is trimmed
// after its last indexed block.
func TestOpenTidiesWhatACrashLeft(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: "crash", Payload: []byte{byte(i)}})
	}
	flush(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	names := blockFileNames(t, dir)
	if len(names) != 1 {
		t.Fatalf("block files %v, want one", names)
	}
	last := filepath.Join(dir, blocksDir, names[0])
	info, err := os.Stat(last)
	if err != nil {
		t.Fatal(err)
	}
	size := info.Size()
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte{0xee}, 5000)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	orphan := filepath.Join(dir, blocksDir, blockFileName(99))
	if err := os.WriteFile(orphan, []byte("a block never indexed"), 0o600); err != nil {
		t.Fatal(err)
	}

	s = openAt(t, dir, Options{})
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("unreferenced block file still there: %v", err)
	}
	if info, err := os.Stat(last); err != nil || info.Size() != size {
		t.Errorf("newest block file not trimmed back to %d bytes: %v, %v", size, info.Size(), err)
	}
	ingest(t, s, message.Message{Time: base.Add(time.Hour), Topic: "crash", Payload: []byte("after")})
	flush(t, s)
	recs, _ := query(t, s, Query{Filter: "crash", Limit: 1000})
	if len(recs) != 101 || recs[0].Payload[0] != 0 || string(recs[100].Payload) != "after" || recs[100].Seq != 101 {
		t.Fatalf("after reopening: %d records, want 100 old and 1 new with seq 101", len(recs))
	}
	if names := blockFileNames(t, dir); len(names) != 2 || names[1] <= blockFileName(99) {
		t.Errorf("block files %v: the new one should be numbered after the removed 99", names)
	}
}

// A store written by format 2 (blocks inline in Badger) opens, reads as it
// did, takes new records into block files and is marked format 3.
func TestFormat2StoreIsReadAndContinued(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{inlineBlocks: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: fmt.Sprintf("v2/%d", i%3), Payload: []byte(fmt.Sprint(i))})
	}
	flush(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if names := blockFileNames(t, dir); len(names) != 0 {
		t.Fatalf("format 2 writer made block files %v", names)
	}

	s = openAt(t, dir, Options{})
	for i := 50; i < 80; i++ {
		ingest(t, s, message.Message{Time: base.Add(time.Duration(i) * time.Second), Topic: fmt.Sprintf("v2/%d", i%3), Payload: []byte(fmt.Sprint(i))})
	}
	flush(t, s)
	all, _ := query(t, s, Query{Limit: 1000})
	if len(all) != 80 {
		t.Fatalf("%d records, want 80 (50 inline, 30 in block files)", len(all))
	}
	for i, r := range all {
		if r.Seq != uint64(i+1) || string(r.Payload) != fmt.Sprint(i) {
			t.Fatalf("record %d: seq %d payload %q", i, r.Seq, r.Payload)
		}
	}
	one, _ := query(t, s, Query{Filter: "v2/1", Newest: true, Limit: 100})
	if len(one) != 27 || string(one[0].Payload) != "79" || string(one[26].Payload) != "1" {
		t.Fatalf("topic v2/1: %d records, newest %q", len(one), one[0].Payload)
	}
	if st := stats(t, s); st.Records != 80 || !st.Oldest.Equal(base) {
		t.Fatalf("stats %+v", st)
	}
	if names := blockFileNames(t, dir); len(names) != 1 {
		t.Fatalf("block files %v, want one for the new records", names)
	}
	if err := s.db.View(func(txn *badgerdb.Txn) error {
		item, err := txn.Get(formatKey)
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 1 || v[0] != storeFormat {
				t.Errorf("format marker %v, want %d", v, storeFormat)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
}

// Clear removes the block files too, and the store goes on.
func TestClearRemovesBlockFiles(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, Options{})
	for i := range 10 {
		ingest(t, s, message.Message{Time: base, Topic: "clear", Payload: []byte{byte(i)}})
	}
	flush(t, s)
	if n, err := s.Clear(t.Context()); err != nil || n != 10 {
		t.Fatalf("Clear = %d, %v", n, err)
	}
	if names := blockFileNames(t, dir); len(names) != 0 {
		t.Fatalf("block files after Clear: %v", names)
	}
	ingest(t, s, message.Message{Time: base, Topic: "clear", Payload: []byte("again")})
	flush(t, s)
	recs, _ := query(t, s, Query{})
	if len(recs) != 1 || string(recs[0].Payload) != "again" {
		t.Fatalf("after Clear: %+v", recs)
	}
}
