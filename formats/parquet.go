package formats

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetBatch is the number of rows decoded at a time.
const parquetBatch = 1024

// parquetReadBuffer is the read-ahead of a column chunk: pages stream through it instead of the
// whole chunk being read into memory first.
const parquetReadBuffer = 1 << 20

// openParquetFile opens a Parquet file for reading with bounds that its own metadata cannot
// lift. arrow-go's defaults read a whole column chunk into one buffer of the length the footer
// claims, before checking it against the file: a 1 KiB file claiming a 1 TiB chunk made the
// runtime abort with a fatal out-of-memory, which no recover catches. A row group of a few GiB,
// common in files written with pyarrow's defaults, would likewise have cost its size per worker.
// Streamed, a chunk costs parquetReadBuffer plus its largest page, and no page may claim more
// compressed bytes than the file holds.
func openParquetFile(path string) (*file.Reader, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	props := parquet.NewReaderProperties(memory.DefaultAllocator)
	props.BufferedStreamEnabled = true
	props.BufferSize = parquetReadBuffer
	props.MaxCompressedPageSize = max(1, min(parquet.DefaultMaxCompressedPageSize, st.Size()))
	return file.OpenParquetFile(path, false, file.WithReadProps(props))
}

// parquetReader streams one string column of a Parquet file, row group by
// row group, parquetBatch rows at a time.
type parquetReader struct {
	path   string
	opt    Options
	pf     *file.Reader
	rr     pqarrow.RecordReader
	groups []int   // the row groups read
	ends   []int64 // file row just past each of groups
	row    int64   // file row of the next value
	cur    arrow.Array
	i      int
	done   bool
}

func openParquet(path string, opt Options) (_ Reader, err error) {
	defer recoverErr(&err, path, "opening Parquet")
	pf, err := openParquetFile(path)
	if err != nil {
		return nil, fmt.Errorf("formats: %s: %w", path, err)
	}
	p := &parquetReader{path: path, opt: opt, pf: pf}
	if err := p.init(); err != nil {
		pf.Close()
		return nil, err
	}
	return p, nil
}

func (p *parquetReader) init() error {
	md := p.pf.MetaData()
	n := p.pf.NumRowGroups()
	rg := RowGroups{0, n}
	if p.opt.RowGroups != nil {
		rg = *p.opt.RowGroups
	}
	if rg.Start < 0 || rg.End > n || rg.Start > rg.End {
		return fmt.Errorf("formats: %s: row groups [%d, %d) out of range (file has %d)", p.path, rg.Start, rg.End, n)
	}
	for i := 0; i < rg.Start; i++ {
		p.row += md.RowGroup(i).NumRows()
	}
	end := p.row
	for i := rg.Start; i < rg.End; i++ {
		end += md.RowGroup(i).NumRows()
		p.groups = append(p.groups, i)
		p.ends = append(p.ends, end)
	}
	col := md.Schema.ColumnIndexByName(p.opt.Field)
	if col < 0 {
		return fmt.Errorf("formats: %s: no column %q", p.path, p.opt.Field)
	}
	fr, err := pqarrow.NewFileReader(p.pf, pqarrow.ArrowReadProperties{BatchSize: parquetBatch}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("formats: %s: %w", p.path, err)
	}
	if len(p.groups) == 0 {
		p.done = true
		return nil
	}
	rr, err := fr.GetRecordReader(context.Background(), []int{col}, p.groups)
	if err != nil {
		return fmt.Errorf("formats: %s: %w", p.path, err)
	}
	if f := rr.Schema().Field(0); checkTextType(f.Type) != nil {
		rr.Release()
		return fmt.Errorf("formats: %s: column %q %v", p.path, p.opt.Field, checkTextType(f.Type))
	}
	p.rr = rr
	return nil
}

// group returns the row group holding file row r.
func (p *parquetReader) group(r int64) int {
	k := sort.Search(len(p.ends), func(k int) bool { return p.ends[k] > r })
	if k == len(p.ends) {
		k--
	}
	return p.groups[max(k, 0)]
}

// source is the file, for recoverAt.
func (p *parquetReader) source() string { return p.path }

func (p *parquetReader) Next() (rec Record, err error) {
	defer recoverAt(&err, p.source, "row", p.row)
	for p.cur == nil || p.i >= p.cur.Len() {
		if p.done {
			return Record{}, io.EOF
		}
		if !p.rr.Next() {
			p.done = true
			if err := p.rr.Err(); err != nil && err != io.EOF {
				return Record{}, fmt.Errorf("formats: %s: row group %d (row %d): %w", p.path, p.group(p.row), p.row, err)
			}
			if want := p.ends[len(p.ends)-1]; p.row != want {
				return Record{}, fmt.Errorf("formats: %s: row group %d: got %d rows, metadata says %d", p.path, p.group(p.row), p.row, want)
			}
			return Record{}, io.EOF
		}
		p.cur, p.i = p.rr.RecordBatch().Column(0), 0
	}
	v, kind := textAt(p.cur, p.i)
	rec = Record{Source: p.path, Row: p.row, Offset: -1, Value: v, Kind: kind, Field: p.opt.Field, Size: int64(len(v))}
	p.i++
	p.row++
	if rec.Size > p.opt.MaxRecord {
		rec.TooLong, rec.Raw, rec.Value, rec.Kind = true, v[:p.opt.PrefixLen], nil, FieldUnset
	}
	return rec, nil
}

func (p *parquetReader) Close() error {
	if p.rr != nil {
		p.rr.Release()
		p.rr = nil
	}
	return p.pf.Close()
}

// recoverErr turns a panic in a third-party decoder into an error naming
// the file: readers must not crash a worker on bad input.
func recoverErr(err *error, path, where string) {
	if r := recover(); r != nil {
		*err = panicErr(path, where, r)
	}
}

// recoverAt is recoverErr for the per-record and per-batch calls: the place is formatted
// only when a panic is recovered, not on every record, and file is asked for the path then,
// for a reader that goes from file to file. (A deferred call's arguments are evaluated when
// it is deferred: recoverErr(&err, r.file, ...) named the file before the one being read, or
// none at the first call, "formats: : row 0".)
func recoverAt(err *error, file func() string, what string, n int64) {
	if r := recover(); r != nil {
		*err = panicErr(file(), fmt.Sprintf("%s %d", what, n), r)
	}
}

func panicErr(path, where string, r any) error {
	return fmt.Errorf("formats: %s: %s: corrupt input (decoder panic: %v)", path, where, r)
}
