package formats

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// jsonArrayReader streams the elements of a top-level JSON array. It does not decode: it
// finds each element's end on the raw byte stream (a ',' or ']' outside strings and nested
// brackets) and keeps at most MaxRecord bytes of it, so an over-long element is measured and
// skipped in bounded memory and returned TooLong with a prefix. The array's own syntax (the
// '[', the commas, the ']', nothing after it) is checked here and breaks the file; an
// element's content is not: a malformed element is a record like any other, which the
// caller rejects (as a malformed JSONL line is), and the next element is still read.
type jsonArrayReader struct {
	src   *source
	c     chunkReader
	opt   Options
	row   int64
	state uint8
	raw   []byte
}

// States of a jsonArrayReader.
const (
	arrayStart = iota // before the '['
	arrayNext         // after the '[' or an element
	arrayDone         // after the ']' or an error
)

func newJSONArrayReader(src *source, opt Options) (Reader, error) {
	return &jsonArrayReader{src: src, c: newChunkReader(src, skipBOM(src)), opt: opt}, nil
}

// fail ends the stream with an error at the current element and byte.
func (j *jsonArrayReader) fail(msg string) error {
	j.state = arrayDone
	where := "element " + itoa(j.row) + ", byte " + itoa(j.c.offset())
	if j.c.err != nil && !errors.Is(j.c.err, io.EOF) {
		return j.src.readErr(where, j.c.err)
	}
	return fmt.Errorf("%s: %s: invalid JSON array: %s", j.src.path, where, msg)
}

func (j *jsonArrayReader) Next() (Record, error) {
	b, ok := j.c.skipSpace()
	switch j.state {
	case arrayDone:
		return Record{}, io.EOF
	case arrayStart:
		if !ok || b != '[' {
			j.state = arrayDone
			if !ok && j.c.err != io.EOF {
				return Record{}, j.fail("")
			}
			return Record{}, fmt.Errorf("%s: not a JSON array (does not start with '[')", j.src.path)
		}
		j.c.i++
		j.state = arrayNext
		if b, ok = j.c.skipSpace(); ok && b == ']' {
			return j.end()
		}
	case arrayNext:
		if ok && b == ']' {
			return j.end()
		}
		if !ok {
			return Record{}, j.fail("unexpected end of input")
		}
		if j.row > 0 {
			if b != ',' {
				return Record{}, j.fail(fmt.Sprintf("want ',' or ']' after an element, have %q", b))
			}
			j.c.i++
			b, ok = j.c.skipSpace()
		}
	}
	if !ok {
		return Record{}, j.fail("unexpected end of input")
	}
	if b == ',' || b == ']' {
		return Record{}, j.fail(fmt.Sprintf("missing element before %q", b))
	}
	return j.element()
}

// element scans one element from its first byte to the ',' or ']' that ends it (left
// unconsumed), keeping at most MaxRecord bytes.
func (j *jsonArrayReader) element() (Record, error) {
	rec := Record{Source: j.src.path, Row: j.row, Offset: j.c.offset(), rawJSON: true}
	j.raw = j.raw[:0]
	var size, space int64 // bytes scanned; white space at their end
	depth, inString, escaped := 0, false, false
	for j.c.fill() {
		buf := j.c.buf[j.c.i:j.c.n]
		end := -1
	scan:
		for k, b := range buf {
			if inString {
				switch {
				case escaped:
					escaped = false
				case b == '\\':
					escaped = true
				case b == '"':
					inString = false
				}
				continue
			}
			switch b {
			case ' ', '\t', '\r', '\n':
				space++
				continue
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					if b == '}' {
						j.c.i += k
						return Record{}, j.fail("unbalanced '}'")
					}
					end = k
					break scan
				}
				depth--
			case ',':
				if depth == 0 {
					end = k
					break scan
				}
			}
			space = 0
		}
		n := len(buf)
		if end >= 0 {
			n = end
		}
		j.raw = appendBounded(j.raw, buf[:n], j.opt.MaxRecord)
		size += int64(n)
		j.c.i += n
		if end < 0 {
			continue
		}
		rec.Size = size - space
		rec.Raw = j.raw[:min(rec.Size, int64(len(j.raw)))]
		if rec.Size > j.opt.MaxRecord {
			rec.TooLong, rec.Raw = true, j.raw[:j.opt.PrefixLen]
		}
		j.row++
		return rec, nil
	}
	return Record{}, j.fail("unexpected end of input")
}

// end consumes the closing ']' and checks that only white space follows.
func (j *jsonArrayReader) end() (Record, error) {
	j.c.i++
	if _, ok := j.c.skipSpace(); ok {
		return Record{}, j.fail("data after the JSON array")
	}
	if j.c.err != io.EOF {
		return Record{}, j.fail("")
	}
	j.state = arrayDone
	return Record{}, io.EOF
}

func (j *jsonArrayReader) Close() error { return j.src.Close() }

// InputBytes implements InputCounter.
func (j *jsonArrayReader) InputBytes() int64 { return j.src.raw.n }
