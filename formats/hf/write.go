package hf

import (
	"errors"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/tokenmill/tokenmill/formats"
)

// Options control an Writer. Zero values take the defaults.
type Options struct {
	Column string        // default "input_ids"
	DType  formats.DType // element type; default Int32
	// MaxFileBytes starts a new data file once the current one reaches this
	// size (checked after each record batch); default 500 MB.
	MaxFileBytes int64
	// BatchRows is the number of rows per record batch; default 1000, as datasets. An
	// Writer takes fewer when a batch would pass maxBatchBytes (rows of tens of thousands
	// of ids).
	BatchRows int
	// Fingerprint is state.json's _fingerprint; default: the XXH64 of the
	// data files' bytes in 16 hex digits (datasets' own fingerprints are 16
	// hex digits of an xxhash too; a content hash keeps outputs deterministic).
	Fingerprint string
	Split       string // state.json _split; "" writes null
	Overwrite   bool   // replace an existing directory on Close
}

// Writer streams rows of token ids into a Hugging Face save_to_disk
// directory (one split) that datasets.load_from_disk reads. The directory
// is built under a temporary sibling name and renamed into place by Close.
type Writer struct {
	hfDirWriter
	lb        *array.ListBuilder
	batchRows int // rows of the current batch
}

// maxBatchBytes bounds the values of one record batch that an Writer holds: 1000 rows of
// 131072 int64 would be a gigabyte.
const maxBatchBytes = 64 << 20

// Create starts writing the directory dir.
func Create(dir string, opt Options) (*Writer, error) {
	if opt.Column == "" {
		opt.Column = "input_ids"
	}
	if opt.DType == 0 {
		opt.DType = formats.Int32
	}
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = 500 << 20
	}
	if opt.BatchRows <= 0 {
		opt.BatchRows = 1000
	}
	if !opt.DType.Valid() {
		return nil, fmt.Errorf("hf.Create %s: bad dtype %v", dir, opt.DType)
	}
	elem := map[formats.DType]arrow.DataType{formats.Int64: arrow.PrimitiveTypes.Int64, formats.Int32: arrow.PrimitiveTypes.Int32,
		formats.Uint32: arrow.PrimitiveTypes.Uint32, formats.Uint16: arrow.PrimitiveTypes.Uint16}[opt.DType]
	md := arrow.NewMetadata([]string{"huggingface"}, []string{SchemaMetadata(hfFeaturesJSON(opt.Column, opt.DType))})
	schema := arrow.NewSchema([]arrow.Field{{Name: opt.Column, Type: arrow.ListOf(elem), Nullable: true}}, &md)
	d, err := newHFDirWriter("Create", dir, opt, schema)
	if err != nil {
		return nil, err
	}
	return &Writer{hfDirWriter: d, lb: array.NewListBuilder(d.alloc, elem)}, nil
}

// Rows returns the number of rows written.
func (w *Writer) Rows() int64 { return w.rows }

// WriteRow appends one row of token ids.
func (w *Writer) WriteRow(ids []int32) error { return hfWriteRow(w, ids) }

// WriteRow64 appends one row of token ids given as int64.
func (w *Writer) WriteRow64(ids []int64) error { return hfWriteRow(w, ids) }

func hfWriteRow[T int32 | int64](w *Writer, ids []T) error {
	if w.err != nil {
		return w.err
	}
	lo, hi := w.opt.DType.Range()
	for _, v := range ids {
		if int64(v) < lo || int64(v) > hi {
			return fmt.Errorf("%s: row %d: value %d does not fit in %s", w.dir, w.rows, v, w.opt.DType)
		}
	}
	w.lb.Append(true)
	if w.inBatch == 0 {
		w.batchRows = w.opt.BatchRows
		if rowBytes := len(ids) * w.opt.DType.Size(); rowBytes > 0 {
			w.batchRows = max(1, min(w.batchRows, maxBatchBytes/rowBytes))
		}
		// The batch's values at once: no growing by doubling (a copy and a clear each time).
		w.lb.ValueBuilder().Reserve(w.batchRows * len(ids))
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
	if w.inBatch == w.batchRows {
		return w.flushBatch()
	}
	return nil
}

// flushBatch writes the pending rows as one record batch and rolls over to
// a new file past MaxFileBytes.
func (w *Writer) flushBatch() error {
	return w.writeBatch(func() arrow.RecordBatch {
		arr := w.lb.NewArray()
		defer arr.Release()
		return array.NewRecordBatch(w.schema, []arrow.Array{arr}, int64(arr.Len()))
	})
}

// Close writes the last batch and the metadata files, then publishes the
// directory.
func (w *Writer) Close() error {
	if w.lb == nil {
		return errors.New("hf: Writer closed twice")
	}
	defer func() { w.lb.Release(); w.lb = nil }()
	if err := w.closeAll(w.flushBatch, hfFeaturesJSON(w.opt.Column, w.opt.DType)); err != nil {
		os.RemoveAll(w.tmp)
		return err
	}
	return nil
}

// Abort discards everything written.
func (w *Writer) Abort() {
	if w.lb != nil {
		w.lb.Release()
		w.lb = nil
	}
	w.abort()
}
