package formats

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// jsonArrayReader streams the elements of a top-level JSON array. Each
// element is decoded whole by encoding/json, so MaxRecord is checked after
// the fact: an over-long element is flagged TooLong but was held in memory.
type jsonArrayReader struct {
	src     *source
	dec     *json.Decoder
	opt     Options
	row     int64
	started bool
	done    bool
	raw     json.RawMessage
}

func newJSONArrayReader(src *source, opt Options) (Reader, error) {
	// A BOM before '[' would be a syntax error for the decoder.
	if head, _ := src.peek(3); len(head) >= 3 && string(head[:3]) == string(bom) {
		src.peeked = src.peeked[3:]
	}
	return &jsonArrayReader{src: src, dec: json.NewDecoder(src), opt: opt}, nil
}

func (j *jsonArrayReader) fail(err error) error {
	j.done = true
	if _, ok := err.(*json.SyntaxError); ok || err == io.ErrUnexpectedEOF || err == io.EOF {
		return fmt.Errorf("formats: %s: element %d, byte %d: invalid JSON array: %w", j.src.path, j.row, j.dec.InputOffset(), err)
	}
	return j.src.readErr(fmt.Sprintf("element %d, byte %d", j.row, j.dec.InputOffset()), err)
}

func (j *jsonArrayReader) Next() (Record, error) {
	if j.done {
		return Record{}, io.EOF
	}
	if !j.started {
		j.started = true
		tok, err := j.dec.Token()
		if err != nil {
			return Record{}, j.fail(err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			j.done = true
			return Record{}, fmt.Errorf("formats: %s: not a JSON array (starts with %v)", j.src.path, tok)
		}
	}
	if !j.dec.More() {
		if _, err := j.dec.Token(); err != nil { // the closing ']'
			return Record{}, j.fail(err)
		}
		if _, err := j.dec.Token(); err != io.EOF {
			j.done = true
			return Record{}, fmt.Errorf("formats: %s: byte %d: data after the JSON array", j.src.path, j.dec.InputOffset())
		}
		j.done = true
		return Record{}, io.EOF
	}
	off := j.dec.InputOffset()
	j.raw = j.raw[:0]
	if err := j.dec.Decode(&j.raw); err != nil {
		return Record{}, j.fail(err)
	}
	rec := Record{Source: j.src.path, Row: j.row, Offset: off, Raw: j.raw, Size: int64(len(j.raw)), rawJSON: true}
	j.row++
	if rec.Size > j.opt.MaxRecord {
		rec.TooLong, rec.Raw = true, j.raw[:j.opt.PrefixLen]
	}
	return rec, nil
}

func (j *jsonArrayReader) Close() error { return j.src.Close() }
