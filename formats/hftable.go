package formats

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// HFTableWriter streams records of any schema (string columns, token lists, lists of
// message structs, ...) into a Hugging Face save_to_disk directory, the general counterpart
// of HFWriter, which writes one token column. Its files follow SPEC.md as HFWriter's do:
// Arrow IPC streams of HFOptions.BatchRows-row batches, the features in the schema metadata
// and dataset_info.json, state.json with all seven keys. HFOptions.Column and DType are
// unused (the schema says both). Like HFWriter it builds the directory under a temporary
// sibling and publishes it on Close.
type HFTableWriter struct {
	dir, tmp string
	opt      HFOptions
	features string
	schema   *arrow.Schema
	rb       *array.RecordBuilder
	inBatch  int
	rows     int64
	files    []string
	f        *os.File
	cw       countWriter
	bw       *bufio.Writer
	iw       *ipc.Writer
	sum      hash.Hash
	err      error
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
		return nil, fmt.Errorf("formats: CreateHFTable %s: %w", dir, err)
	}
	if _, err := os.Stat(dir); err == nil && !opt.Overwrite {
		return nil, fmt.Errorf("formats: CreateHFTable: %s exists", dir)
	}
	tmp := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("formats: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("formats: %w", err)
	}
	md := arrow.NewMetadata([]string{"huggingface"}, []string{hfSchemaMetadata(features)})
	schema = arrow.NewSchema(schema.Fields(), &md)
	return &HFTableWriter{dir: dir, tmp: tmp, opt: opt, features: features, schema: schema,
		rb: array.NewRecordBuilder(memory.DefaultAllocator, schema), sum: sha256.New()}, nil
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

func (w *HFTableWriter) fail(err error) error {
	if w.err == nil {
		w.err = fmt.Errorf("formats: writing %s: %w", w.dir, err)
	}
	return w.err
}

func (w *HFTableWriter) flushBatch() error {
	if w.f == nil {
		name := filepath.Join(w.tmp, fmt.Sprintf("part-%05d.arrow", len(w.files)))
		f, err := os.Create(name)
		if err != nil {
			return w.fail(err)
		}
		w.files = append(w.files, name)
		w.f = f
		w.cw = countWriter{w: io.MultiWriter(f, w.sum)}
		w.bw = bufio.NewWriterSize(&w.cw, 1<<20)
		w.iw = ipc.NewWriter(w.bw, ipc.WithSchema(w.schema), ipc.WithAllocator(memory.DefaultAllocator))
	}
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	w.inBatch = 0
	if err := w.iw.Write(rec); err != nil {
		return w.fail(err)
	}
	if err := w.bw.Flush(); err != nil {
		return w.fail(err)
	}
	if w.cw.n >= w.opt.MaxFileBytes {
		return w.closeFile()
	}
	return nil
}

func (w *HFTableWriter) closeFile() error {
	err := w.iw.Close()
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f, w.iw = nil, nil
	if err != nil {
		return w.fail(err)
	}
	return nil
}

// Close writes the last batch (an empty dataset still gets one data file with the schema),
// the metadata files, and publishes the directory.
func (w *HFTableWriter) Close() error {
	if w.rb == nil {
		return errors.New("formats: HFTableWriter closed twice")
	}
	defer func() { w.rb.Release(); w.rb = nil }()
	if w.err == nil && (w.inBatch > 0 || len(w.files) == 0) {
		w.flushBatch()
	}
	if w.err == nil && w.f != nil {
		w.closeFile()
	}
	if w.err == nil {
		w.finish()
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	return nil
}

func (w *HFTableWriter) finish() {
	names := make([]string, len(w.files))
	for i, f := range w.files {
		names[i] = hfDataName(i, len(w.files))
		if err := os.Rename(f, filepath.Join(w.tmp, names[i])); err != nil {
			w.fail(err)
			return
		}
	}
	fp := w.opt.Fingerprint
	if fp == "" {
		fp = hex.EncodeToString(w.sum.Sum(nil))[:16]
	}
	state, err := hfStateJSON(names, fp, w.opt.Split)
	var info []byte
	if err == nil {
		err = writeFileSync(filepath.Join(w.tmp, "state.json"), state)
	}
	if err == nil {
		info, err = marshalPy(hfDatasetInfo{Features: []byte(w.features)})
	}
	if err == nil {
		err = writeFileSync(filepath.Join(w.tmp, "dataset_info.json"), info)
	}
	if err == nil {
		err = syncDir(w.tmp)
	}
	if err == nil {
		err = publishDir(w.tmp, w.dir, w.opt.Overwrite)
	}
	if err != nil {
		w.fail(err)
	}
}

// Abort discards everything written.
func (w *HFTableWriter) Abort() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	os.RemoveAll(w.tmp)
}

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
