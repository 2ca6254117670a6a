package parquet

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/tokenmill/tokenmill/formats/table"
)

// RowGroup is the row count and compressed byte size of one row
// group, as the file's footer records them, and where its first page starts
// (Offset; 0 when a column chunk's metadata does not say).
type RowGroup struct {
	Rows   int64
	Bytes  int64
	Offset int64
}

// RowGroups lists the row groups of a Parquet file from its footer,
// in file order, for planning shards by row-group ranges.
func RowGroups(path string) (groups []RowGroup, err error) {
	defer table.RecoverErr(&err, path, "reading the Parquet footer")
	pf, err := openFile(path, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	md := pf.MetaData()
	for i := 0; i < pf.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		groups = append(groups, RowGroup{Rows: rg.NumRows(), Bytes: rg.TotalCompressedSize(), Offset: rowGroupStart(rg)})
	}
	return groups, nil
}

// rowGroupStart is the file offset of a row group's first page: the least start of its
// column chunks (the dictionary page when there is one, else the first data page), or 0
// when a chunk's metadata gives no usable offset. A Parquet file starts with its 4-byte
// magic, so no page starts at 0.
func rowGroupStart(rg *metadata.RowGroupMetaData) int64 {
	start := int64(-1)
	for c := 0; c < rg.NumColumns(); c++ {
		cc, err := rg.ColumnChunk(c)
		if err != nil {
			return 0
		}
		off := cc.DataPageOffset()
		// Some writers record a dictionary page offset of 0 when there is none.
		if d := cc.DictionaryPageOffset(); cc.HasDictionaryPage() && d > 0 && d < off {
			off = d
		}
		if off <= 0 {
			return 0
		}
		if start < 0 || off < start {
			start = off
		}
	}
	return max(start, 0)
}
