package table

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
)

// BatchSource yields Arrow record batches and names the file each came from. Next returns
// io.EOF after the last batch.
type BatchSource interface {
	Next() (arrow.RecordBatch, string, error)
	Close() error
}

// arrowRows turns every column of each record batch into Rows.
type arrowRows struct {
	src    BatchSource
	rb     arrow.RecordBatch
	file   string
	i      int
	row    int64
	base   int64 // index in its file of the first row read (Parquet row-group runs)
	schema *arrow.Schema
	keys   []string
}

// NewRows returns the Rows of every batch of src: each row a map of its columns' values
// (see Value), with Row counting from base in each file (the index of the first row read,
// for a run of a Parquet file's row groups).
func NewRows(src BatchSource, base int64) formats.RowReader {
	return &arrowRows{src: src, base: base}
}

func (a *arrowRows) Schema() *arrow.Schema { return a.schema }
func (a *arrowRows) Close() error          { return a.src.Close() }

// source is the file of the batch being read, for RecoverAt.
func (a *arrowRows) source() string { return a.file }

func (a *arrowRows) Next() (row formats.Row, err error) {
	defer RecoverAt(&err, a.source, "row", a.row)
	for a.rb == nil || a.i >= int(a.rb.NumRows()) {
		rb, file, err := a.src.Next()
		if err != nil {
			return formats.Row{}, err
		}
		if file != a.file {
			a.file, a.row = file, a.base
		}
		if a.schema == nil || !a.schema.Equal(rb.Schema()) {
			a.schema = rb.Schema()
			a.keys = make([]string, a.schema.NumFields())
			for k, f := range a.schema.Fields() {
				a.keys[k] = f.Name
			}
		}
		a.rb, a.i = rb, 0
	}
	m := make(map[string]any, len(a.keys))
	for k, name := range a.keys {
		m[name] = Value(a.rb.Column(k), a.i)
	}
	row = formats.Row{Source: a.file, Row: a.row, Value: m, Keys: a.keys}
	a.i++
	a.row++
	return row, nil
}
