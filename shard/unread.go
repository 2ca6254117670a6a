package shard

import (
	"path/filepath"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/validate"
)

// trackedRows is a RowReader that counts its rows and remembers where the last one was found,
// so that a validate shard can say where its reading broke off (Env.KeepReadErrors).
type trackedRows struct {
	formats.RowReader
	n         int
	line, row int64
}

func (t *trackedRows) Next() (formats.Row, error) {
	row, err := t.RowReader.Next()
	if err == nil {
		t.n++
		t.line, t.row = row.Line, row.Row
	}
	return row, err
}

// readError is the ReadError of input path, read through t until err: reading stopped at the
// line after the last row of a line-oriented input, at the row after it of a tabular one.
// With no row read, a line-oriented input stopped at its first line, another at row 0.
func (t *trackedRows) readError(path string, err error) validate.ReadError {
	e := validate.ReadError{File: path, Records: t.n, Message: err.Error()}
	switch {
	case t.n > 0 && t.line > 0:
		e.Line = t.line + 1
	case t.n > 0:
		next := t.row + 1
		e.Row = &next
	case lineOriented(path):
		e.Line = 1
	default:
		e.Row = new(int64)
	}
	return e
}

// lineOriented reports whether path names a file whose records are lines (JSONL, CSV),
// compressed or not: where no record was read, the name is all there is to go by.
func lineOriented(path string) bool {
	f, _, known := formats.DetectName(filepath.Base(path))
	return known && (f == formats.FormatJSONL || f == formats.FormatCSV)
}
