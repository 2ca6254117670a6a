package formats

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// Row is one whole input record decoded into generic values, for the tools that look at
// every field (validation, conversion) rather than one text field (tokenization).
type Row struct {
	Source string // the file (for HF directories, the .arrow file)
	Line   int64  // 1-based line for JSONL and CSV; 0 otherwise
	Row    int64  // 0-based row for JSON arrays, CSV, Parquet and HF files; -1 for JSONL
	// Value is the record: a map[string]any for an object (numbers of JSON inputs as
	// json.Number, Arrow values as formats/table.Value gives them), any other JSON value for a
	// JSON record that is not an object, nil when Err is set.
	Value any
	// Keys are the top-level keys of an object record in input order (the schema's column
	// order for Arrow inputs), which a map loses; conversions keep this order.
	Keys []string
	// Order is the key order of the nested objects of a JSON record (see KeyOrder); nil for
	// Arrow inputs, whose schema orders struct fields.
	Order KeyOrder
	// Err is set when this one record cannot be decoded (malformed JSON, a too-long line);
	// reading can go on with the next record.
	Err error
}

// RowReader streams Rows. Next returns io.EOF at the end; any other error means the input
// cannot be read further.
type RowReader interface {
	Next() (Row, error)
	// Schema is the Arrow schema of the current Parquet or HF file, nil for other formats.
	Schema() *arrow.Schema
	Close() error
}

// OpenStreamRows opens path, a byte-stream file of format (JSONL, a JSON array or CSV), for
// reading whole records; opt.Range selects the lines of an uncompressed JSONL file that
// start in it. Package formats/input opens the rows of every format.
func OpenStreamRows(path string, format Format, opt Options) (RowReader, error) {
	opt = opt.WithDefaults()
	switch format {
	case FormatCSV:
		header, err := csvHeader(path)
		if err != nil {
			return nil, err
		}
		if len(header) == 0 {
			return emptyRows{}, nil
		}
		opt.Field = header[0]
	case FormatJSONL, FormatJSONArray:
	default:
		return nil, fmt.Errorf("%s: %v is not a record format (want JSONL, JSON array, CSV, Parquet or an HF directory)", path, format)
	}
	opt.Format = format
	r, err := OpenStream(path, opt)
	if err != nil {
		return nil, err
	}
	return &jsonRows{r: r}, nil
}

// OpenDecompressed opens path for reading its bytes, decompressing gzip and zstd (detected by
// name or magic bytes) as the readers do: for callers that parse the stream themselves.
func OpenDecompressed(path string) (io.ReadCloser, error) {
	return openSource(path)
}

// openSource opens path decompressed, detecting the compression as OpenStream does.
func openSource(path string) (*source, error) {
	f, head, err := openHead(path)
	if err != nil {
		return nil, err
	}
	return newSource(path, f, DetectBytes(head, path).Compression, nil)
}

// csvHeader reads the header row of a CSV file, so that its first column can be named as the
// CSV reader's selected field (any column will do: Row uses the whole record).
func csvHeader(path string) ([]string, error) {
	src, err := openSource(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return newCSVScanner(src, Options{}.WithDefaults()).readHeader()
}

type emptyRows struct{}

func (emptyRows) Next() (Row, error)    { return Row{}, io.EOF }
func (emptyRows) Schema() *arrow.Schema { return nil }
func (emptyRows) Close() error          { return nil }

// jsonRows decodes the Raw JSON of JSONL, JSON array and CSV records.
type jsonRows struct{ r Reader }

func (j *jsonRows) Schema() *arrow.Schema { return nil }
func (j *jsonRows) Close() error          { return j.r.Close() }

// Lines implements LineCounter when the records are lines (JSONL); it is 0 otherwise.
func (j *jsonRows) Lines() int64 {
	if lc, ok := j.r.(LineCounter); ok {
		return lc.Lines()
	}
	return 0
}

func (j *jsonRows) Next() (Row, error) {
	rec, err := j.r.Next()
	if err != nil {
		return Row{}, err
	}
	row := Row{Source: rec.Source, Line: rec.Line, Row: rec.Row}
	if rec.TooLong {
		row.Err = fmt.Errorf("record of %d bytes is longer than the limit", rec.Size)
		return row, nil
	}
	raw := rec.Raw
	if rec.csv != nil {
		raw = rec.JSON() // a CSV row as a JSON object of strings
	}
	row.Value, row.Order, row.Err = DecodeJSON(raw)
	if _, ok := row.Value.(map[string]any); ok {
		row.Keys = row.Order[""]
	}
	return row, nil
}

// rowCheckEvery is how many rows EachRow reads between checks of its context.
const rowCheckEvery = 256

// EachRow calls fn with every row of rr, in order, until the end of the input (nil), an error
// reading it or from fn (returned as is), or the cancellation of ctx, checked every
// rowCheckEvery rows: the record loop of validate and convert shards and of `tokenmill
// validate`.
func EachRow(ctx context.Context, rr RowReader, fn func(Row) error) error {
	for n := 0; ; n++ {
		if n%rowCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}
