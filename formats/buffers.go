package formats

import (
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Buffers is memory that one reader hands on to the next: the line buffer and the
// decompressors, whose windows and tables are the largest allocations of reading a file. A
// worker that reads file after file passes the same Buffers to each Open (Options.Buffers), so
// that only its first files allocate: fresh memory costs a page fault per 4 KiB on first
// touch, which on some virtual machines is as dear as decompressing the page. The zero value
// is ready to use. A Buffers serves one open reader at a time; Close releases it.
type Buffers struct {
	line []byte
	zstd *zstd.Decoder
	gzip *gzip.Reader
	busy bool
}

// take lends the buffers to a new reader, or returns nil when another reader holds them (it
// then allocates its own).
func (b *Buffers) take() *Buffers {
	if b == nil || b.busy {
		return nil
	}
	b.busy = true
	return b
}

// keepLine keeps buf, a reader's line buffer, for the next reader when it is larger than the
// one kept and no larger than keepLineBuffer: a buffer grown for one line of tens of
// megabytes is not kept for the files after. Nil-safe.
func (b *Buffers) keepLine(buf []byte) {
	if b != nil && cap(buf) > cap(b.line) && cap(buf) <= keepLineBuffer {
		b.line = buf[:0]
	}
}

// Close releases the decompressors. The Buffers can be used again afterwards.
func (b *Buffers) Close() {
	if b.zstd != nil {
		b.zstd.Close()
		b.zstd = nil
	}
	b.gzip, b.line = nil, nil
}
