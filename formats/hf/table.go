package hf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/tokenmill/tokenmill/formats/table"
)

// TableWriter streams records of any schema (string columns, token lists, lists of
// message structs, ...) into a Hugging Face save_to_disk directory, the general counterpart
// of Writer, which writes one token column. Its files follow SPEC.md as Writer's do:
// Arrow IPC streams of Options.BatchRows-row batches, the features in the schema metadata
// and dataset_info.json, state.json with all seven keys. Options.Column and DType are
// unused (the schema says both). Like Writer it builds the directory under a temporary
// sibling and publishes it on Close.
type TableWriter struct {
	hfDirWriter
	features string
	rb       *array.RecordBuilder
}

// CreateTable starts writing dir with the given schema (e.g. from a SchemaBuilder).
func CreateTable(dir string, schema *arrow.Schema, opt Options) (*TableWriter, error) {
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = 500 << 20
	}
	if opt.BatchRows <= 0 {
		opt.BatchRows = 1000
	}
	features, err := Features(schema)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	md := arrow.NewMetadata([]string{"huggingface"}, []string{SchemaMetadata(features)})
	schema = arrow.NewSchema(schema.Fields(), &md)
	d, err := newHFDirWriter("CreateTable", dir, opt, schema)
	if err != nil {
		return nil, err
	}
	return &TableWriter{hfDirWriter: d, features: features,
		rb: array.NewRecordBuilder(d.alloc, schema)}, nil
}

// Rows returns the number of rows written.
func (w *TableWriter) Rows() int64 { return w.rows }

// WriteRecord appends one record; columns missing from m are null, keys not in the schema
// are an error (they would be lost silently otherwise).
func (w *TableWriter) WriteRecord(m map[string]any) error {
	if w.err != nil {
		return w.err
	}
	if err := table.AppendRecord(w.rb, w.schema, m); err != nil {
		return w.fail(fmt.Errorf("row %d: %w", w.rows, err))
	}
	w.rows++
	w.inBatch++
	if w.inBatch == w.opt.BatchRows {
		return w.flushBatch()
	}
	return nil
}

func (w *TableWriter) flushBatch() error {
	return w.writeBatch(w.rb.NewRecordBatch)
}

// Close writes the last batch (an empty dataset still gets one data file with the schema),
// the metadata files, and publishes the directory.
func (w *TableWriter) Close() error {
	if w.rb == nil {
		return errors.New("hf: TableWriter closed twice")
	}
	defer func() { w.rb.Release(); w.rb = nil }()
	if err := w.closeAll(w.flushBatch, w.features); err != nil {
		w.Abort()
		return err
	}
	return nil
}

// Abort discards everything written.
func (w *TableWriter) Abort() { w.abort() }

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

var _ table.Writer = (*TableWriter)(nil)
