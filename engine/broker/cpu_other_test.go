//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package broker

import (
	"testing"
	"time"
)

// processCPU is not measured on this platform; CPU metrics read 0.
func processCPU(testing.TB) time.Duration { return 0 }
