package parquet

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/table"
)

// parquetRowGroup is the number of rows per Parquet row group (one Write call each).
const parquetRowGroup = 10000

// Writer writes a Parquet file through pqarrow, with the datasets features in the
// schema metadata (key "huggingface"), as datasets' to_parquet writes them, so that
// load_dataset("parquet") rebuilds the same features. Snappy compression, as pandas and
// datasets default to. The file appears at its path on Close.
type Writer struct {
	path, tmp string
	f         *os.File
	fw        *pqarrow.FileWriter
	rb        *array.RecordBuilder
	schema    *arrow.Schema
	pending   int
	rows      int64
	err       error
}

// Create starts writing path with the given schema.
func Create(path string, schema *arrow.Schema) (*Writer, error) {
	features, err := hf.Features(schema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	md := arrow.NewMetadata([]string{"huggingface"}, []string{hf.SchemaMetadata(features)})
	schema = arrow.NewSchema(schema.Fields(), &md)
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	props := pq.NewWriterProperties(pq.WithCompression(compress.Codecs.Snappy))
	fw, err := pqarrow.NewFileWriter(schema, f, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		f.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Writer{path: path, tmp: tmp, f: f, fw: fw, schema: schema,
		rb: array.NewRecordBuilder(new(table.Allocator), schema)}, nil
}

// Rows returns the number of rows written.
func (w *Writer) Rows() int64 { return w.rows }

// WriteRecord appends one record.
func (w *Writer) WriteRecord(m map[string]any) error {
	if w.err != nil {
		return w.err
	}
	if err := table.AppendRecord(w.rb, w.schema, m); err != nil {
		w.err = fmt.Errorf("writing %s: row %d: %w", w.path, w.rows, err)
		return w.err
	}
	w.rows++
	w.pending++
	if w.pending == parquetRowGroup {
		return w.flush()
	}
	return nil
}

func (w *Writer) flush() error {
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	w.pending = 0
	if err := w.fw.Write(rec); err != nil && w.err == nil {
		w.err = fmt.Errorf("writing %s: %w", w.path, err)
	}
	return w.err
}

// Close writes the last row group and the footer, then renames the file into place.
func (w *Writer) Close() error {
	if w.err == nil && (w.pending > 0 || w.rows == 0) {
		w.flush()
	}
	w.rb.Release()
	if err := w.fw.Close(); err != nil && w.err == nil { // closes f too
		w.err = fmt.Errorf("writing %s: %w", w.path, err)
	}
	if w.err == nil {
		if err := os.Rename(w.tmp, w.path); err != nil {
			w.err = err
		}
	}
	if w.err != nil {
		os.Remove(w.tmp)
	}
	return w.err
}

// Abort discards the output.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.tmp)
}

var _ table.Writer = (*Writer)(nil)
