package hugepage

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Map returns n zeroed bytes that start on a huge-page boundary, mapped straight from the OS
// outside the Go heap and advised to use huge pages, and the function that unmaps them (safe
// to call more than once; the slice must not be used after it). It is for buffers made and
// dropped during a run, such as one per output file: a Go allocation of reused heap memory is
// cleared first, and when the runtime had given those pages back to the OS the clearing faults
// them in again 4 KiB at a time; a fresh mapping is zero and takes a fault per huge page. If
// the OS refuses the mapping, Map falls back to Make (and the function does nothing).
func Map(n int) ([]byte, func()) {
	if n <= 0 {
		return nil, func() {}
	}
	span := (n + Size - 1) &^ (Size - 1)
	mem, err := unix.Mmap(-1, 0, span+Size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return Make[byte](n), func() {}
	}
	off := (Size - int(uintptr(unsafe.Pointer(unsafe.SliceData(mem))))%Size) % Size
	Advise(unsafe.Pointer(&mem[off]), uintptr(span))
	var once sync.Once
	return mem[off : off+n : off+n], func() { once.Do(func() { unix.Munmap(mem) }) }
}
