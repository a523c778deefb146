package kvstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// Badger writes its memtable logs, value logs and tables through memory
// maps of files it creates sparse (ftruncate to 2x MemTableSize or 2x
// ValueLogFileSize, or to the table's size). A page of such a file gets its
// disk space only when Badger first writes to it, and if the filesystem has
// none left the kernel answers with SIGBUS, which kills the process: Go
// turns a fault into a panic only in goroutines that ask for it, and these
// are Badger's. So the stores never let Badger reach that point. Open sizes
// Badger's files to the free space and refuses, in plain words, a disk too
// full to open the store on; and before every write a store asks Room,
// which keeps free, for each store on the filesystem, what Badger may still
// claim on its own (Reserve) plus the write itself. A store that is refused
// stops writing (its callers count what it drops) and asks again later.
//
// Another process filling the disk between Room and Badger's write can
// still fault; the reserve's slack makes that window small.

// ErrNoSpace means the data directory's filesystem has too little free
// space to open or write the store.
var ErrNoSpace = errors.New("not enough free disk space")

// Sizing and reserve.
const (
	// minMemTable and minValueLogFile are the smallest files Badger gets
	// (1 MiB is Badger's minimum value-log file).
	minMemTable     = 1 << 20
	minValueLogFile = 1 << 20
	// memTableShare and valueLogShare are the fractions of the free space
	// a memtable and a value-log file may take (each file is created at
	// twice that size, sparse).
	memTableShare = 32
	valueLogShare = 16
	// slack covers what Badger writes besides our batches: the first page
	// of each new memtable or value-log file, the page its replay reads
	// past the end of a log on open, the manifest and the key registry.
	slack = 1 << 20
	// runSlack is kept free while running on top of the reserves, which
	// is all Open asks for: closing flushes memtables into tables that
	// the next Open's reserve counts, and the store must open again on
	// the disk it stopped writing to.
	runSlack = 1 << 20
	// resumeMargin is how much more than it needs a store that stopped
	// waits for, so that it does not flap at the edge.
	resumeMargin = 2 << 20
	// sstScanEvery bounds how often a Space lists the directory to add up
	// its tables and memtable logs.
	sstScanEvery = time.Second
)

// FitOptions shrinks o's memtable and value-log file sizes (o's values are
// the largest) to a fraction of avail free bytes, with Badger's floors, so
// that a small disk still holds a working store.
func FitOptions(o *badgerdb.Options, avail int64) {
	o.MemTableSize = fit(avail/memTableShare, minMemTable, o.MemTableSize)
	// Badger refuses a value threshold above 15% of the memtable.
	o.MemTableSize = max(o.MemTableSize, o.ValueThreshold*100/15+1)
	o.ValueLogFileSize = fit(avail/valueLogShare, minValueLogFile, o.ValueLogFileSize)
}

func fit(n, floor, ceiling int64) int64 {
	return max(min(n, ceiling), min(floor, ceiling))
}

// Space keeps the free space of one store's filesystem in view. All
// methods are safe for concurrent use.
type Space struct {
	dir       string // absolute
	dev       uint64
	memTables int64 // NumMemtables x MemTableSize: what flushing them writes

	mu       sync.Mutex // guards the scan
	sstBytes int64      // tables
	memBytes int64      // memtable logs
	scanned  time.Time

	reserve atomic.Int64 // as last computed; summed by other stores on dev
	closed  bool         // guarded by registry: kept only for its next Open
	free    atomic.Int64 // as last measured
	needed  atomic.Int64 // free space the last Room asked for
	stopped atomic.Bool  // the last Room said no
}

// registry sums the reserves of the stores per filesystem, since stores
// sharing a disk share its free space. A closed store stays in it, with
// what it needs to open again, while another store on its disk is open:
// when serve stops, the session store closes first, and the capture's
// last batch must not take the space the session store reopens with.
var registry struct {
	sync.Mutex
	byDev map[uint64]map[*Space]struct{}
}

func newSpace(dir string, dev uint64, o badgerdb.Options) *Space {
	return &Space{dir: absDir(dir), dev: dev, memTables: int64(o.NumMemtables) * o.MemTableSize}
}

// Reserve is what Badger may still write to this store's disk without
// being asked: flushing its memtables (at open, the logs of memtables to
// replay may be larger), compacting tables (at most what the tables hold)
// and slack.
func (s *Space) Reserve() int64 {
	sst, mem := s.scan()
	return max(s.memTables, mem) + sst + slack
}

// openNeed is what Badger writes on its own while it opens the store:
// flushing the memtables whose logs it replays, compacting tables, slack.
// It is less than Reserve by the memtables not yet written, so that a
// store that stopped writing because Room said no opens again.
func (s *Space) openNeed() int64 {
	sst, mem := s.scan()
	return mem + sst + slack
}

// scan returns the disk use of the tables and memtable logs, listing the
// directory at most every sstScanEvery.
func (s *Space) scan() (sst, mem int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.scanned) >= sstScanEvery {
		s.sstBytes, s.memBytes, s.scanned = sumFiles(s.dir, ".sst"), sumFiles(s.dir, ".mem"), time.Now()
	}
	return s.sstBytes, s.memBytes
}

