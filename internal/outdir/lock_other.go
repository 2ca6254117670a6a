//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package outdir

import (
	"errors"
	"os"
)

// lockFile creates path exclusively: on systems without flock the lock is the file's
// existence, so a killed holder leaves it behind, and its pid names the process to check
// before removing the file by hand.
func lockFile(path string) (f *os.File, busy bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, true, nil
	}
	return f, false, err
}
