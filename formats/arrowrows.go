package formats

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// batchSource yields Arrow record batches and names the file they came from.
type batchSource interface {
	next() (arrow.RecordBatch, string, error)
	close() error
}

// arrowRows turns every column of each record batch into Rows.
type arrowRows struct {
	src    batchSource
	rb     arrow.RecordBatch
	file   string
	i      int
	row    int64
	base   int64 // index in its file of the first row read (Parquet row-group runs)
	schema *arrow.Schema
	keys   []string
}

func openArrowRows(path string, hf bool) (_ RowReader, err error) {
	var src batchSource
	if hf {
		dirs, err := HFSplitDirs(path)
		if err != nil {
			return nil, err
		}
		src = &hfBatches{dirs: dirs}
	} else {
		return openParquetRows(path, nil)
	}
	return &arrowRows{src: src}, nil
}

// openParquetRows reads the rows of a Parquet file, or of its row groups rg when not nil;
// row indexes count from the start of the file either way.
func openParquetRows(path string, rg *RowGroups) (RowReader, error) {
	src, err := openParquetBatches(path, rg)
	if err != nil {
		return nil, err
	}
	return &arrowRows{src: src, base: src.base}, nil
}

func (a *arrowRows) Schema() *arrow.Schema { return a.schema }
func (a *arrowRows) Close() error          { return a.src.close() }

// source is the file of the batch being read, for recoverAt.
func (a *arrowRows) source() string { return a.file }

func (a *arrowRows) Next() (row Row, err error) {
	defer recoverAt(&err, a.source, "row", a.row)
	for a.rb == nil || a.i >= int(a.rb.NumRows()) {
		rb, file, err := a.src.next()
		if err != nil {
			return Row{}, err
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
		m[name] = ArrowValue(a.rb.Column(k), a.i)
	}
	row = Row{Source: a.file, Row: a.row, Value: m, Keys: a.keys}
	a.i++
	a.row++
	return row, nil
}

// hfBatches reads the splits of an HF directory (or DatasetDict) in order.
type hfBatches struct {
	dirs []string
	b    *HFBatchReader
}

func (h *hfBatches) next() (arrow.RecordBatch, string, error) {
	for {
		if h.b == nil {
			if len(h.dirs) == 0 {
				return nil, "", io.EOF
			}
			b, err := OpenHFBatches(h.dirs[0])
			if err != nil {
				return nil, "", err
			}
			h.dirs, h.b = h.dirs[1:], b
		}
		rb, err := h.b.Next()
		if err == io.EOF {
			h.b.Close()
			h.b = nil
			continue
		}
		return rb, h.b.File(), err
	}
}

func (h *hfBatches) close() error {
	if h.b != nil {
		return h.b.Close()
	}
	return nil
}

// parquetBatches reads all columns of a Parquet file, parquetBatch rows at a time.
type parquetBatches struct {
	path  string
	pf    *file.Reader
	rr    pqarrow.RecordReader
	base  int64 // file row of the first row read
	empty bool  // an empty run of row groups: nothing opened
}

func openParquetBatches(path string, rg *RowGroups) (_ *parquetBatches, err error) {
	defer recoverErr(&err, path, "opening Parquet")
	pf, err := openParquetFile(path, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var groups []int // nil: all
	var base int64
	if rg != nil {
		n := pf.NumRowGroups()
		if rg.Start < 0 || rg.End > n || rg.Start > rg.End {
			pf.Close()
			return nil, fmt.Errorf("%s: row groups [%d, %d) out of range (file has %d)", path, rg.Start, rg.End, n)
		}
		for i := 0; i < rg.Start; i++ {
			base += pf.MetaData().RowGroup(i).NumRows()
		}
		groups = make([]int, 0, rg.End-rg.Start)
		for i := rg.Start; i < rg.End; i++ {
			groups = append(groups, i)
		}
		if len(groups) == 0 {
			pf.Close()
			return &parquetBatches{path: path, base: base, empty: true}, nil
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: parquetBatch}, memory.DefaultAllocator)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, groups)
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &parquetBatches{path: path, pf: pf, rr: rr, base: base}, nil
}

func (p *parquetBatches) next() (_ arrow.RecordBatch, _ string, err error) {
	defer recoverErr(&err, p.path, "reading a record batch")
	if p.empty {
		return nil, p.path, io.EOF
	}
	if !p.rr.Next() {
		if err := p.rr.Err(); err != nil && err != io.EOF {
			return nil, p.path, fmt.Errorf("%s: %w", p.path, err)
		}
		return nil, p.path, io.EOF
	}
	return p.rr.RecordBatch(), p.path, nil
}

func (p *parquetBatches) close() error {
	if p.empty {
		return nil
	}
	p.rr.Release()
	return p.pf.Close()
}
