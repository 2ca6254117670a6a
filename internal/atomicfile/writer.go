package atomicfile

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"
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

// AlignedBytes returns n zeroed bytes on the Go heap whose first byte lies on a 4 KiB
// boundary, as the memory of a direct write must: a caller that fills them in file order from
// a Writer's Offset modulo 4 KiB on hands its whole blocks to Write without a copy. They lie on
// ordinary pages, not huge ones: fresh from the OS, a page is faulted in when first touched, so
// a buffer filled only in part (the rows of a small validation split) costs the pages it fills.
func AlignedBytes(n int) []byte {
	b := make([]byte, n+directAlign)
	at := int(-uintptr(unsafe.Pointer(unsafe.SliceData(b))) & (directAlign - 1))
	return b[at : at+n : at+n]
}

// Writer is the writer of one output file. Write appends; Finish writes what is gathered,
// after which the file is an ordinary one (WriteAt, Sync) again.
type Writer struct {
	f       *os.File
	direct  bool
	buf     []byte // gathered bytes (direct only): len is filled, cap directChunk
	free    func() // unmaps buf (mapBuffer), once the file no longer writes directly
	off     int64  // file offset of the next write
	started int64  // buffered: bytes whose write-out was started
}

// NewWriter returns the writer of f, a new empty file, with O_DIRECT where possible.
func NewWriter(f *os.File) *Writer {
	w := &Writer{f: f}
	if setDirect(f, true) == nil {
		// A buffer mapped for this file: files come and go during a run, and a heap buffer
		// would be cleared page by page each time. Its pages are 4 KiB ones (see mapBuffer).
		// A Writer dropped without Finish (an aborted output) unmaps it when collected.
		var buf []byte
		w.direct = true
		buf, w.free = mapBuffer(directChunk)
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

// Write appends p. In direct mode the bytes are gathered in the Writer's buffer and written a
// buffer at a time, except that when the bytes of p from the file's next 4 KiB boundary on lie
// at an address aligned to 4 KiB (a caller arranges it with Offset), the whole 4 KiB blocks
// among them go to the file from where they lie, without a copy: only the bytes before the
// boundary and after the last whole block pass through the buffer.
func (w *Writer) Write(p []byte) (int, error) {
	if !w.direct {
		return w.writeBuffered(p)
	}
	n := len(p)
	if k := int(-w.Offset() & (directAlign - 1)); len(p) >= k+directAlign &&
		uintptr(unsafe.Pointer(unsafe.SliceData(p[k:])))%directAlign == 0 {
		// Fill the buffer to the boundary, and write it and the whole blocks of p at once.
		w.buf = append(w.buf, p[:k]...)
		m := (len(p) - k) &^ (directAlign - 1)
		if err := w.writeBufferAnd(p[k : k+m]); err != nil {
			return k, err
		}
		p = p[k+m:]
		if !w.direct { // fell back to the page cache: so does the rest
			m, err := w.writeBuffered(p)
			return n - len(p) + m, err
		}
	}
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
	if err := w.writeAt(w.buf[:n]); err != nil || !w.direct {
		if !w.direct {
			// The rest of the buffer follows what writeAt wrote through the page cache.
			if _, werr := w.writeBuffered(w.buf[n:]); err == nil {
				err = werr
			}
			w.release()
		}
		return err
	}
	w.buf = w.buf[:copy(w.buf, w.buf[n:])]
	return nil
}

// writeBufferAnd writes the buffer (whole blocks) and then body (whole blocks, aligned in
// memory) with one O_DIRECT call, and empties the buffer. What that call leaves unwritten (a
// short write, a refusal) goes through writeAt, whose fallback applies.
func (w *Writer) writeBufferAnd(body []byte) error {
	head := len(w.buf)
	n, err := pwrite2(w.f, w.buf, body, w.off)
	n = max(n, 0)
	w.off += int64(n)
	if err == nil && n == head+len(body) {
		w.buf = w.buf[:0]
		return nil
	}
	if n < head {
		if err := w.writeAt(w.buf[n:]); err != nil {
			return err
		}
		n = head
	}
	w.buf = w.buf[:0]
	if w.direct {
		err = w.writeAt(body[n-head:])
	} else {
		_, err = w.writeBuffered(body[n-head:])
	}
	if !w.direct {
		w.release()
	}
	return err
}

// writeAt writes b (a multiple of directAlign, aligned in memory) at the current offset with
// O_DIRECT. When O_DIRECT is refused after all (EINVAL from a file system that took the flag),
// or a short write leaves the offset unaligned, it clears direct mode and writes the rest of b
// through the page cache.
func (w *Writer) writeAt(b []byte) error {
	for done := 0; done < len(b); {
		m, err := w.f.WriteAt(b[done:], w.off)
		w.off += int64(m)
		done += m
		if err != nil || done < len(b) && (m%directAlign != 0) {
			if serr := setDirect(w.f, false); serr != nil {
				return fmt.Errorf("%w (and clearing O_DIRECT: %v)", err, serr)
			}
			w.direct = false
			_, err = w.writeBuffered(b[done:])
			return err
		}
	}
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
