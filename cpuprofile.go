package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startCPUProfile writes a CPU profile of the whole run to the file that
// IOTSTUDIO_CPUPROFILE names, so that a benchmark can profile the shipped
// binary (simulate run, serve) as it runs, child process and all. The
// returned stop flushes it; main calls it before exiting.
func startCPUProfile() (stop func()) {
	path := os.Getenv("IOTSTUDIO_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "IOTSTUDIO_CPUPROFILE: %v (running without a profile)\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "IOTSTUDIO_CPUPROFILE: %v (running without a profile)\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "IOTSTUDIO_CPUPROFILE: writing %s: %v\n", path, err)
		}
	}
}
