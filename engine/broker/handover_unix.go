//go:build unix

package broker

import (
	"errors"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketFile is a file on a duplicate of ln's descriptor, made here rather
// than by File: the socket os.File that File returns clears O_NONBLOCK
// when net.FileListener asks for its descriptor, and O_NONBLOCK belongs to
// the socket the old listener still accepts on. An Accept that called
// accept4 in that window blocked in the kernel, and closing the old
// listener waited for it for good: Reconfigure hung. A file made by
// os.NewFile leaves the flag alone.
func socketFile(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	nfd, dupErr := -1, error(nil)
	if err := rc.Control(func(fd uintptr) {
		nfd, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, os.NewSyscallError("fcntl", dupErr)
	}
	return os.NewFile(uintptr(nfd), "socket"), nil
}
