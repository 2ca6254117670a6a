package formats

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// HFOptions control an HFWriter. Zero values take the defaults.
type HFOptions struct {
	Column string // default "input_ids"
	DType  DType  // element type; default Int32
	// MaxFileBytes starts a new data file once the current one reaches this
	// size (checked after each record batch); default 500 MB.
	MaxFileBytes int64
	BatchRows    int // rows per record batch; default 1000, as datasets
	// Fingerprint is state.json's _fingerprint; default: the first 16 hex
	// digits of the sha256 of the data files' bytes.
	Fingerprint string
	Split       string // state.json _split; "" writes null
	Overwrite   bool   // replace an existing directory on Close
}

// HFWriter streams rows of token ids into a Hugging Face save_to_disk
// directory (one split) that datasets.load_from_disk reads. The directory
// is built under a temporary sibling name and renamed into place by Close.
type HFWriter struct {
	dir, tmp string
	opt      HFOptions
	schema   *arrow.Schema
	lb       *array.ListBuilder
	inBatch  int
	rows     int64

	files []string // temporary data file names, in order
	f     *os.File
	cw    countWriter
	bw    *bufio.Writer
	iw    *ipc.Writer
	sum   hash.Hash
	err   error
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// CreateHF starts writing the directory dir.
func CreateHF(dir string, opt HFOptions) (*HFWriter, error) {
	if opt.Column == "" {
		opt.Column = "input_ids"
	}
	if opt.DType == 0 {
		opt.DType = Int32
	}
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = 500 << 20
	}
	if opt.BatchRows <= 0 {
		opt.BatchRows = 1000
	}
	if !opt.DType.valid() {
		return nil, fmt.Errorf("formats: CreateHF %s: bad dtype %v", dir, opt.DType)
	}
	if _, err := os.Stat(dir); err == nil && !opt.Overwrite {
		return nil, fmt.Errorf("formats: CreateHF: %s exists", dir)
	}
	tmp := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("formats: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("formats: %w", err)
	}
	elem := map[DType]arrow.DataType{Int64: arrow.PrimitiveTypes.Int64, Int32: arrow.PrimitiveTypes.Int32,
		Uint32: arrow.PrimitiveTypes.Uint32, Uint16: arrow.PrimitiveTypes.Uint16}[opt.DType]
	md := arrow.NewMetadata([]string{"huggingface"}, []string{hfSchemaMetadata(hfFeaturesJSON(opt.Column, opt.DType))})
	schema := arrow.NewSchema([]arrow.Field{{Name: opt.Column, Type: arrow.ListOf(elem), Nullable: true}}, &md)
	return &HFWriter{dir: dir, tmp: tmp, opt: opt, schema: schema,
		lb: array.NewListBuilder(memory.DefaultAllocator, elem), sum: sha256.New()}, nil
}

// Rows returns the number of rows written.
func (w *HFWriter) Rows() int64 { return w.rows }

// WriteRow appends one row of token ids.
func (w *HFWriter) WriteRow(ids []int32) error { return hfWriteRow(w, ids) }

// WriteRow64 appends one row of token ids given as int64.
func (w *HFWriter) WriteRow64(ids []int64) error { return hfWriteRow(w, ids) }

func hfWriteRow[T int32 | int64](w *HFWriter, ids []T) error {
	if w.err != nil {
		return w.err
	}
	lo, hi := dtypeInfo[w.opt.DType].min, dtypeInfo[w.opt.DType].max
	for _, v := range ids {
		if int64(v) < lo || int64(v) > hi {
			return fmt.Errorf("formats: %s: row %d: value %d does not fit in %s", w.dir, w.rows, v, w.opt.DType)
		}
	}
	w.lb.Append(true)
	if w.inBatch == 0 {
		// The batch's values at once: no growing by doubling (a copy and a clear each time).
		w.lb.ValueBuilder().Reserve(w.opt.BatchRows * len(ids))
	}
	switch vb := w.lb.ValueBuilder().(type) {
	case *array.Int64Builder:
		if r, ok := any(ids).([]int64); ok {
			vb.AppendValues(r, nil) // one copy, not a reserve per value
			break
		}
		for _, v := range ids {
			vb.Append(int64(v))
		}
	case *array.Int32Builder:
		if r, ok := any(ids).([]int32); ok {
			vb.AppendValues(r, nil)
			break
		}
		for _, v := range ids {
			vb.Append(int32(v))
		}
	case *array.Uint32Builder:
		for _, v := range ids {
			vb.Append(uint32(v))
		}
	case *array.Uint16Builder:
		for _, v := range ids {
			vb.Append(uint16(v))
		}
	}
	w.rows++
	w.inBatch++
	if w.inBatch == w.opt.BatchRows {
		return w.flushBatch()
	}
	return nil
}

func (w *HFWriter) fail(err error) error {
	if w.err == nil {
		w.err = fmt.Errorf("formats: writing %s: %w", w.dir, err)
	}
	return w.err
}

// openFile starts the next data file.
func (w *HFWriter) openFile() error {
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
	return nil
}

// closeFile ends the current data file (end-of-stream marker, flush, sync).
func (w *HFWriter) closeFile() error {
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

// flushBatch writes the pending rows as one record batch and rolls over to
// a new file past MaxFileBytes.
func (w *HFWriter) flushBatch() error {
	if w.f == nil {
		if err := w.openFile(); err != nil {
			return err
		}
	}
	arr := w.lb.NewArray()
	defer arr.Release()
	rb := array.NewRecordBatch(w.schema, []arrow.Array{arr}, int64(arr.Len()))
	defer rb.Release()
	w.inBatch = 0
	if err := w.iw.Write(rb); err != nil {
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

// Close writes the last batch and the metadata files, then publishes the
// directory.
func (w *HFWriter) Close() error {
	if w.lb == nil {
		return errors.New("formats: HFWriter closed twice")
	}
	defer func() { w.lb.Release(); w.lb = nil }()
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
		os.RemoveAll(w.tmp)
		return w.err
	}
	return nil
}

func (w *HFWriter) finish() {
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
	if err == nil {
		err = writeFileSync(filepath.Join(w.tmp, "state.json"), state)
	}
	var info []byte
	if err == nil {
		info, err = marshalPy(hfDatasetInfo{Features: []byte(hfFeaturesJSON(w.opt.Column, w.opt.DType))})
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
func (w *HFWriter) Abort() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	if w.lb != nil {
		w.lb.Release()
		w.lb = nil
	}
	os.RemoveAll(w.tmp)
}
