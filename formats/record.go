package formats

import (
	"fmt"
	"strconv"

	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

// Record is one input record and where it came from. Its byte slices are
// only valid until the next call to Next on the Reader that returned it;
// copy what must outlive that.
type Record struct {
	// Source is the path of the file (for an HF directory, the .arrow file).
	Source string
	// Line is the 1-based line number of the record's first line for JSONL,
	// line-per-document text and CSV; 0 for other formats.
	Line int64
	// Row is the 0-based index of the record within its file (CSV data rows,
	// JSON array elements, Parquet rows, rows of one HF .arrow file); -1 for
	// JSONL and text, where Line locates the record.
	Row int64
	// Offset is the byte offset of the record's start in the (decompressed)
	// file for JSONL, text and JSON arrays; -1 where not known.
	Offset int64
	// Raw is the record itself: the JSON line or array element, the text
	// document. Nil for CSV, Parquet and HF rows (see JSON). For a TooLong
	// record, a prefix.
	Raw []byte
	// Value is the selected field's value for formats that select it while
	// reading (Parquet, CSV, HF, text); Kind says whether it was found.
	// For JSON formats Kind is FieldUnset and the caller extracts from Raw.
	Value []byte
	Kind  jsonscan.FieldKind
	// Field is the name of the selected column (Options.Field) for formats
	// that set Value.
	Field string
	// TooLong is set when the record exceeded Options.MaxRecord; it was
	// skipped in bounded memory and Raw holds only its first bytes.
	TooLong bool
	// Size is the record's full length in bytes (also when TooLong).
	Size int64

	rawJSON bool       // Raw is a JSON document
	csv     *csvReader // the reader of a CSV row, which makes its JSON on demand
}

// Extract returns the text of field: Value when the reader selected it,
// else ExtractString on Raw. A TooLong record has no text: it returns
// FieldMalformed with an error.
func (r *Record) Extract(field string) (string, jsonscan.FieldKind, error) {
	if r.TooLong {
		return "", jsonscan.FieldMalformed, fmt.Errorf("%s: record of %d bytes is too long", r.Where(), r.Size)
	}
	if r.Kind == jsonscan.FieldUnset {
		return jsonscan.ExtractString(r.Raw, field)
	}
	if r.Kind != jsonscan.FieldOK {
		return "", r.Kind, nil
	}
	return string(r.Value), jsonscan.FieldOK, nil
}

// JSON returns the record as a JSON document for a rejects file: Raw when
// it is JSON (JSON formats), a CSV row as an object of strings (header
// order), else an object holding the selected field's value (null when
// absent). Like the record, valid until the next call to Next.
func (r *Record) JSON() []byte {
	if r.rawJSON {
		return r.Raw
	}
	if r.csv != nil && !r.TooLong {
		return r.csv.rowJSON()
	}
	b := appendJSONString([]byte{'{'}, []byte(r.Field))
	b = append(b, ':')
	if r.Kind != jsonscan.FieldOK {
		return append(b, "null}"...)
	}
	return append(appendJSONString(b, r.Value), '}')
}

// Where describes the record's position for messages: "path:line" or
// "path row n".
func (r *Record) Where() string {
	if r.Line > 0 {
		return r.Source + ":" + strconv.FormatInt(r.Line, 10)
	}
	if r.Row >= 0 {
		return r.Source + " row " + strconv.FormatInt(r.Row, 10)
	}
	return r.Source
}

// Reader streams records. Next returns io.EOF after the last record; any
// other error names the file and the position where reading broke, and the
// Reader should then be closed.
type Reader interface {
	Next() (Record, error)
	Close() error
}
