package formats

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// source is an open input file, decompressed if need be, with a peek buffer
// for format sniffing.
type source struct {
	path   string
	f      *os.File
	raw    countingReader // the file's bytes, counted
	r      io.Reader      // decompressed stream
	dec    io.Closer      // decompressor, if any
	comp   Compression
	peeked []byte
	bufs   *Buffers // lent to this source until Close; nil: none
}

// InputCounter is implemented by the readers of byte-stream files (JSONL, plain lines, JSON
// arrays, CSV, text; compressed or not). Their records carry no offset in the file itself when
// it is compressed, so a caller that shows progress through a long .gz or .zst file asks the
// reader how far into the file it is instead.
type InputCounter interface {
	// InputBytes returns how many bytes have been read from the file so far: compressed
	// bytes for .gz and .zst, the decompressor's read-ahead included. It only grows, and
	// never exceeds what was read of the file.
	InputBytes() int64
}

// countingReader counts the bytes read from the file (before decompression): for error
// messages and InputCounter.
type countingReader struct {
	r   io.Reader
	n   int64
	off int64    // the file offset of the next byte read
	win rangeCRC // the digest of the bytes the reader owns (formats/digest.go)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.win.update(c.off, p[:n])
	c.off += int64(n)
	return n, err
}

// newSource opens the decompressed stream of f; bufs, when not nil, is lent to the source
// until Close (its decompressors are reset onto f instead of allocated).
func newSource(path string, f *os.File, comp Compression, bufs *Buffers) (*source, error) {
	s := &source{path: path, f: f, comp: comp, bufs: bufs}
	s.raw.r = f
	s.raw.win = wholeFile()
	s.r = &s.raw
	var err error
	switch comp {
	case CompressionGzip:
		err = s.openGzip()
	case CompressionZstd:
		err = s.openZstd()
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func (s *source) openGzip() error {
	if s.bufs != nil && s.bufs.gzip != nil {
		if err := s.bufs.gzip.Reset(&s.raw); err != nil {
			return fmt.Errorf("gzip header: %w", err)
		}
		s.r = s.bufs.gzip
		return nil
	}
	zr, err := gzip.NewReader(&s.raw)
	if err != nil {
		return fmt.Errorf("gzip header: %w", err)
	}
	s.r = zr
	if s.bufs != nil {
		s.bufs.gzip = zr
	} else {
		s.dec = zr
	}
	return nil
}

// ZstdMaxWindow is the largest zstd window the readers accept, as the zstd tool's own default
// (--memory=128MB, window log 27): a file it decompresses without flags, we do. The decoder
// allocates the window a frame header declares before the first block, and the library's
// default ceiling is 512 MiB: without this bound a corrupt 10-byte file took 512 MiB.
const ZstdMaxWindow = 128 << 20

func (s *source) openZstd() error {
	if s.bufs != nil && s.bufs.zstd != nil {
		if err := s.bufs.zstd.Reset(&s.raw); err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		s.r = s.bufs.zstd
		return nil
	}
	// One goroutine (the shard's own), and the default buffer strategy: the low-memory
	// one decodes about 30% slower and saves little next to a job's other buffers.
	zr, err := zstd.NewReader(&s.raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(ZstdMaxWindow))
	if err != nil {
		return fmt.Errorf("zstd: %w", err)
	}
	s.r = zr
	if s.bufs != nil {
		s.bufs.zstd = zr // Buffers.Close closes it
	} else {
		s.dec = zr.IOReadCloser()
	}
	return nil
}

// peek returns up to n bytes from the start of the stream without
// consuming them.
func (s *source) peek(n int) ([]byte, error) {
	if len(s.peeked) < n {
		buf := make([]byte, n)
		copy(buf, s.peeked)
		m, err := io.ReadFull(s.r, buf[len(s.peeked):])
		s.peeked = buf[:len(s.peeked)+m]
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return s.peeked, err
		}
	}
	return s.peeked, nil
}

func (s *source) Read(p []byte) (int, error) {
	if len(s.peeked) > 0 {
		n := copy(p, s.peeked)
		s.peeked = s.peeked[n:]
		return n, nil
	}
	return s.r.Read(p)
}

// seek repositions an uncompressed source (for byte ranges).
func (s *source) seek(off int64) error {
	s.peeked = nil
	if s.comp != CompressionNone {
		return fmt.Errorf("%s: cannot seek in a compressed file", s.path)
	}
	_, err := s.f.Seek(off, io.SeekStart)
	s.raw.off = off
	return err
}

// readErr wraps a read error with the file name and position: where is the
// caller's position in the decompressed stream (e.g. "line 12").
func (s *source) readErr(where string, err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	switch s.comp {
	case CompressionGzip:
		return fmt.Errorf("%s: %s (compressed byte %d): gzip: %w", s.path, where, s.raw.n, err)
	case CompressionZstd:
		if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			// The library says "decompressed size exceeds configured limit" for the window.
			err = fmt.Errorf("the frame needs a window larger than %d MiB, the most the zstd tool accepts without --memory: %w", ZstdMaxWindow>>20, err)
		}
		return fmt.Errorf("%s: %s (compressed byte %d): zstd: %w", s.path, where, s.raw.n, err)
	}
	return fmt.Errorf("%s: %s: %w", s.path, where, err)
}

func (s *source) Close() error {
	var err error
	if s.dec != nil {
		err = s.dec.Close()
	}
	if s.bufs != nil {
		s.bufs.busy = false
		s.bufs = nil
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
