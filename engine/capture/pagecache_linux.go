package capture

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// releaseMappedPages drops this process's page-table references to the
// pages of the memory-mapped block files and Badger value-log files in
// dir. Queries read blocks through mmap (and Badger writes its value log
// through it), so every page read stays counted in the process's resident
// size (RssFile) until the kernel needs the memory: after a query over a
// whole 1 GiB capture that is most of it, and it is what a task manager
// shows. The pages stay in the page
// cache (dirty ones are still written back), so nothing is lost: a later
// read faults them back in from the cache. MADV_DONTNEED on a shared file
// mapping only unmaps; it never discards file data.
func releaseMappedPages(dir string) error {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		start, end, ok := storeMapping(sc.Text(), dir)
		if !ok {
			continue
		}
		// The range comes from the kernel's list of our mappings, so
		// it is page-aligned and mapped; a mapping closed since we read
		// the list makes madvise fail with ENOMEM, which is harmless.
		_, _, _ = unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED)
	}
	return sc.Err()
}

// storeMapping parses one line of /proc/self/maps and reports the address
// range if it maps a .vlog file in dir or a block file in dir/blocks.
func storeMapping(line, dir string) (start, end uintptr, ok bool) {
	fields := strings.Fields(line)
	if len(fields) < 6 {
		return 0, 0, false
	}
	path := strings.Join(fields[5:], " ")
	dir = filepath.Clean(dir)
	vlog := filepath.Ext(path) == ".vlog" && filepath.Dir(path) == dir
	block := filepath.Ext(path) == blockFileExt && filepath.Dir(path) == filepath.Join(dir, blocksDir)
	if !vlog && !block {
		return 0, 0, false
	}
	lo, hi, found := strings.Cut(fields[0], "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(lo, 16, 64)
	e, err2 := strconv.ParseUint(hi, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
