package hugepage

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Advise asks for transparent huge pages on the whole 2 MiB pages inside
// [p, p+size). Errors are ignored: the advice is only about speed (a kernel without THP
// refuses it).
func Advise(p unsafe.Pointer, size uintptr) {
	const huge = 2 << 20
	start := (uintptr(p) + huge - 1) &^ (huge - 1)
	end := (uintptr(p) + size) &^ (huge - 1)
	if end > start {
		_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start), unix.MADV_HUGEPAGE)
	}
}
