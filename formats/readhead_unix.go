//go:build unix

package formats

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// readHead reads the first len(buf) bytes of the file at path into buf and returns how many
// it read (fewer at the end of the file), with three system calls: os.Open would add the
// descriptor's non-blocking mode and poller registration, which a read of a few bytes does
// not need.
func readHead(path string, buf []byte) (int, error) {
	fd, err := openNoEINTR(path)
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := unix.Pread(fd, buf[n:], int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}

func openNoEINTR(path string) (int, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}
