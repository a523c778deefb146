package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/dgraph-io/ristretto/v2/z"
)

// Block bodies live outside Badger (format 3): in append-only files in
// <dir>/blocks, written by the writer with positioned writes and read
// through read-only memory maps, while Badger keeps a small pointer per
// block (the b| value). Badger's value log copied every block twice,
// first into an encode buffer and then into a memory-mapped file whose
// every fresh page faulted on the way; that was most of what capture cost
// the broker (docs/PERFORMANCE.md, "Through the broker"). A pwrite copies once
// and faults nothing.
//
// A file is preallocated (sparse where the OS allows) so that its mapping
// never has to grow, and trimmed to what it holds when the store closes.
// Every Open starts a new file. A file goes once retention has deleted
// all of its blocks, and only while no query runs (queries read blocks
// from the mappings).
//
// Since format 4 a pointer also carries the block's record count and a
// CRC-32C of its bytes, so that a damaged block is found when it is read
// (and its seq range is known even when its bytes are not), instead of
// serving corrupted records. Badger checksums its own tables, which hold
// the pointers.
const (
	blocksDir      = "blocks"
	blockFileExt   = ".blk"
	blockFileBytes = 32 << 20

	blockPtrTag    = 'p' // format 3 pointer; an inline block starts with blockVersion
	blockPtrLen    = 1 + 4 + 8 + 4
	blockSumPtrTag = 'k' // format 4 pointer: with count and checksum
	blockSumPtrLen = blockPtrLen + 4 + 4
)

// castagnoli is CRC-32C, which amd64 and arm64 compute in hardware.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// blockPtr locates a block's bytes: file number, offset, length; and,
// if summed, its record count and checksum.
type blockPtr struct {
	file   uint32
	off    int64
	n      int64
	count  uint32
	crc    uint32
	summed bool
}

func (p blockPtr) end() int64 { return p.off + p.n }

// putBlockPtr encodes p as a format 4 pointer into b (blockSumPtrLen bytes).
func putBlockPtr(b []byte, p blockPtr) {
	b[0] = blockSumPtrTag
	binary.BigEndian.PutUint32(b[1:], p.file)
	binary.BigEndian.PutUint64(b[5:], uint64(p.off))
	binary.BigEndian.PutUint32(b[13:], uint32(p.n))
	binary.BigEndian.PutUint32(b[17:], p.count)
	binary.BigEndian.PutUint32(b[21:], p.crc)
}

// decodeBlockPtr reports whether a b| value is a pointer (format 3 or 4)
// rather than a block stored inline (format 2), and decodes it.
func decodeBlockPtr(v []byte) (blockPtr, bool) {
	switch {
	case len(v) == blockPtrLen && v[0] == blockPtrTag:
	case len(v) == blockSumPtrLen && v[0] == blockSumPtrTag:
	default:
		return blockPtr{}, false
	}
	p := blockPtr{
		file: binary.BigEndian.Uint32(v[1:]),
		off:  int64(binary.BigEndian.Uint64(v[5:])),
		n:    int64(binary.BigEndian.Uint32(v[13:])),
	}
	if v[0] == blockSumPtrTag {
		p.count, p.crc, p.summed = binary.BigEndian.Uint32(v[17:]), binary.BigEndian.Uint32(v[21:]), true
	}
	return p, true
}

// isPointerSize reports whether a b| value of n bytes may be a pointer:
// an inline block is longer than any pointer.
func isPointerSize(n int64) bool { return n == blockPtrLen || n == blockSumPtrLen }

// storedLen is the size of the block a b| value holds or points to.
func storedLen(v []byte) int64 {
	if p, ok := decodeBlockPtr(v); ok {
		return p.n
	}
	return int64(len(v))
}

// blockFiles is the store's block files. Reads (view) may run
// concurrently with each other and with the writer's methods; the
// methods that unmap (removeRetired, clearAll, close) need the caller to
// hold Store.dbMu exclusively, so that no query still reads a mapping.
type blockFiles struct {
	dir       string
	fileBytes int64 // preallocated size of a new file
	log       *slog.Logger

	mu       sync.Mutex
	maps     map[uint32][]byte           // read-only mappings, made on first read
	verified map[uint32]map[int64]uint32 // per file: offsets of blocks whose checksum matched, and the checksum

	// The rest belongs to the writer goroutine (and to Open before it).
	refs      map[uint32]int // blocks stored per file
	retired   []uint32       // files whose blocks are all deleted
	active    *os.File       // being appended to; nil until the first write
	activeNo  uint32
	activeOff int64
	activeCap int64
	nextNo    uint32
	unsynced  []*os.File // written since the last sync, active excluded
	newFiles  bool       // files created since the directory was synced
}

func blockFileName(no uint32) string { return fmt.Sprintf("%010d%s", no, blockFileExt) }

