package formats

import (
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
)

// OpenHFFile reads the selected text column of ONE .arrow data file of a
// Hugging Face save_to_disk directory (an Arrow IPC stream), as the planner
// shards such directories: one shard per data file. Records carry the
// file's path as Source and the 0-based row within the file as Row.
func OpenHFFile(path string, opt Options) (Reader, error) {
	opt = opt.withDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return openHFRecords(path, opt)
	}
	return &hfRecordReader{opt: opt, b: &HFBatchReader{files: []string{path}, lend: true}}, nil
}

// ParquetRowGroup is the row count and compressed byte size of one row
// group, as the file's footer records them, and where its first page starts
// (Offset; 0 when a column chunk's metadata does not say).
type ParquetRowGroup struct {
	Rows   int64
	Bytes  int64
	Offset int64
}

// ParquetRowGroups lists the row groups of a Parquet file from its footer,
// in file order, for planning shards by row-group ranges.
func ParquetRowGroups(path string) (groups []ParquetRowGroup, err error) {
	defer recoverErr(&err, path, "reading the Parquet footer")
	pf, err := openParquetFile(path, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer pf.Close()
	md := pf.MetaData()
	for i := 0; i < pf.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		groups = append(groups, ParquetRowGroup{Rows: rg.NumRows(), Bytes: rg.TotalCompressedSize(), Offset: rowGroupStart(rg)})
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
