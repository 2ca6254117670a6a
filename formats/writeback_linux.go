package formats

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing the byte range to disk, without waiting.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
