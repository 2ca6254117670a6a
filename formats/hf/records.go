package hf

import (
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

// hfRecordReader yields one text column of an HF directory (or of every
// split of a DatasetDict, in dataset_dict.json order) as records.
type hfRecordReader struct {
	opt  formats.Options
	dirs []string
	b    *BatchReader
	col  arrow.Array
	i    int
	row  int64 // row within the current .arrow file
	file string
	err  error // the error that broke the reader; Next returns it again
}

// OpenRecords reads the selected text column (opt.Field) of every split of the save_to_disk
// directory (or DatasetDict) at path, in order: one record per row, with the .arrow file as
// Source and the row within it as Row.
func OpenRecords(path string, opt formats.Options) (formats.Reader, error) {
	opt = opt.WithDefaults()
	dirs, err := SplitDirs(path)
	if err != nil {
		return nil, err
	}
	h := &hfRecordReader{opt: opt, dirs: dirs}
	if err := h.nextDir(); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *hfRecordReader) nextDir() error {
	if h.b != nil {
		h.b.Close()
		h.b = nil
	}
	if len(h.dirs) == 0 {
		return io.EOF
	}
	b, err := OpenBatches(h.dirs[0])
	if err != nil {
		return err
	}
	b.lend = true // Records are valid until the next call
	h.dirs, h.b = h.dirs[1:], b
	return nil
}

func (h *hfRecordReader) Next() (rec formats.Record, err error) {
	if h.err != nil {
		return formats.Record{}, h.err
	}
	defer func() {
		if err != nil && err != io.EOF {
			h.err = err // a broken file is not read on, past a batch or column it could not use
		}
	}()
	// The batch is read as arrow-go decoded it: the offsets and buffers of a corrupt file
	// can make table.TextAt or the column checks panic.
	defer table.RecoverAt(&err, h.source, "row", h.row)
	for h.col == nil || h.i >= h.col.Len() {
		if h.b == nil {
			return formats.Record{}, io.EOF
		}
		// The column belongs to the batch that h.b.Next releases.
		h.col = nil
		rb, err := h.b.Next()
		if err == io.EOF {
			if err := h.nextDir(); err != nil {
				return formats.Record{}, err
			}
			h.col = nil
			continue
		}
		if err != nil {
			return formats.Record{}, err
		}
		if f := h.b.File(); f != h.file {
			h.file, h.row = f, 0
		}
		idx := rb.Schema().FieldIndices(h.opt.Field)
		if len(idx) == 0 {
			names := make([]string, rb.Schema().NumFields())
			for i := range names {
				names[i] = rb.Schema().Field(i).Name
			}
			return formats.Record{}, fmt.Errorf("%s: no column %q (its columns: %s)", h.file, h.opt.Field, table.QuoteNames(names))
		}
		if err := table.CheckTextType(rb.Column(idx[0]).DataType()); err != nil {
			return formats.Record{}, fmt.Errorf("%s: column %q %v", h.file, h.opt.Field, err)
		}
		h.col, h.i = rb.Column(idx[0]), 0
	}
	v, kind := table.TextAt(h.col, h.i)
	rec = formats.Record{Source: h.file, Row: h.row, Offset: -1, Value: v, Kind: kind, Field: h.opt.Field, Size: int64(len(v))}
	h.i++
	h.row++
	if rec.Size > h.opt.MaxRecord {
		rec.TooLong, rec.Raw, rec.Value, rec.Kind = true, v[:h.opt.PrefixLen], nil, jsonscan.FieldUnset
	}
	return rec, nil
}

// source is the file of the batch being read, for table.RecoverAt.
func (h *hfRecordReader) source() string {
	if h.b != nil && h.b.File() != "" {
		return h.b.File()
	}
	return h.file
}

func (h *hfRecordReader) Close() error {
	if h.b != nil {
		return h.b.Close()
	}
	return nil
}
