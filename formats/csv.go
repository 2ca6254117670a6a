package formats

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// csvReader yields the data rows of a CSV file with a header row. Raw is the
// row as a JSON object of strings (header order; missing trailing cells
// omitted); Value is the selected column. encoding/csv holds a whole row in
// memory, so MaxRecord is checked after the row is read.
type csvReader struct {
	src    *source
	r      *csv.Reader
	opt    Options
	header []string
	col    int
	row    int64
	raw    []byte
}

func newCSVReader(src *source, opt Options) (Reader, error) {
	if head, _ := src.peek(3); len(head) >= 3 && string(head[:3]) == string(bom) {
		src.peeked = src.peeked[3:]
	}
	r := csv.NewReader(src)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		header, err = nil, nil
	}
	if err != nil {
		src.Close()
		return nil, csvErr(src, err)
	}
	c := &csvReader{src: src, r: r, opt: opt, header: append([]string(nil), header...), col: -1}
	for i, h := range c.header {
		if h == opt.Field {
			c.col = i
			break
		}
	}
	if c.col < 0 {
		src.Close()
		return nil, fmt.Errorf("formats: %s: no column %q in the CSV header %q", src.path, opt.Field, c.header)
	}
	return c, nil
}

func csvErr(src *source, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("formats: %s: line %d, column %d: %w", src.path, pe.StartLine, pe.Column, pe.Err)
	}
	return src.readErr("CSV", err)
}

func (c *csvReader) Next() (Record, error) {
	cells, err := c.r.Read()
	if err == io.EOF {
		return Record{}, io.EOF
	}
	if err != nil {
		return Record{}, csvErr(c.src, err)
	}
	line, _ := c.r.FieldPos(0)
	rec := Record{Source: c.src.path, Line: int64(line), Row: c.row, Offset: c.r.InputOffset(), Field: c.opt.Field, rawJSON: true}
	c.row++
	c.raw = append(c.raw[:0], '{')
	size := 0
	for i, cell := range cells {
		size += len(cell)
		if i >= len(c.header) {
			break
		}
		if i > 0 {
			c.raw = append(c.raw, ',')
		}
		c.raw = strconv.AppendQuote(c.raw, c.header[i])
		c.raw = append(c.raw, ':')
		c.raw = appendJSONString(c.raw, []byte(cell))
	}
	c.raw = append(c.raw, '}')
	rec.Raw, rec.Size = c.raw, int64(size)
	switch {
	case rec.Size > c.opt.MaxRecord:
		rec.TooLong, rec.Raw = true, c.raw[:c.opt.PrefixLen]
	case c.col >= len(cells):
		rec.Kind = FieldMissing
	default:
		rec.Value, rec.Kind = []byte(cells[c.col]), FieldOK
	}
	return rec, nil
}

func (c *csvReader) Close() error { return c.src.Close() }

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
