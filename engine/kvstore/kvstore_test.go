package kvstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/dgraph-io/badger/v4/y"
)

// Badger flattens the errors it wraps into strings, so Classify must
// recognise both real Go error values and Badger's messages.
func TestClassify(t *testing.T) {
	dir := "/data/iot"
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"go permission", &os.PathError{Op: "open", Path: dir, Err: fs.ErrPermission}, ErrPermission},
		{"badger flattened permission", errors.New(`Error Creating Dir: "/data/iot" err: mkdir /data/iot: permission denied`), ErrPermission},
		{"badger lock", errors.New(`Cannot acquire directory lock on "/data/iot".  Another process is using this Badger database. err: resource temporarily unavailable`), ErrLocked},
		{"go lock", &os.SyscallError{Syscall: "flock", Err: syscall.EWOULDBLOCK}, ErrLocked},
		{"bad manifest", errors.New("manifest has bad magic"), ErrCorrupt},
		{"checksum", fmt.Errorf("table: %w", y.ErrChecksumMismatch), ErrCorrupt},
		{"panic", fmt.Errorf("%w: badger panicked", ErrCorrupt), ErrCorrupt},
		{"go no space", &os.PathError{Op: "write", Path: dir, Err: syscall.ENOSPC}, ErrNoSpace},
		{"badger flattened no space", errors.New("While opening memtable: write /data/iot/00001.mem: no space left on device"), ErrNoSpace},
	}
	for _, c := range cases {
		err := Classify("test", dir, c.err)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v does not wrap %v", c.name, err, c.want)
		}
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v does not wrap the cause", c.name, err)
		}
		if !strings.Contains(err.Error(), dir) {
			t.Errorf("%s: %v does not name the dir", c.name, err)
		}
	}
	other := Classify("test", dir, errors.New("disk on fire"))
	for _, sentinel := range []error{ErrLocked, ErrPermission, ErrCorrupt, ErrNoSpace} {
		if errors.Is(other, sentinel) {
			t.Errorf("unclassified error wraps %v: %v", sentinel, other)
		}
	}
}
