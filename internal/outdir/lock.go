package outdir

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Lock is an output's lock, held from before a run touches any temporary directory until
// after it publishes. Its file, .<base>.lock beside the output (the resolved output, so that
// every name of one directory shares one lock), holds the holder's process id. The lock is
// an flock on that file: the kernel releases it when the holder dies, however it dies, so a
// killed run never leaves the output locked; the next holder reuses the file.
type Lock struct {
	f    *os.File
	path string
}

// BusyError is Acquire's error when another process holds the output's lock.
type BusyError struct {
	Out string // the output as the caller named it
	PID int    // the holder's process id; 0 when it could not be read
}

func (e *BusyError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("output %s is in use by another tokenmill run; wait for it to finish", e.Out)
	}
	return fmt.Sprintf("output %s is in use by another tokenmill run (pid %d); wait for it to finish or stop it", e.Out, e.PID)
}

// LockPath is the lock file of out: .<base>.lock beside the resolved output.
func LockPath(out string) (string, error) {
	r, err := Resolve(out)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(r), "."+filepath.Base(r)+".lock"), nil
}

// Acquire takes out's lock, creating the output's parent directory when it is missing. When
// another process holds it, the error is a *BusyError naming that process.
func Acquire(out string) (*Lock, error) {
	path, err := LockPath(out)
	if err != nil {
		return nil, fmt.Errorf("locking output %s: %w", out, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("locking output %s: %w", out, err)
	}
	f, busy, err := lockFile(path)
	if err != nil {
		return nil, fmt.Errorf("locking output %s: %w", out, err)
	}
	if busy {
		return nil, &BusyError{Out: out, PID: readPID(path)}
	}
	l := &Lock{f: f, path: path}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		l.Release()
		return nil, fmt.Errorf("locking output %s: %w", out, err)
	}
	return l, nil
}

// Release removes the lock file and releases the lock. It may be called on a nil Lock and
// more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Removed while still held: a process that opened the file before the removal finds,
	// once it gets the lock, that the path names another file or none, and tries again.
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// readPID reads the holder's pid from the lock file. A holder writes it just after taking
// the lock, so an empty file is read again for a moment.
func readPID(path string) int {
	for range 20 {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0
}
