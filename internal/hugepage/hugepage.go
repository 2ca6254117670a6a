// Package hugepage allocates large tables on transparent huge pages where Linux offers them:
// tables that are filled soon after they are made and then read all over (the tokenizer's),
// where a huge page takes one fault instead of 512 and one TLB entry instead of 512. Buffers
// that are filled in part, or from start to end once, are better on ordinary pages: a huge
// page is faulted in (and cleared) whole on its first touch, and on a virtual machine whose
// host has taken its memory back, that first touch can cost several times what 512 ordinary
// faults do. Where the advice is not taken (another OS, THP disabled), nothing changes but
// the speed.
package hugepage

import "unsafe"

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
