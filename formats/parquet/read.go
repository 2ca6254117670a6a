package parquet

import (
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow/memory"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

// parquetBatch is the number of rows decoded at a time.
const parquetBatch = 1024

// parquetReadBuffer is the read-ahead of a column chunk: pages stream through it instead of the
// whole chunk being read into memory first. Each row group's chunk gets a new one (arrow-go
// allocates it), so it is kept small: a page body larger than it is read straight into the
// page's buffer, past it.
const parquetReadBuffer = 64 << 10

// openFile opens a Parquet file for reading with bounds that its own metadata cannot
// lift. arrow-go's defaults read a whole column chunk into one buffer of the length the footer
// claims, before checking it against the file: a 1 KiB file claiming a 1 TiB chunk made the
// runtime abort with a fatal out-of-memory, which no recover catches. A row group of a few GiB,
// common in files written with pyarrow's defaults, would likewise have cost its size per worker.
// Streamed, a chunk costs parquetReadBuffer plus its largest page, and no page may claim more
// compressed bytes than the file holds.
func openFile(path string, mem memory.Allocator) (*file.Reader, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	props := pq.NewReaderProperties(mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = parquetReadBuffer
	props.MaxCompressedPageSize = max(1, min(pq.DefaultMaxCompressedPageSize, st.Size()))
	return file.OpenParquetFile(path, false, file.WithReadProps(props))
}

// reader streams one string column of a Parquet file, row group by row group, page by
// page. It reads the column's values where the decoder leaves them (the page's decompressed
// bytes, or the column chunk's dictionary) with ReadBatchInPage, and lends them to the caller
// until the next call, as the line readers lend their line buffer. Arrow's record reader, used
// before, copied every value into a string array of parquetBatch rows whose buffer doubled as it
// filled: 11 MB per batch of source files, fresh memory on every batch (31 thousand page faults
// and 0.48 CPU seconds to read a 40 MB corpus that zstd JSONL reads in 0.1), and a batch of
// 1024 books would have held a gigabyte. A page is what the writer made it, a megabyte by the
// common writers' defaults, or one value when a value is larger.
type reader struct {
	path   string
	opt    formats.Options
	pf     *file.Reader
	mem    memory.Allocator // the page buffers', recycled from page to page and row group to row group
	col    int              // the column's leaf index
	maxDef int16            // its definition level when the value is present (0: a required column)
	groups []int            // the row groups read
	g      int              // index in groups of the row group being read
	pr     file.PageReader  // the current row group's pages
	cr     *file.ByteArrayColumnChunkReader
	inRG   int64 // rows of the current row group read so far
	row    int64 // file row of the next value
	vals   []pq.ByteArray
	defs   []int16
	n, i   int // levels in the batch, the next one
	v      int // the next value of vals
	done   bool
}

// Open reads the selected text column (opt.Field) of the Parquet file at path, or of its row
// groups opt.RowGroups: one record per row, with Row its index in the whole file.
func Open(path string, opt formats.Options) (_ formats.Reader, err error) {
	opt = opt.WithDefaults()
	defer table.RecoverErr(&err, path, "opening Parquet")
	mem := &table.Allocator{}
	pf, err := openFile(path, mem)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p := &reader{path: path, opt: opt, pf: pf, mem: mem}
	if err := p.init(); err != nil {
		pf.Close()
		return nil, err
	}
	return p, nil
}

func (p *reader) init() error {
	md := p.pf.MetaData()
	n := p.pf.NumRowGroups()
	rg := formats.RowGroups{Start: 0, End: n}
	if p.opt.RowGroups != nil {
		rg = *p.opt.RowGroups
	}
	if rg.Start < 0 || rg.End > n || rg.Start > rg.End {
		return fmt.Errorf("%s: row groups [%d, %d) out of range (file has %d)", p.path, rg.Start, rg.End, n)
	}
	for i := 0; i < rg.Start; i++ {
		p.row += md.RowGroup(i).NumRows()
	}
	for i := rg.Start; i < rg.End; i++ {
		p.groups = append(p.groups, i)
	}
	col := md.Schema.ColumnIndexByName(p.opt.Field)
	if col < 0 {
		root := md.Schema.Root()
		names := make([]string, root.NumFields())
		for i := range names {
			names[i] = root.Field(i).Name()
		}
		return fmt.Errorf("%s: no column %q (its columns: %s)", p.path, p.opt.Field, table.QuoteNames(names))
	}
	// The column's type as Arrow reads it (the file's Arrow schema, when it has one, names
	// string, large_string or binary): the column the user named must be text, whatever
	// reader reads it.
	fr, err := pqarrow.NewFileReader(p.pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("%s: %w", p.path, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return fmt.Errorf("%s: %w", p.path, err)
	}
	fields, err := fr.Manifest.GetFieldIndices([]int{col})
	if err != nil || len(fields) != 1 {
		return fmt.Errorf("%s: column %q: no Arrow field (%v)", p.path, p.opt.Field, err)
	}
	if err := table.CheckTextType(sc.Field(fields[0]).Type); err != nil {
		return fmt.Errorf("%s: column %q %v", p.path, p.opt.Field, err)
	}
	// Text types are stored as BYTE_ARRAY; a text field at the top of the schema is a leaf that
	// does not repeat. Nested ones were refused above (their top-level field is a struct or a
	// list), so this only guards the reads below.
	c := md.Schema.Column(col)
	if c.PhysicalType() != pq.Types.ByteArray || c.MaxRepetitionLevel() != 0 || md.Schema.ColumnRoot(col) != c.SchemaNode() {
		return fmt.Errorf("%s: column %q is not a top-level string column", p.path, p.opt.Field)
	}
	p.col, p.maxDef = col, c.MaxDefinitionLevel()
	p.vals = make([]pq.ByteArray, parquetBatch)
	if p.maxDef > 0 {
		p.defs = make([]int16, parquetBatch)
	}
	p.g = -1
	return nil
}

// source is the file, for table.RecoverAt.
func (p *reader) source() string { return p.path }

// fill reads the next batch of values, within one page, moving on to the next row group when
// one is read; false at the end of the last.
func (p *reader) fill() (bool, error) {
	for {
		if p.cr != nil && p.cr.HasNext() {
			n, nv, err := p.cr.ReadBatchInPage(parquetBatch, p.vals, p.defs, nil)
			if err != nil {
				return false, p.groupErr(err)
			}
			if present := p.present(int(n)); nv != present {
				return false, p.groupErr(fmt.Errorf("a page decoded %d values for %d rows with a value", nv, present))
			}
			p.inRG += n
			if want := p.pf.MetaData().RowGroup(p.groups[p.g]).NumRows(); p.inRG > want {
				return false, fmt.Errorf("%s: row group %d: more than the %d rows its metadata says", p.path, p.groups[p.g], want)
			}
			if n > 0 {
				p.n, p.i, p.v = int(n), 0, 0
				return true, nil
			}
			continue
		}
		if p.cr != nil {
			if err := p.cr.Err(); err != nil && err != io.EOF {
				return false, p.groupErr(err)
			}
			if want := p.pf.MetaData().RowGroup(p.groups[p.g]).NumRows(); p.inRG != want {
				return false, fmt.Errorf("%s: row group %d: got %d rows, metadata says %d", p.path, p.groups[p.g], p.inRG, want)
			}
			p.endGroup()
		}
		if p.g+1 >= len(p.groups) {
			return false, nil
		}
		p.g++
		// The page reader is made here, not by RowGroupReader.Column, so that endGroup can
		// close it: its buffers then go back to mem for the next row group's pages (files
		// cut into row groups of a few hundred rows are common).
		pr, err := p.pf.RowGroup(p.groups[p.g]).GetColumnPageReader(p.col)
		if err != nil {
			return false, p.groupErr(err)
		}
		cr := file.NewColumnReader(p.pf.MetaData().Schema.Column(p.col), pr, p.mem, p.pf.BufferPool())
		bar, ok := cr.(*file.ByteArrayColumnChunkReader)
		if !ok {
			pr.Close()
			return false, p.groupErr(fmt.Errorf("column chunk reader %T, not a byte array reader", cr))
		}
		p.pr, p.cr, p.inRG = pr, bar, 0
	}
}

// present counts the rows with a value among the first n levels read.
func (p *reader) present(n int) int {
	if p.maxDef == 0 {
		return n
	}
	k := 0
	for _, d := range p.defs[:n] {
		if d == p.maxDef {
			k++
		}
	}
	return k
}

// endGroup releases the current row group's page reader and its buffers.
func (p *reader) endGroup() {
	if p.pr != nil {
		p.pr.Close()
	}
	p.pr, p.cr = nil, nil
}

func (p *reader) groupErr(err error) error {
	return fmt.Errorf("%s: row group %d (row %d): %w", p.path, p.groups[p.g], p.row, err)
}

func (p *reader) Next() (rec formats.Record, err error) {
	defer table.RecoverAt(&err, p.source, "row", p.row)
	if p.i >= p.n {
		if p.done {
			return formats.Record{}, io.EOF
		}
		ok, err := p.fill()
		if !ok {
			p.done = true
			if err != nil {
				return formats.Record{}, err
			}
			return formats.Record{}, io.EOF
		}
	}
	var v []byte
	kind := jsonscan.FieldNull
	if p.maxDef == 0 || p.defs[p.i] == p.maxDef {
		v, kind = p.vals[p.v], jsonscan.FieldOK
		p.v++
	}
	p.i++
	rec = formats.Record{Source: p.path, Row: p.row, Offset: -1, Value: v, Kind: kind, Field: p.opt.Field, Size: int64(len(v))}
	p.row++
	if rec.Size > p.opt.MaxRecord {
		rec.TooLong, rec.Raw, rec.Value, rec.Kind = true, v[:p.opt.PrefixLen], nil, jsonscan.FieldUnset
	}
	return rec, nil
}

func (p *reader) Close() error {
	p.endGroup()
	return p.pf.Close()
}
