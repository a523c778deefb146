//go:build unix

package broker

import (
	"net"
	"syscall"
	"testing"
)

// The old listener keeps accepting while its socket is duplicated for the
// new broker: it must stay non-blocking throughout, or an Accept that runs
// then blocks in the kernel and Reconfigure's Close waits for it forever.
func TestSocketFileLeavesTheListenerNonBlocking(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := socketFile(ln)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_ = f.Fd() // what net.FileListener does first
	rc, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		flags = int(r)
		if errno != 0 {
			ferr = errno
		}
	}); err != nil || ferr != nil {
		t.Fatal(err, ferr)
	}
	if flags&syscall.O_NONBLOCK == 0 {
		t.Fatal("duplicating the listener's socket made it blocking: its next Accept would block in the kernel and Close would wait for it")
	}
	dup, err := net.FileListener(f)
	if err != nil {
		t.Fatalf("listener on the duplicate: %v", err)
	}
	dup.Close()
}