// openBlockFiles opens <storeDir>/blocks. refs counts the blocks the index
// points to in each file, last is the newest pointer (if any). Files that
// no block points to hold nothing the store can reach (a crash between
// writing a block and indexing it, or between deleting a file's last block
// and the file): they are removed, and the newest file is trimmed after
// its last indexed block.
func openBlockFiles(storeDir string, fileBytes int64, refs map[uint32]int, last blockPtr, haveLast bool, log *slog.Logger) (*blockFiles, error) {
	f := &blockFiles{dir: filepath.Join(storeDir, blocksDir), fileBytes: fileBytes, log: log,
		maps: make(map[uint32][]byte), verified: make(map[uint32]map[int64]uint32), refs: refs, nextNo: 1}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create block directory: %w", err)
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("list block files: %w", err)
	}
	for _, e := range entries {
		no, ok := parseBlockFileName(e.Name())
		if !ok {
			continue
		}
		f.nextNo = max(f.nextNo, no+1)
		path := filepath.Join(f.dir, e.Name())
		switch {
		case refs[no] == 0:
			if err := os.Remove(path); err != nil {
				return nil, fmt.Errorf("remove unreferenced block file: %w", err)
			}
			log.Info("capture: removed a block file that no record points to", "file", path)
		case haveLast && no == last.file:
			if info, err := e.Info(); err == nil && info.Size() > last.end() {
				if err := os.Truncate(path, last.end()); err != nil {
					return nil, fmt.Errorf("trim block file: %w", err)
				}
			}
		}
	}
	return f, nil
}

func parseBlockFileName(name string) (uint32, bool) {
	digits, ok := strings.CutSuffix(name, blockFileExt)
	if !ok || len(digits) != 10 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 32)
	return uint32(n), err == nil
}

// write appends a finished block and returns where it went, with its
// record count and checksum.
func (f *blockFiles) write(b []byte) (blockPtr, error) {
	n := int64(len(b))
	if f.active == nil || f.activeOff+n > f.activeCap {
		if err := f.roll(n); err != nil {
			return blockPtr{}, err
		}
	}
	if _, err := f.active.WriteAt(b, f.activeOff); err != nil {
		return blockPtr{}, fmt.Errorf("write block file %s: %w", f.active.Name(), err)
	}
	p := blockPtr{file: f.activeNo, off: f.activeOff, n: n, count: binary.BigEndian.Uint32(b[1:5]),
		crc: crc32.Checksum(b, castagnoli), summed: true}
	f.activeOff += n
	f.refs[f.activeNo]++
	return p, nil
}

// roll starts a new file with room for at least n bytes.
func (f *blockFiles) roll(n int64) error {
	size := max(f.fileBytes, n)
	path := filepath.Join(f.dir, blockFileName(f.nextNo))
	file, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create block file: %w", err)
	}
	if err := file.Truncate(size); err != nil {
		_ = file.Close()
		_ = os.Remove(path)
		return fmt.Errorf("preallocate block file %s: %w", path, err)
	}
	if f.active != nil {
		f.unsynced = append(f.unsynced, f.active)
		if f.refs[f.activeNo] == 0 { // retention emptied it while it was active
			f.retired = append(f.retired, f.activeNo)
		}
	}
	f.active, f.activeNo, f.activeOff, f.activeCap = file, f.nextNo, 0, size
	f.nextNo++
	f.newFiles = true
	return nil
}

// sync makes what was written durable: the files, then the directory
// entries of new files. It must precede Badger's sync, so that no synced
// pointer outlives the block it points to.
func (f *blockFiles) sync() error {
	var errs []error
	for _, file := range f.unsynced {
		if err := file.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync %s: %w", file.Name(), err))
		}
		_ = file.Close()
	}
	f.unsynced = f.unsynced[:0]
	if f.active != nil {
		if err := f.active.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("sync %s: %w", f.active.Name(), err))
		}
	}
	if f.newFiles && len(errs) == 0 {
		if err := syncDir(f.dir); err != nil {
			errs = append(errs, err)
		} else {
			f.newFiles = false
		}
	}
	return errors.Join(errs...)
}

// syncDir makes a directory's new entries durable. Windows has no way to
// (and NTFS journals them).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// view returns the bytes p points to, once their checksum (if p has one)
// matched. They stay valid while the caller holds Store.dbMu (shared is
// enough).
//
// Block files are written once, so a block is checked on its first read
// only: a topic query touches a few records of each block, and summing
// every block each time would read the whole capture.
func (f *blockFiles) view(p blockPtr) ([]byte, error) {
	f.mu.Lock()
	m, ok := f.maps[p.file]
	if !ok {
		var err error
		if m, err = mapBlockFile(filepath.Join(f.dir, blockFileName(p.file))); err != nil {
			f.mu.Unlock()
			return nil, err
		}
		f.maps[p.file] = m
	}
	sum, checked := f.verified[p.file][p.off]
	f.mu.Unlock()
	if p.off < 0 || p.n <= 0 || p.end() > int64(len(m)) {
		return nil, fmt.Errorf("%w: the block at bytes %d..%d is cut short: the file ends at %d", errCorruptBlock, p.off, p.end(), len(m))
	}
	b := m[p.off:p.end():p.end()]
	if !p.summed || (checked && sum == p.crc) {
		return b, nil
	}
	if got := crc32.Checksum(b, castagnoli); got != p.crc {
		return nil, fmt.Errorf("%w: checksum mismatch (%08x, want %08x) in the block at bytes %d..%d", errCorruptBlock, got, p.crc, p.off, p.end())
	}
	f.mu.Lock()
	if _, mapped := f.maps[p.file]; mapped { // not unmapped meanwhile
		if f.verified[p.file] == nil {
			f.verified[p.file] = make(map[int64]uint32)
		}
		f.verified[p.file][p.off] = p.crc
	}
	f.mu.Unlock()
	return b, nil
}

