package formats

import "io"

// chunkBufSize is the read buffer of the JSON array and CSV readers: a record is scanned
// through it chunk by chunk, so a reader's memory is this buffer plus at most MaxRecord bytes
// of the current record, however long the record turns out to be.
const chunkBufSize = 64 << 10

// chunkReader is a fixed-size read buffer whose unread bytes are scanned in place. The JSON
// array and CSV readers find record boundaries on it byte by byte and copy out at most
// MaxRecord bytes of a record, so that an over-long record is measured and skipped without
// ever being held whole (encoding/json and encoding/csv would hold it).
type chunkReader struct {
	r    io.Reader
	buf  []byte
	i, n int   // unread bytes are buf[i:n]
	base int64 // stream offset of buf[0]
	err  error // the read error that ended the stream (io.EOF at a clean end); sticky
}

// newChunkReader reads r, whose first byte is at offset start of the stream.
func newChunkReader(r io.Reader, start int64) chunkReader {
	return chunkReader{r: r, buf: make([]byte, chunkBufSize), base: start}
}

// skipBOM consumes a UTF-8 byte-order mark at the start of src (it is no white space to JSON
// nor part of a CSV header) and returns how many bytes it skipped, so that offsets stay those
// of the file.
func skipBOM(src *source) int64 {
	if head, _ := src.peek(3); len(head) >= 3 && string(head[:3]) == string(bom) {
		src.peeked = src.peeked[3:]
		return 3
	}
	return 0
}

// offset returns the stream offset of the next unread byte.
func (c *chunkReader) offset() int64 { return c.base + int64(c.i) }

// fill makes sure some bytes are unread; false at the end of the stream or on a read error
// (c.err says which).
func (c *chunkReader) fill() bool {
	if c.i < c.n {
		return true
	}
	if c.err != nil {
		return false
	}
	c.base += int64(c.n)
	c.i, c.n = 0, 0
	// A reader may return (0, nil); give up after a few, as bufio does.
	for tries := 0; c.n == 0 && c.err == nil; tries++ {
		if tries == 100 {
			c.err = io.ErrNoProgress
			break
		}
		c.n, c.err = c.r.Read(c.buf)
	}
	return c.n > 0
}

// skipSpace consumes JSON white space and returns the next byte, unconsumed; false at the end
// of the stream or on a read error.
func (c *chunkReader) skipSpace() (byte, bool) {
	for c.fill() {
		for ; c.i < c.n; c.i++ {
			switch b := c.buf[c.i]; b {
			case ' ', '\t', '\r', '\n':
			default:
				return b, true
			}
		}
	}
	return 0, false
}

// appendBounded appends p to dst without letting dst grow past max bytes: what a reader keeps
// of a record it is scanning.
func appendBounded(dst, p []byte, max int64) []byte {
	if room := max - int64(len(dst)); room > 0 {
		dst = append(dst, p[:min(int64(len(p)), room)]...)
	}
	return dst
}