// sumFiles adds up the disk use of dir's files with extension ext.
func sumFiles(dir, ext string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ext {
			continue
		}
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += allocated(info)
		}
	}
	return n
}

// reservedByOthers sums the reserves of the stores on dev but the one in
// dir (open, or closed and about to open again).
func reservedByOthers(dev uint64, dir string) int64 {
	registry.Lock()
	defer registry.Unlock()
	var n int64
	for s := range registry.byDev[dev] {
		if s.dir != dir {
			n += s.reserve.Load()
		}
	}
	return n
}

func (s *Space) register() {
	registry.Lock()
	defer registry.Unlock()
	if registry.byDev == nil {
		registry.byDev = make(map[uint64]map[*Space]struct{})
	}
	if registry.byDev[s.dev] == nil {
		registry.byDev[s.dev] = make(map[*Space]struct{})
	}
	for old := range registry.byDev[s.dev] {
		if old.dir == s.dir && old.closed { // this is its next Open
			delete(registry.byDev[s.dev], old)
		}
	}
	registry.byDev[s.dev][s] = struct{}{}
}

// Close leaves in the registry what the store needs to open again, until
// no store on its disk is open. Call it after closing Badger.
func (s *Space) Close() {
	s.mu.Lock()
	s.scanned = time.Time{} // closing flushed memtables into tables
	s.mu.Unlock()
	s.reserve.Store(s.openNeed())
	registry.Lock()
	defer registry.Unlock()
	s.closed = true
	for other := range registry.byDev[s.dev] {
		if !other.closed {
			return
		}
	}
	delete(registry.byDev, s.dev)
}

// Room reports whether the store may write n more bytes to Badger (and to
// files of its own on the same disk): whether the disk would then still
// hold every store's reserve, and runSlack. Once it has said no, it says yes again
// only with resumeMargin more. Where free space cannot be measured it
// always says yes.
func (s *Space) Room(n int64) bool {
	margin := int64(0)
	if s.stopped.Load() {
		margin = resumeMargin
	}
	ok, need := s.measure(n + margin)
	s.needed.Store(need)
	s.stopped.Store(!ok)
	return ok
}

// Has is Room without its memory: whether n bytes may be written now.
func (s *Space) Has(n int64) bool {
	ok, _ := s.measure(n)
	return ok
}

// measure reports whether the disk has room for n bytes beyond every
// store's reserve, and how much free space that takes.
func (s *Space) measure(n int64) (ok bool, need int64) {
	free, err := freeBytes(s.dir)
	if err != nil {
		return true, 0
	}
	res := s.Reserve()
	need = n + res + reservedByOthers(s.dev, s.dir) + runSlack
	s.reserve.Store(res)
	s.free.Store(free)
	return free >= need, need
}

// Spare is the free space beyond what Room keeps free (every store's
// reserve), as last measured; negative when that is not all free.
func (s *Space) Spare() int64 {
	return s.free.Load() - s.reserve.Load() - reservedByOthers(s.dev, s.dir) - runSlack
}

// Stop makes the next Room ask for resumeMargin more, as if it had said
// no: for a store whose write failed because the disk filled up anyway.
func (s *Space) Stop() { s.stopped.Store(true) }

// Stopped reports whether the last Room said no.
func (s *Space) Stopped() bool { return s.stopped.Load() }

// Free is the free space the last Room measured.
func (s *Space) Free() int64 { return s.free.Load() }

// Needed is the free space the last Room asked for: the write and every
// store's reserve (and, for a stopped store, the resume margin).
func (s *Space) Needed() int64 { return s.needed.Load() }

// NoSpaceError says plainly that dir's disk is too full to write, and how
// to fix it; it wraps ErrNoSpace.
func NoSpaceError(name, dir string, free, need int64) error {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return fmt.Errorf("%s: data dir %s has only %s free; Badger needs about %s; free space or pass --data: %w",
		name, dir, MB(free), MB(need), ErrNoSpace)
}

// MB formats a byte count for people, in decimal megabytes.
func MB(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// openSpace measures dir's disk, fits o to it and returns the store's
// Space, or a plain error if the disk is too full to open the store on.
// The Space is registered; its owner closes it.
func openSpace(name, dir string, o *badgerdb.Options) (*Space, error) {
	free, dev, err := statDisk(dir)
	if err != nil { // cannot measure (another OS): open as configured
		s := newSpace(dir, 0, *o)
		s.register()
		return s, nil
	}
	others := reservedByOthers(dev, absDir(dir))
	FitOptions(o, free-others)
	s := newSpace(dir, dev, *o)
	if need := s.openNeed() + others; free < need {
		return nil, NoSpaceError(name, dir, free, need)
	}
	s.reserve.Store(s.Reserve())
	s.free.Store(free)
	s.needed.Store(s.reserve.Load() + others)
	s.register()
	return s, nil
}
