// Package hugepage allocates the large tables and buffers that are filled soon after they are
// made on transparent huge pages where Linux offers them.
//
// Fresh memory costs a page fault per 4 KiB on first touch; on the virtual machines we
// measured, a fault costs about 12 µs, so filling 16 MB took 50 ms in faults alone, and with
// huge pages 1 ms. Where the advice is not taken (another OS, THP disabled), nothing changes
// but the speed.
package hugepage

import (
	"slices"
	"unsafe"
)

// MinBytes is the size from which an allocation is worth huge pages: two of them.
const MinBytes = 4 << 20

// Size is the size of a transparent huge page on x86-64 and arm64 (4 KiB base pages).
const Size = 2 << 20

// Make returns a zeroed slice of n elements of a type without pointers. From MinBytes on, the
// slice starts on a huge-page boundary and its memory, rounded up to whole huge pages, is
// advised to use huge pages before anything touches it: every page of the table can then be a
// huge page. Unaligned, the head and tail of a 6 MB table fell outside the advice and took
// 4 KiB faults, about 500 of them. The extra address space (under two huge pages) is never
// touched, except the tail of the last huge page, which a huge page maps whole.
func Make[T any](n int) []T {
	var zero T
	size := uintptr(n) * unsafe.Sizeof(zero)
	if size < MinBytes {
		return make([]T, n)
	}
	span := (size + Size - 1) &^ (Size - 1)
	buf := make([]byte, span+Size)
	p := unsafe.Pointer(unsafe.SliceData(buf))
	start := unsafe.Add(p, (Size-uintptr(p)%Size)%Size)
	Advise(start, span)
	// T holds no pointers (the contract), so the bytes may hold its values; the slice keeps
	// the whole allocation alive through its interior pointer.
	return unsafe.Slice((*T)(start), n)
}

// GrowFrom is the size from which Grow allocates on huge pages.
const GrowFrom = 256 << 10

// Grow returns s with room for n more elements, as slices.Grow does. When it must reallocate
// to hold GrowFrom bytes or more, it allocates at least MinBytes, with Make. A buffer that grows
// by doubling touches twice its final size in fresh memory, a page fault per 4 KiB; and a
// document buffer that has reached a quarter of a megabyte (a long document) is likely to
// grow further. Below GrowFrom nothing changes: short documents keep small buffers.
func Grow[T any](s []T, n int) []T {
	if n <= cap(s)-len(s) {
		return s
	}
	var zero T
	size := unsafe.Sizeof(zero)
	need := len(s) + n
	if uintptr(need)*size < GrowFrom {
		return slices.Grow(s, n)
	}
	t := Make[T](max(need, 2*cap(s), int(MinBytes/size)))[:len(s)]
	copy(t, s)
	return t
}
