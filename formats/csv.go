package formats

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

// csvReader yields the data rows of a CSV file with a header row. Value is the selected
// column; JSON is the row as a JSON object of strings (header order; missing trailing cells
// omitted), made only when asked for (a reject): escaping every row's text as JSON, which
// most rows never need, was a fifth of reading a CSV corpus.
//
// encoding/csv holds a whole row in memory, so rows are not read with it straight from the
// file: the reader first finds the row's end on the raw byte stream (a '\n' outside double
// quotes; a quote toggles, so "" inside a quoted field cancels out) keeping at most MaxRecord
// bytes, and only a row within the limit is handed to encoding/csv. An over-long row is
// skipped in bounded memory and returned TooLong, Raw a prefix of its CSV bytes.
type csvReader struct {
	src    *source
	c      chunkReader
	opt    Options
	header []string
	col    int
	row    int64
	line   int64 // line number of the next unread byte
	text   []byte
	feed   bytes.Reader // the row being parsed, read by r
	r      *csv.Reader
	cells  []string // the last row's cells
	raw    []byte
	err    error // the error that broke the file; Next returns it again
}

// csvRow is one row's bytes as found on the stream.
type csvRow struct {
	line, offset, size int64 // size excludes the line ending
	tooLong            bool
}

func newCSVReader(src *source, opt Options) (Reader, error) {
	c := newCSVScanner(src, opt)
	header, err := c.readHeader()
	if err != nil {
		src.Close()
		return nil, err
	}
	c.header = header
	for i, h := range c.header {
		if h == opt.Field {
			c.col = i
			break
		}
	}
	if c.col < 0 {
		src.Close()
		return nil, fmt.Errorf("%s: no column %q in the CSV header %q", src.path, opt.Field, c.header)
	}
	return c, nil
}

// newCSVScanner returns a csvReader positioned before the header row, without a header.
func newCSVScanner(src *source, opt Options) *csvReader {
	c := &csvReader{src: src, c: newChunkReader(src, skipBOM(src)), opt: opt, line: 1, col: -1}
	c.r = csv.NewReader(&c.feed)
	c.r.FieldsPerRecord = -1
	c.r.ReuseRecord = true
	return c
}

// readHeader reads the header row (nil for an empty file); a header longer than MaxRecord is
// an error, not a reject.
func (c *csvReader) readHeader() ([]string, error) {
	header, at, err := c.next()
	switch {
	case err == io.EOF:
		return nil, nil
	case err != nil:
		return nil, err
	case at.tooLong:
		return nil, fmt.Errorf("%s: line %d: header row of %d bytes exceeds the record limit of %d bytes", c.src.path, at.line, at.size, c.opt.MaxRecord)
	}
	return append([]string(nil), header...), nil
}

// next finds the next non-blank row and parses it, unless it is too long (cells nil).
func (c *csvReader) next() ([]string, csvRow, error) {
	for {
		at, err := c.scanRow()
		if err != nil {
			return nil, at, err
		}
		if at.tooLong {
			return nil, at, nil
		}
		if at.size == 0 || at.size == 1 && c.text[0] == '\r' {
			continue // a blank line, as encoding/csv skips it
		}
		c.text = append(c.text[:at.size], '\n')
		c.feed.Reset(c.text)
		cells, err := c.r.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, at, fmt.Errorf("%s: line %d, column %d: %w", c.src.path, at.line, pe.Column, pe.Err)
			}
			return nil, at, fmt.Errorf("%s: line %d: %w", c.src.path, at.line, err)
		}
		return cells, at, nil
	}
}

// scanRow reads up to the end of the next row (its '\n' consumed), keeping at most MaxRecord
// bytes of it in c.text. io.EOF at the end of the file.
func (c *csvReader) scanRow() (csvRow, error) {
	at := csvRow{line: c.line, offset: c.c.offset()}
	c.text = c.text[:0]
	var scanned int64
	quoted, started := false, false
	for c.c.fill() {
		started = true
		buf := c.c.buf[c.c.i:c.c.n]
		end := -1
		for k, b := range buf {
			if b == '"' {
				quoted = !quoted
			} else if b == '\n' && !quoted {
				end = k
				break
			}
		}
		n := len(buf)
		if end >= 0 {
			n = end
		}
		c.text = appendBounded(c.text, buf[:n], c.opt.MaxRecord+1) // +1: room for a '\r'
		c.line += int64(bytes.Count(buf[:n], []byte{'\n'}))
		scanned += int64(n)
		c.c.i += n
		if end >= 0 {
			c.c.i++ // the '\n'
			c.line++
			break
		}
	}
	if c.c.err != nil && c.c.err != io.EOF {
		return at, c.src.readErr("line "+itoa(c.line), c.c.err)
	}
	if !started {
		return at, io.EOF
	}
	if quoted && scanned > c.opt.MaxRecord {
		// encoding/csv reports a quote left open on a row it parses; this one is too long
		// to parse.
		return at, fmt.Errorf("%s: line %d: a quoted field is not closed before the end of the file", c.src.path, at.line)
	}
	at.size = scanned
	if at.size > 0 && int64(len(c.text)) >= at.size && c.text[at.size-1] == '\r' {
		at.size-- // a CRLF ending
	}
	at.tooLong = at.size > c.opt.MaxRecord
	return at, nil
}

func (c *csvReader) Next() (Record, error) {
	if c.err != nil {
		return Record{}, c.err
	}
	cells, at, err := c.next()
	if err != nil {
		// A row encoding/csv cannot parse (a stray quote) breaks the file, as the Reader
		// contract says: the scanner past it would resume at a row boundary that the quotes
		// made unreliable, and what it read would pass for the file's next records.
		if err != io.EOF {
			c.err = err
		}
		return Record{}, err
	}
	rec := Record{Source: c.src.path, Line: at.line, Row: c.row, Offset: at.offset, Field: c.opt.Field, Size: at.size}
	c.row++
	if at.tooLong {
		rec.TooLong, rec.Raw = true, c.text[:c.opt.PrefixLen]
		return rec, nil
	}
	c.cells, rec.csv = cells, c
	if c.col >= len(cells) {
		rec.Kind = jsonscan.FieldMissing
	} else {
		// The cell's own bytes (encoding/csv made the string for this row), not a copy:
		// Values are read, never written.
		v := cells[c.col]
		rec.Value, rec.Kind = unsafe.Slice(unsafe.StringData(v), len(v)), jsonscan.FieldOK
	}
	return rec, nil
}

// rowJSON returns the last row as a JSON object of strings, in a buffer reused by the next
// call.
func (c *csvReader) rowJSON() []byte {
	c.raw = append(c.raw[:0], '{')
	for i, cell := range c.cells {
		if i >= len(c.header) {
			break
		}
		if i > 0 {
			c.raw = append(c.raw, ',')
		}
		c.raw = strconv.AppendQuote(c.raw, c.header[i])
		c.raw = append(c.raw, ':')
		c.raw = appendJSONString(c.raw, unsafe.Slice(unsafe.StringData(cell), len(cell)))
	}
	return append(c.raw, '}')
}

func (c *csvReader) Close() error { return c.src.Close() }

// InputBytes implements InputCounter.
func (c *csvReader) InputBytes() int64 { return c.src.raw.n }

// appendJSONString appends s as a JSON string; invalid UTF-8 bytes become
// \ufffd (JSON text must be UTF-8).
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return append(dst, '"')
}
