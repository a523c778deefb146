package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"runtime/trace"
)

// startProfiling writes a CPU profile of the whole run to the file that
// IOTSTUDIO_CPUPROFILE names, and the run's allocations (pprof's allocs
// profile) to IOTSTUDIO_MEMPROFILE's and an execution trace to
// IOTSTUDIO_TRACE's, so that a benchmark can profile the
// shipped binary (simulate run, serve) as it runs, child process and all.
// The returned stop flushes them; main calls it before exiting.
func startProfiling() (stop func()) {
	stopCPU := func() {}
	if path := os.Getenv("IOTSTUDIO_CPUPROFILE"); path != "" {
		stopCPU = cpuProfile(path)
	}
	stopTrace := func() {}
	if path := os.Getenv("IOTSTUDIO_TRACE"); path != "" {
		stopTrace = startTrace(path)
	}
	return func() {
		stopTrace()
		stopCPU()
		if path := os.Getenv("IOTSTUDIO_MEMPROFILE"); path != "" {
			writeAllocsProfile(path)
		}
	}
}

func cpuProfile(path string) (stop func()) {
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

func writeAllocsProfile(path string) {
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "IOTSTUDIO_MEMPROFILE: writing %s: %v\n", path, err)
	}
}

// startTrace writes an execution trace (go tool trace) of the run to path:
// where goroutines wait, which a CPU profile cannot show.
func startTrace(path string) (stop func()) {
	f, err := os.Create(path)
	if err == nil {
		if err = trace.Start(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "IOTSTUDIO_TRACE: %v (running without a trace)\n", err)
		return func() {}
	}
	return func() {
		trace.Stop()
		if err := f.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "IOTSTUDIO_TRACE: writing %s: %v\n", path, err)
		}
	}
}
