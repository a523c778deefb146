package app

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// lowerPriority renices every thread: on Linux niceness belongs to a
// thread, and the Go runtime has started several before main runs. Threads
// it starts later inherit the niceness of the thread that starts them,
// which is then one of these. Twice, for threads started meanwhile.
func lowerPriority() error {
	for range 2 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("list threads: %w", err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, backgroundNice); err != nil {
				return fmt.Errorf("renice thread %d: %w", tid, err)
			}
		}
	}
	return nil
}
