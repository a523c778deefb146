//go:build !unix

package broker

import (
	"errors"
	"net"
	"os"
)

// socketFile is a file on a duplicate of ln's socket, where the platform
// makes one.
func socketFile(ln net.Listener) (*os.File, error) {
	fl, ok := ln.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return fl.File()
}
