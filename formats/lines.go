package formats

import (
	"bytes"
	"fmt"
	"io"

	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

const minLineBuf = 256 << 10

// lineReader yields the non-blank lines of a stream: JSONL (Raw is the
// line) or plain text with one document per line (Value is the line too).
type lineReader struct {
	src    *source
	format Format
	opt    Options

	buf        []byte
	start, end int   // unread bytes are buf[start:end]
	off        int64 // stream offset of buf[start]
	line       int64 // number of the line starting at off
	limit      int64 // yield only lines starting before this offset; -1: none
	first      int64 // number of the range's first line (1 unless a range says otherwise)
	firstOff   int64 // offset of the range's first line
	relative   bool  // line numbers count from the range's first line (Range.Relative)
	base       int64 // lines before firstOff, once counted for an error message; -1: not yet
	scanned    int64 // bytes read to count the lines before a range (StartLine 0)
	eof        bool
	err        error  // the source's read error, unwrapped (see fail)
	prefix     []byte // Raw of a too-long record
}

func newLineReader(src *source, format Format, opt Options) (Reader, error) {
	initial := minLineBuf
	if int64(initial) > opt.MaxRecord+1 {
		initial = int(opt.MaxRecord + 1)
	}
	if src.comp == CompressionNone {
		if fi, err := src.f.Stat(); err == nil && fi.Size() < int64(initial) {
			initial = int(fi.Size()) + 1 // small file: no big buffer
		}
	}
	var buf []byte
	if b := src.bufs; b != nil {
		// A lent buffer keeps its size up to the record limit: the buffer grows no further
		// than MaxRecord+1 bytes, which is how an over-long line is told.
		if n := min(int64(cap(b.line)), opt.MaxRecord+1); n >= int64(initial) {
			buf = b.line[:n]
		}
	}
	if buf == nil {
		buf = make([]byte, initial)
	}
	l := &lineReader{src: src, format: format, opt: opt, buf: buf, line: 1, first: 1, limit: -1, base: -1}
	if r := opt.Range; r != nil {
		if err := l.seekRange(r); err != nil {
			src.Close()
			return nil, err
		}
	}
	return l, nil
}

// seekRange positions the reader on the first line starting in the range.
func (l *lineReader) seekRange(r *Range) error {
	if r.Start < 0 || r.End >= 0 && r.End < r.Start {
		return fmt.Errorf("%s: invalid byte range [%d, %d)", l.src.path, r.Start, r.End)
	}
	l.limit = r.End
	l.src.raw.win = window(r.Start, r.End)
	if r.Start > 0 {
		// Start at the byte before Start and drop through the first
		// newline: if that byte is '\n', a line starts exactly at Start.
		if err := l.src.seek(r.Start - 1); err != nil {
			return fmt.Errorf("%s: %w", l.src.path, err)
		}
		l.off = r.Start - 1
		if _, _, err := l.discardLine(); err != nil {
			return err
		}
	}
	l.firstOff = l.off
	switch {
	case r.Relative:
		l.relative, l.line = true, 1
	case r.StartLine > 0:
		l.line = r.StartLine
	default:
		n, err := countNewlines(l.src.f, l.off)
		l.scanned += l.off
		if err != nil {
			return fmt.Errorf("%s: counting lines: %w", l.src.path, err)
		}
		l.line = n + 1
	}
	l.first = l.line
	return nil
}

// LineCounter is implemented by the readers of line-oriented files (JSONL and plain lines,
// and OpenRows over JSONL).
type LineCounter interface {
	// Lines is the number of lines read so far, blank and over-long ones included: after
	// io.EOF on a Range, the number of lines that start in it. A job sums them over the
	// ranges before a Relative one to turn its line numbers absolute.
	Lines() int64
}

// Lines implements LineCounter.
func (l *lineReader) Lines() int64 { return l.line - l.first }

// absLine is the file line number of the reader's line n, for error messages: with
// Range.Relative the lines before the range are counted here, once, on failure only.
func (l *lineReader) absLine(n int64) int64 {
	if !l.relative {
		return n
	}
	if l.base < 0 {
		c, err := countNewlines(l.src.f, l.firstOff)
		if err != nil {
			return n // the relative number is the best left
		}
		l.base = c
	}
	return l.base + n
}

// countNewlines counts '\n' bytes in [0, n) of f with large positioned reads.
func countNewlines(f io.ReaderAt, n int64) (int64, error) {
	var count int64
	if _, err := eachChunk(f, 0, n, func(b []byte) { count += int64(bytes.Count(b, []byte{'\n'})) }); err != nil {
		return 0, err
	}
	return count, nil
}

// eachChunk calls fn with the bytes [lo, hi) of f, in order, a megabyte at a time. If the file
// ends or a read fails before hi, it returns the offset reached and the error (io.EOF for an
// end).
func eachChunk(f io.ReaderAt, lo, hi int64, fn func([]byte)) (int64, error) {
	buf := make([]byte, min(max(hi-lo, 0), 1<<20))
	off := lo
	for off < hi {
		m, err := f.ReadAt(buf[:min(int64(len(buf)), hi-off)], off)
		fn(buf[:m])
		off += int64(m)
		if err != nil && off < hi {
			return off, err
		}
	}
	return off, nil
}

// fill reads more input, compacting and (up to MaxRecord+1) growing the
// buffer; it sets eof or err.
func (l *lineReader) fill() {
	if l.start > 0 {
		copy(l.buf, l.buf[l.start:l.end])
		l.end -= l.start
		l.start = 0
	}
	if l.end == len(l.buf) {
		size := 2 * len(l.buf)
		if limit := l.opt.MaxRecord + 1; int64(size) > limit {
			size = int(limit)
		}
		if size <= len(l.buf) {
			return // full: the caller handles an over-long line
		}
		nb := make([]byte, size)
		copy(nb, l.buf[:l.end])
		l.buf = nb
	}
	for tries := 0; tries < 100; tries++ {
		n, err := l.src.Read(l.buf[l.end:])
		l.end += n
		if err == io.EOF {
			l.eof = true
			return
		}
		if err != nil {
			l.err = err
			return
		}
		if n > 0 {
			return
		}
	}
	l.err = io.ErrNoProgress
}

// fail returns the read error that fill met, with the position where the lines stop: the
// line that could not be completed and the stream bytes read. It is called when the lines
// read before the error are used up, so that the line is the one the error cut, not the
// first line of the buffer fill was refilling.
func (l *lineReader) fail() error {
	return l.src.readErr(fmt.Sprintf("line %d, byte %d", l.absLine(l.line), l.off+int64(l.end-l.start)), l.err)
}

// discardLine consumes bytes through the next '\n' (or EOF) in bounded
// memory, keeping the first PrefixLen bytes in l.prefix; it returns the
// line's length without the newline and whether a newline ended it.
func (l *lineReader) discardLine() (n int64, nl bool, err error) {
	l.prefix = l.prefix[:0]
	for {
		chunk := l.buf[l.start:l.end]
		i := bytes.IndexByte(chunk, '\n')
		if i >= 0 {
			chunk = chunk[:i]
		}
		if room := l.opt.PrefixLen - len(l.prefix); room > 0 {
			l.prefix = append(l.prefix, chunk[:min(room, len(chunk))]...)
		}
		n += int64(len(chunk))
		if i >= 0 {
			l.start += i + 1
			l.off += n + 1
			l.line++
			return n, true, nil
		}
		l.start = l.end
		if l.eof {
			l.off += n
			return n, false, nil
		}
		if l.err != nil {
			l.off += n
			return n, false, l.fail()
		}
		l.fill()
	}
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func (l *lineReader) Next() (Record, error) {
	for {
		if l.limit >= 0 && l.off >= l.limit {
			return Record{}, io.EOF
		}
		i := bytes.IndexByte(l.buf[l.start:l.end], '\n')
		if i < 0 {
			if l.err != nil {
				return Record{}, l.fail()
			}
			switch {
			case int64(l.end-l.start) > l.opt.MaxRecord:
				return l.tooLong()
			case !l.eof:
				l.fill()
				continue
			case l.start == l.end:
				return Record{}, io.EOF
			}
			i = l.end - l.start // last line without a newline
		}
		b := l.buf[l.start : l.start+i]
		off, line := l.off, l.line
		l.start += i
		l.off += int64(i)
		if l.start < l.end {
			l.start++ // the '\n'
			l.off++
		}
		l.line++
		if off == 0 {
			b = bytes.TrimPrefix(b, bom)
		}
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		if isBlank(b) {
			continue
		}
		return l.record(b, off, line), nil
	}
}

func (l *lineReader) record(b []byte, off, line int64) Record {
	rec := Record{Source: l.src.path, Line: line, Row: -1, Offset: off, Raw: b, Size: int64(len(b))}
	if l.format == FormatLines {
		rec.Value, rec.Kind, rec.Field = b, jsonscan.FieldOK, l.opt.Field
	} else {
		rec.rawJSON = true
	}
	return rec
}

// tooLong reports the over-long line at l.start and skips it.
func (l *lineReader) tooLong() (Record, error) {
	off, line := l.off, l.line
	n, nl, err := l.discardLine()
	if err != nil {
		return Record{}, err
	}
	if !nl {
		l.line++ // the last line, without a newline: counted as Next counts it
	}
	rec := Record{Source: l.src.path, Line: line, Row: -1, Offset: off, Raw: l.prefix, TooLong: true, Size: n}
	rec.rawJSON = l.format != FormatLines
	return rec, nil
}

func (l *lineReader) Close() error {
	l.src.bufs.keepLine(l.buf)
	return l.src.Close()
}

// keepLineBuffer bounds the line buffer that Buffers keeps for the next reader.
const keepLineBuffer = 16 << 20

// InputBytes implements InputCounter.
func (l *lineReader) InputBytes() int64 { return l.src.raw.n }

// FirstLine returns the file line number of path's first line starting at or after off: the
// line a Relative range starting at off numbers 1. It reads the whole prefix, so it is for
// error messages, not for every range.
func FirstLine(path string, off int64) (int64, error) {
	r, err := OpenStream(path, Options{Format: FormatLines, Range: &Range{Start: off, End: off}})
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return r.(*lineReader).first, nil
}
