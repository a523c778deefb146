//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package kvstore

import (
	"errors"
	"io/fs"
)

var errNoStatfs = errors.New("free space is not measured on this OS")

func statDisk(string) (int64, uint64, error) { return 0, 0, errNoStatfs }

func freeBytes(string) (int64, error) { return 0, errNoStatfs }

func allocated(info fs.FileInfo) int64 { return info.Size() }

func lockedByOther(string) bool { return false }
