package parquet

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/table"
)

// OpenRows reads the rows of a Parquet file, or of its row groups rg when not nil;
// row indexes count from the start of the file either way.
func OpenRows(path string, rg *formats.RowGroups) (formats.RowReader, error) {
	src, err := openBatches(path, rg)
	if err != nil {
		return nil, err
	}
	return table.NewRows(src, src.base), nil
}

// batches reads all columns of a Parquet file, parquetBatch rows at a time.
type batches struct {
	path  string
	pf    *file.Reader
	rr    pqarrow.RecordReader
	base  int64 // file row of the first row read
	empty bool  // an empty run of row groups: nothing opened
}

func openBatches(path string, rg *formats.RowGroups) (_ *batches, err error) {
	defer table.RecoverErr(&err, path, "opening Parquet")
	pf, err := openFile(path, memory.DefaultAllocator)
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
			return &batches{path: path, base: base, empty: true}, nil
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
	return &batches{path: path, pf: pf, rr: rr, base: base}, nil
}

func (p *batches) Next() (_ arrow.RecordBatch, _ string, err error) {
	defer table.RecoverErr(&err, p.path, "reading a record batch")
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

func (p *batches) Close() error {
	if p.empty {
		return nil
	}
	p.rr.Release()
	return p.pf.Close()
}
