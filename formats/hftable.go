package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// HFTableWriter streams records of any schema (string columns, token lists, lists of
// message structs, ...) into a Hugging Face save_to_disk directory, the general counterpart
// of HFWriter, which writes one token column. Its files follow SPEC.md as HFWriter's do:
// Arrow IPC streams of HFOptions.BatchRows-row batches, the features in the schema metadata
// and dataset_info.json, state.json with all seven keys. HFOptions.Column and DType are
// unused (the schema says both). Like HFWriter it builds the directory under a temporary
// sibling and publishes it on Close.
type HFTableWriter struct {
	hfDirWriter
	features string
	rb       *array.RecordBuilder
}

// CreateHFTable starts writing dir with the given schema (e.g. from a SchemaBuilder).
func CreateHFTable(dir string, schema *arrow.Schema, opt HFOptions) (*HFTableWriter, error) {
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = 500 << 20
	}
	if opt.BatchRows <= 0 {
		opt.BatchRows = 1000
	}
	features, err := hfFeatures(schema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	md := arrow.NewMetadata([]string{"huggingface"}, []string{hfSchemaMetadata(features)})
	schema = arrow.NewSchema(schema.Fields(), &md)
	d, err := newHFDirWriter("CreateHFTable", dir, opt, schema)
	if err != nil {
		return nil, err
	}
	return &HFTableWriter{hfDirWriter: d, features: features,
		rb: array.NewRecordBuilder(d.alloc, schema)}, nil
}

// Rows returns the number of rows written.
func (w *HFTableWriter) Rows() int64 { return w.rows }

// WriteRecord appends one record; columns missing from m are null, keys not in the schema
// are an error (they would be lost silently otherwise).
func (w *HFTableWriter) WriteRecord(m map[string]any) error {
	if w.err != nil {
		return w.err
	}
	if err := appendRecord(w.rb, w.schema, m); err != nil {
		return w.fail(fmt.Errorf("row %d: %w", w.rows, err))
	}
	w.rows++
	w.inBatch++
	if w.inBatch == w.opt.BatchRows {
		return w.flushBatch()
	}
	return nil
}

// appendRecord appends m as one row of rb.
func appendRecord(rb *array.RecordBuilder, schema *arrow.Schema, m map[string]any) error {
	for k := range m {
		if len(schema.FieldIndices(k)) == 0 {
			return fmt.Errorf("column %q is not in the schema", k)
		}
	}
	for i, f := range schema.Fields() {
		if err := appendValue(rb.Field(i), m[f.Name]); err != nil {
			return fmt.Errorf("column %q: %w", f.Name, err)
		}
	}
	return nil
}

func (w *HFTableWriter) flushBatch() error {
	return w.writeBatch(w.rb.NewRecordBatch)
}

// Close writes the last batch (an empty dataset still gets one data file with the schema),
// the metadata files, and publishes the directory.
func (w *HFTableWriter) Close() error {
	if w.rb == nil {
		return errors.New("formats: HFTableWriter closed twice")
	}
	defer func() { w.rb.Release(); w.rb = nil }()
	if err := w.closeAll(w.flushBatch, w.features); err != nil {
		w.Abort()
		return err
	}
	return nil
}

// Abort discards everything written.
func (w *HFTableWriter) Abort() { w.abort() }

// marshalNoHTML is Python's json.dumps of a string (ensure_ascii): no HTML escaping, every
// non-ASCII character as \uXXXX (surrogate pairs above the BMP).
func marshalNoHTML(s string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r < utf8.RuneSelf:
			out = append(out, b[0])
		case r > 0xFFFF:
			r -= 0x10000
			out = fmt.Appendf(out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		b = b[n:]
	}
	return out, nil
}
