package testutil

import "runtime/metrics"

// HeapAllocated returns the bytes the heap allocated while fn ran (every goroutine's), for
// tests that bound what a reader allocates.
func HeapAllocated(fn func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	fn()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}
