package sessionstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/smalldisk"
	"github.com/iotstudio/iotstudio/engine/testkit"
)

// On a full disk the session store stops writing instead of crashing: it
// holds changes in memory (dropping and counting new ones beyond its
// bound), Flush says why, and it writes them by itself once space is
// freed. The store then opens again on the nearly full disk.
func TestFullDiskHoldsChangesAndResumes(t *testing.T) {
	mnt := smalldisk.Mount(t, 16<<20)
	dir := filepath.Join(mnt, "sessions")
	spare := filepath.Join(mnt, "spare")
	if err := os.WriteFile(spare, make([]byte, 6<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.Stop() }()
	ctx := context.Background()
	value := make([]byte, 100<<10) // an inflight message of 100 KB: to the value log
	_, _ = rand.Read(value)
	next := 0
	put := func(n int) {
		for range n {
			h.enqueue(&op{key: fmt.Sprintf("msg/%05d", next), val: value})
			next++
		}
	}

	var flushErr error
	for !h.DiskFull() {
		if next >= 300 { // 30 MB
			t.Fatalf("30 MB stored on a 16 MB disk and the store is not full")
		}
		put(10)
		flushErr = h.Flush(ctx)
	}
	if !errors.Is(flushErr, ErrNoSpace) {
		t.Errorf("Flush once the disk was full returned %v; want ErrNoSpace", flushErr)
	}
	held := next
	put(heldMaxBytes/len(value) + 10)
	if err := h.Flush(ctx); !errors.Is(err, ErrNoSpace) {
		t.Errorf("Flush while full: %v; want ErrNoSpace", err)
	}
	if h.Dropped() < 10 {
		t.Errorf("%d changes dropped; want at least the 10 beyond the %d MB held", h.Dropped(), heldMaxBytes>>20)
	}
	h.del("msg/00000") // deletes are always held

	if err := os.Remove(spare); err != nil {
		t.Fatal(err)
	}
	testkit.EventuallyErr(t, "the store to write again once 6 MB are freed", func() error {
		if err := h.Flush(ctx); err != nil {
			return err
		}
		if h.DiskFull() {
			return errors.New("it still reports a full disk")
		}
		return nil
	})
	if err := h.Stop(); err != nil {
		t.Fatal(err)
	}

	h, err = Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen on the nearly full disk: %v", err)
	}
	err = h.view(func(txn *badgerdb.Txn) error {
		if _, err := txn.Get([]byte("msg/00000")); !errors.Is(err, badgerdb.ErrKeyNotFound) {
			return fmt.Errorf("the deleted key: %v", err)
		}
		_, err := txn.Get(fmt.Appendf(nil, "msg/%05d", held))
		return err // held while the disk was full, written when it was freed
	})
	if err != nil {
		t.Error(err)
	}
}
