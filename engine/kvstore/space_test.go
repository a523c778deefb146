package kvstore

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/iotstudio/iotstudio/engine/smalldisk"
)

func TestFitOptionsShrinksBadgerToTheDisk(t *testing.T) {
	const MiB = 1 << 20
	cases := []struct {
		name                 string
		avail                int64
		memMax, vlogMax, thr int64
		wantMem, wantVlog    int64
	}{
		{"big disk keeps the configured sizes", 100 << 30, 8 * MiB, 64 * MiB, 256, 8 * MiB, 64 * MiB},
		{"20 MB disk gets the floors", 20e6, 8 * MiB, 64 * MiB, 256, MiB, 20e6 / valueLogShare},
		{"full disk gets the floors", 0, 8 * MiB, 64 * MiB, 256, MiB, MiB},
		{"between", 128 * MiB, 8 * MiB, 64 * MiB, 256, 4 * MiB, 8 * MiB},
		{"a ceiling under the floor is kept", 0, MiB / 2, MiB, 256, MiB / 2, MiB},
		{"the memtable holds the value threshold", 0, 8 * MiB, 16 * MiB, 256 << 10, (256<<10)*100/15 + 1, MiB},
	}
	for _, c := range cases {
		o := badgerdb.DefaultOptions("")
		o.MemTableSize, o.ValueLogFileSize, o.ValueThreshold = c.memMax, c.vlogMax, c.thr
		FitOptions(&o, c.avail)
		if o.MemTableSize != c.wantMem || o.ValueLogFileSize != c.wantVlog {
			t.Errorf("%s: memtable %d, value log %d; want %d, %d", c.name, o.MemTableSize, o.ValueLogFileSize, c.wantMem, c.wantVlog)
		}
	}
}

func testOptions() badgerdb.Options {
	o := badgerdb.DefaultOptions("")
	o.MemTableSize, o.ValueLogFileSize, o.NumMemtables = 8<<20, 64<<20, 2
	o.BlockCacheSize = 1 << 20
	o.ValueThreshold = 1 << 10
	return o
}

// Opening a store on a disk with almost no space left says so in plain
// words (Badger would die of SIGBUS writing the first page of its files),
// and works once space is freed.
func TestOpenOnFullDiskSaysSo(t *testing.T) {
	mnt := smalldisk.Mount(t, 8<<20)
	dir := filepath.Join(mnt, "db")
	filler := smalldisk.Fill(t, filepath.Join(mnt, "filler"), 100<<10)
	log := slog.New(slog.DiscardHandler)
	db, space, err := Open("test", dir, testOptions(), log)
	if err == nil {
		db.Close()
		space.Close()
		t.Fatal("opened a store with 100 KB free")
	}
	abs, _ := filepath.Abs(dir)
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "data dir "+abs+" has only 0.1 MB free") ||
		!strings.Contains(err.Error(), "free space or pass --data") {
		t.Fatalf("error %q", err)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	db, space, err = Open("test", dir, testOptions(), log)
	if err != nil {
		t.Fatal(err)
	}
	if got := db.Opts().MemTableSize; got != minMemTable {
		t.Errorf("memtable of %d bytes on an 8 MB disk", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	space.Close()
}

// Stores on one disk share its free space: Room keeps every open store's
// reserve free, and once it has said no it waits for a margin more.
func TestRoomKeepsEveryStoresReserve(t *testing.T) {
	const MiB = 1 << 20
	mnt := smalldisk.Mount(t, 24<<20)
	log := slog.New(slog.DiscardHandler)
	var spaces []*Space
	for _, name := range []string{"a", "b"} {
		db, space, err := Open(name, filepath.Join(mnt, name), testOptions(), log)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close(); space.Close() })
		spaces = append(spaces, space)
	}
	a, b := spaces[0], spaces[1]
	if a.Has(0) != true || b.Has(0) != true {
		t.Fatal("an empty 24 MB disk has no room")
	}
	reserves := a.Reserve() + b.Reserve() + runSlack
	filler := smalldisk.Fill(t, filepath.Join(mnt, "filler"), reserves+3*MiB/2)
	if !a.Room(MiB) {
		t.Errorf("no room for 1 MiB with 1.5 MiB more than the reserves (%d) free", reserves)
	}
	if a.Room(2 * MiB) {
		t.Errorf("room for 2 MiB with 1.5 MiB more than the reserves free: b's reserve was not counted")
	}
	if a.Room(MiB) || !a.Stopped() {
		t.Errorf("right after a no, room for 1 MiB without the resume margin")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if !a.Room(MiB) || a.Stopped() {
		t.Errorf("no room after the filler was removed (%d free)", a.Free())
	}
}

// A closed store keeps what it needs to open again reserved while another
// store on its disk writes: serve closes the session store first.
func TestClosedStoreKeepsItsOpeningReserve(t *testing.T) {
	mnt := smalldisk.Mount(t, 24<<20)
	log := slog.New(slog.DiscardHandler)
	open := func(name string) (*badgerdb.DB, *Space) {
		db, space, err := Open(name, filepath.Join(mnt, name), testOptions(), log)
		if err != nil {
			t.Fatal(err)
		}
		return db, space
	}
	adb, a := open("a")
	defer func() { adb.Close(); a.Close() }()
	bdb, b := open("b")
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}
	b.Close()
	a.Room(0)
	if want := a.Reserve() + b.openNeed() + runSlack; a.Needed() != want {
		t.Errorf("with b closed, a keeps %d free; want its reserve, b's opening need and the slack: %d", a.Needed(), want)
	}
	bdb, b = open("b") // replaces what b kept
	defer func() { bdb.Close(); b.Close() }()
	a.Room(0)
	if want := a.Reserve() + b.Reserve() + runSlack; a.Needed() != want {
		t.Errorf("with b open again, a keeps %d free; want %d", a.Needed(), want)
	}
}
