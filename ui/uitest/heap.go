package uitest

import "runtime"

// LiveHeap is the heap in use after a collection: what a window keeps,
// for tests that bound what showing something costs.
func LiveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
