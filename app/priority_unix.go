//go:build unix && !linux

package app

import (
	"fmt"
	"syscall"
)

// lowerPriority renices the process (BSD and macOS keep one niceness per
// process).
func lowerPriority() error {
	if err := syscall.Setpriority(syscall.PRIO_PROCESS, 0, backgroundNice); err != nil {
		return fmt.Errorf("renice: %w", err)
	}
	return nil
}
