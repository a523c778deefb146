package capture

import (
	"errors"
	"strings"
	"testing"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// TestFormat1StoreIsRefused: a store written before records were grouped
// in blocks (one r|<seq> key per record) is refused with ErrFormat, naming
// the directory, and left as it was.
func TestFormat1StoreIsRefused(t *testing.T) {
	dir := t.TempDir()
	db, err := badgerdb.Open(badgerOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	old := append([]byte("r|"), 0, 0, 0, 0, 0, 0, 0, 1)
	if err := db.Update(func(txn *badgerdb.Txn) error { return txn.Set(old, []byte("a format 1 record")) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	_, err = Open(dir, Options{})
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("Open of a format 1 store: %v, want ErrFormat", err)
	}
	for _, want := range []string{dir, "format 1", "move it aside"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	db, err = badgerdb.Open(badgerOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(txn *badgerdb.Txn) error {
		if _, err := txn.Get(formatKey); !errors.Is(err, badgerdb.ErrKeyNotFound) {
			t.Errorf("the refused store was marked: %v", err)
		}
		_, err := txn.Get(old)
		return err
	}); err != nil {
		t.Fatalf("the old record is gone: %v", err)
	}
}