// path returns the path of block file no.
func (f *blockFiles) path(no uint32) string { return filepath.Join(f.dir, blockFileName(no)) }

// pathOf is path, or "" for file number 0, which blocks stored inline
// have (files are numbered from 1).
func (f *blockFiles) pathOf(no uint32) string {
	if no == 0 {
		return ""
	}
	return f.path(no)
}

func mapBlockFile(path string) ([]byte, error) {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) { // lost: damage; other errors may pass
		return nil, fmt.Errorf("%w: the block file is missing", errCorruptBlock)
	}
	if err != nil {
		return nil, fmt.Errorf("open block file: %w", err)
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("open block file: %w", err)
	}
	if info.Size() == 0 {
		return nil, fmt.Errorf("%w: the block file is empty", errCorruptBlock)
	}
	m, err := z.Mmap(file, false, info.Size())
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", path, err)
	}
	return m, nil
}

// release notes that retention deleted the block at p.
func (f *blockFiles) release(p blockPtr) {
	f.refs[p.file]--
	if f.refs[p.file] <= 0 {
		delete(f.refs, p.file)
		if f.active == nil || p.file != f.activeNo {
			f.retired = append(f.retired, p.file)
		}
	}
}

// removeRetired deletes the files release emptied. The caller holds
// Store.dbMu exclusively. A file that cannot be deleted now is tried again
// next time.
func (f *blockFiles) removeRetired() error {
	var errs []error
	kept := f.retired[:0]
	for _, no := range f.retired {
		if err := f.remove(no); err != nil {
			errs = append(errs, err)
			kept = append(kept, no)
		}
	}
	f.retired = kept
	return errors.Join(errs...)
}

func (f *blockFiles) remove(no uint32) error {
	f.unmap(no)
	for i, file := range f.unsynced {
		if file.Name() == filepath.Join(f.dir, blockFileName(no)) {
			_ = file.Close()
			f.unsynced = append(f.unsynced[:i], f.unsynced[i+1:]...)
			break
		}
	}
	path := filepath.Join(f.dir, blockFileName(no))
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove block file: %w", err)
	}
	return nil
}

func (f *blockFiles) unmap(no uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m, ok := f.maps[no]; ok {
		if err := z.Munmap(m); err != nil {
			f.log.Warn("capture: cannot unmap a block file", "file", blockFileName(no), "error", err)
		}
		delete(f.maps, no)
	}
	delete(f.verified, no)
}

// clearAll deletes every block file. The caller holds Store.dbMu
// exclusively and has deleted the index.
func (f *blockFiles) clearAll() error {
	f.unmapAll()
	for _, file := range f.unsynced {
		_ = file.Close()
	}
	f.unsynced = f.unsynced[:0]
	if f.active != nil {
		_ = f.active.Close()
		f.active = nil
	}
	clear(f.refs)
	f.retired = f.retired[:0]
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return fmt.Errorf("list block files: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if _, ok := parseBlockFileName(e.Name()); ok {
			if err := os.Remove(filepath.Join(f.dir, e.Name())); err != nil {
				errs = append(errs, fmt.Errorf("remove block file: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

func (f *blockFiles) unmapAll() {
	f.mu.Lock()
	nos := make([]uint32, 0, len(f.maps))
	for no := range f.maps {
		nos = append(nos, no)
	}
	f.mu.Unlock()
	for _, no := range nos {
		f.unmap(no)
	}
}

// close unmaps every file and trims the active one to what it holds. The
// writer has stopped and synced; the caller holds Store.dbMu exclusively.
func (f *blockFiles) close() error {
	f.unmapAll()
	for _, file := range f.unsynced {
		_ = file.Close()
	}
	f.unsynced = nil
	if f.active == nil {
		return nil
	}
	err := f.active.Truncate(f.activeOff)
	if cerr := f.active.Close(); err == nil {
		err = cerr
	}
	f.active = nil
	if err != nil {
		return fmt.Errorf("trim block file: %w", err)
	}
	return nil
}

// diskBytes is the disk space the block files take.
func (f *blockFiles) diskBytes() int64 {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if _, ok := parseBlockFileName(e.Name()); ok {
			if info, err := e.Info(); err == nil {
				n += diskUsage(info)
			}
		}
	}
	return n
}
