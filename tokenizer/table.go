package tokenizer

import "unsafe"

// hugeTableBytes is the size from which a table is worth huge pages: two of them.
const hugeTableBytes = 4 << 20

// makeTable returns a zeroed slice of n elements (a type without pointers) for a table of
// megabytes that is filled and read at random: the vocabulary's lookup tables and each
// state's piece cache. On Linux its 2 MiB-aligned part is advised to use transparent huge
// pages before anything touches it. Filling such a table otherwise takes a page fault per
// 4 KiB (4096 for the 16 MB piece cache), and on the virtual machines we measured a fault
// costs about 12 µs: 50 ms per state, 5% of a one-core run over 40 MB. With huge pages the
// same table takes eight faults. Where the advice is not taken (another OS, THP disabled),
// nothing changes but the speed.
func makeTable[T any](n int) []T {
	s := make([]T, n)
	var zero T
	if size := uintptr(n) * unsafe.Sizeof(zero); size >= hugeTableBytes {
		adviseHugePages(unsafe.Pointer(unsafe.SliceData(s)), size)
	}
	return s
}
