//go:build !linux

package atomicfile

import (
	"errors"
	"os"
)

// mapBuffer returns n zeroed bytes for a direct write, and a function that does nothing:
// without O_DIRECT a Writer never fills it.
func mapBuffer(n int) ([]byte, func()) { return AlignedBytes(n), func() {} }

// setDirect refuses: O_DIRECT is Linux's.
func setDirect(f *os.File, on bool) error {
	if on {
		return errors.New("O_DIRECT is not available here")
	}
	return nil
}

// startWriteback does nothing where sync_file_range does not exist: the final fsync writes
// everything.
func startWriteback(f *os.File, off, n int64) {}

// pwrite2 writes a and then b at off.
func pwrite2(f *os.File, a, b []byte, off int64) (int, error) {
	n, err := f.WriteAt(a, off)
	if err != nil {
		return n, err
	}
	m, err := f.WriteAt(b, off+int64(n))
	return n + m, err
}
