package table

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
)

// Writer writes generic records (map[string]any, see Value and DecodeJSON) of a
// known schema to one output: an HF directory (HFTableWriter), a Parquet file or a JSONL file.
type Writer interface {
	WriteRecord(m map[string]any) error
	Rows() int64
	Close() error
	Abort()
}

// JSONLWriter writes one JSON object per line: keys in schema order (nested objects too),
// absent keys left out rather than written as null, so JSONL -> JSONL keeps records as they
// were; json.Number values verbatim; no HTML escaping. The file appears on Close.
type JSONLWriter struct {
	path, tmp string
	f         *os.File
	bw        *bufio.Writer
	schema    *arrow.Schema
	buf       bytes.Buffer
	rows      int64
	err       error
}

// CreateJSONL starts writing path.
func CreateJSONL(path string, schema *arrow.Schema) (*JSONLWriter, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	return &JSONLWriter{path: path, tmp: tmp, f: f, bw: bufio.NewWriterSize(f, 1<<20), schema: schema}, nil
}

// Rows returns the number of rows written.
func (w *JSONLWriter) Rows() int64 { return w.rows }

// WriteRecord appends one record as a line.
func (w *JSONLWriter) WriteRecord(m map[string]any) error {
	if w.err != nil {
		return w.err
	}
	w.buf.Reset()
	fields := w.schema.Fields()
	if err := writeJSONObject(&w.buf, m, fields); err != nil {
		w.err = fmt.Errorf("writing %s: row %d: %w", w.path, w.rows, err)
		return w.err
	}
	w.buf.WriteByte('\n')
	if _, err := w.bw.Write(w.buf.Bytes()); err != nil {
		w.err = err
	}
	w.rows++
	return w.err
}

func writeJSONObject(b *bytes.Buffer, m map[string]any, fields []arrow.Field) error {
	b.WriteByte('{')
	n := 0
	for _, f := range fields {
		v, ok := m[f.Name]
		if !ok {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		writeJSONValue(b, f.Name, nil)
		b.WriteByte(':')
		if err := writeJSONValue(b, v, f.Type); err != nil {
			return err
		}
	}
	if n != len(m) {
		return fmt.Errorf("record has keys outside the schema")
	}
	b.WriteByte('}')
	return nil
}

func writeJSONValue(b *bytes.Buffer, v any, t arrow.DataType) error {
	switch x := v.(type) {
	case map[string]any:
		st, ok := t.(*arrow.StructType)
		if !ok {
			return fmt.Errorf("object where the schema has %v", t)
		}
		return writeJSONObject(b, x, st.Fields())
	case []any:
		lt, ok := t.(*arrow.ListType)
		if !ok {
			return fmt.Errorf("list where the schema has %v", t)
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSONValue(b, e, lt.Elem()); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	}
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// Close flushes and renames the file into place.
func (w *JSONLWriter) Close() error {
	if w.err == nil {
		w.err = w.bw.Flush()
	}
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	if w.err == nil {
		w.err = os.Rename(w.tmp, w.path)
	}
	if w.err != nil {
		os.Remove(w.tmp)
	}
	return w.err
}

// Abort discards the output.
func (w *JSONLWriter) Abort() {
	w.f.Close()
	os.Remove(w.tmp)
}

var (
	_ Writer    = (*JSONLWriter)(nil)
	_ io.Closer = (*JSONLWriter)(nil)
)
