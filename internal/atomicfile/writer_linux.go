package atomicfile

import (
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// mapBuffer returns n zeroed bytes mapped straight from the OS, outside the Go heap, on a page
// boundary, and the function that unmaps them (safe to call more than once; the slice must not
// be used after it). The mapping is advised against huge pages: a file's buffer is touched only
// as far as the file's bytes pass through it, a few kilobytes for a small file, where a huge
// page would be faulted in (and cleared) whole. If the OS refuses the mapping, the bytes come
// from the heap (and the function does nothing).
func mapBuffer(n int) ([]byte, func()) {
	if n <= 0 {
		return nil, func() {}
	}
	mem, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return AlignedBytes(n), func() {}
	}
	_ = unix.Madvise(mem, unix.MADV_NOHUGEPAGE)
	var once sync.Once
	return mem[:n:n], func() { once.Do(func() { unix.Munmap(mem) }) }
}

// setDirect turns O_DIRECT on or off for f.
func setDirect(f *os.File, on bool) error {
	fd := int(f.Fd())
	flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err != nil {
		return err
	}
	if on {
		flags |= unix.O_DIRECT
	} else {
		flags &^= unix.O_DIRECT
	}
	_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags)
	return err
}

// startWriteback asks the kernel to start writing the byte range to disk, without waiting.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// pwrite2 writes a and then b at off with one call.
func pwrite2(f *os.File, a, b []byte, off int64) (int, error) {
	return unix.Pwritev(int(f.Fd()), [][]byte{a, b}, off)
}
