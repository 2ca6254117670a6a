package atomicfile

import (
	"fmt"
	"os"
	"runtime"

	"github.com/tokenmill/tokenmill/internal/hugepage"
)

// Output files are written from start to end, then synced before they are published: a job
// writes several bytes per input byte, once, and reads none of them back. Through the page
// cache, each byte is copied into a page the kernel must first allocate and later write out;
// on the virtual machines we measured, that copy cost 1.9 CPU seconds per 726 MB while the
// pages were fresh (0.3 s once recycled), 40% of a three-length run. So on Linux a Writer
// writes with O_DIRECT from an aligned buffer of its own: the disk reads the buffer (45 ms of
// CPU for the same 726 MB, at the disk's speed), and the page cache stays free for the inputs.
// Where O_DIRECT is refused (a file system without it, another OS), it writes through the
// page cache and asks the kernel to start each chunk's write-out early (sync_file_range), so
// that the publishing fsync waits for the last chunk only.

const (
	directAlign = 4096    // offsets, lengths and addresses of direct writes: any logical block size up to 4 KiB
	directChunk = 2 << 20 // bytes gathered before a direct write
	// FrontBuffer is the size of the write buffer in front of a Writer, which gathers
	// small writes (a row, an IPC message header) into fewer calls; the Writer's own buffer
	// makes the large writes, so this one stays small: memory touched for the first time is
	// dear (see above).
	FrontBuffer = 64 << 10
	// writebackChunk is how many bytes a buffered output accumulates before its writer asks
	// the kernel to start writing them to disk.
	writebackChunk = 8 << 20
)

// Writer is the writer of one output file. Write appends; Finish writes what is gathered,
// after which the file is an ordinary one (WriteAt, Sync) again.
type Writer struct {
	f       *os.File
	direct  bool
	buf     []byte // gathered bytes (direct only): len is filled, cap directChunk
	free    func() // unmaps buf (hugepage.Map), once the file no longer writes directly
	off     int64  // file offset of the next write
	started int64  // buffered: bytes whose write-out was started
}

// NewWriter returns the writer of f, a new empty file, with O_DIRECT where possible.
func NewWriter(f *os.File) *Writer {
	w := &Writer{f: f}
	if setDirect(f, true) == nil {
		// A buffer aligned to directChunk (one huge page where the kernel gives them), mapped
		// for this file: files come and go during a run, and a heap buffer would be cleared
		// page by page each time. A Writer dropped without Finish (an aborted output)
		// unmaps it when collected.
		var buf []byte
		w.direct = true
		buf, w.free = hugepage.Map(directChunk)
		w.buf = buf[:0]
		runtime.AddCleanup(w, func(free func()) { free() }, w.free)
	}
	return w
}

// release unmaps the direct buffer once nothing is left in it to write.
func (w *Writer) release() {
	w.buf = nil
	if w.free != nil {
		w.free()
		w.free = nil
	}
}

func (w *Writer) Write(p []byte) (int, error) {
	if !w.direct {
		return w.writeBuffered(p)
	}
	n := len(p)
	for len(p) > 0 {
		c := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf, p = w.buf[:len(w.buf)+c], p[c:]
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(len(w.buf)); err != nil {
				return n - len(p), err
			}
			if !w.direct { // flush fell back to the page cache: so does the rest
				m, err := w.writeBuffered(p)
				return n - len(p) + m, err
			}
		}
	}
	return n, nil
}

// flush writes the first n bytes of the buffer (a multiple of directAlign) and keeps the rest.
func (w *Writer) flush(n int) error {
	for done := 0; done < n; {
		m, err := w.f.WriteAt(w.buf[done:n], w.off)
		w.off += int64(m)
		done += m
		if err != nil || done < n && (m%directAlign != 0) {
			// O_DIRECT refused after all (EINVAL from a file system that took the flag), or a
			// short write left the offset unaligned: go on through the page cache.
			if serr := setDirect(w.f, false); serr != nil {
				return fmt.Errorf("%w (and clearing O_DIRECT: %v)", err, serr)
			}
			w.direct = false
			_, err = w.writeBuffered(w.buf[done:])
			w.release()
			return err
		}
	}
	w.buf = w.buf[:copy(w.buf, w.buf[n:])]
	return nil
}

// writeBuffered writes p at the current offset through the page cache.
func (w *Writer) writeBuffered(p []byte) (int, error) {
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	if w.off-w.started >= writebackChunk {
		startWriteback(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}

// Finish writes the gathered bytes: the whole blocks directly, the tail through the page
// cache. The file then has all the bytes written and is no longer in direct mode.
func (w *Writer) Finish() error {
	if !w.direct {
		return nil
	}
	if err := w.flush(len(w.buf) &^ (directAlign - 1)); err != nil {
		return err
	}
	if !w.direct { // flush fell back
		return nil
	}
	w.direct = false
	if err := setDirect(w.f, false); err != nil {
		return err
	}
	_, err := w.writeBuffered(w.buf)
	w.release()
	return err
}

// Offset returns the number of bytes written.
func (w *Writer) Offset() int64 { return w.off + int64(len(w.buf)) }
