package formats

import (
	"fmt"
	"os"
)

// OpenHFFile reads the selected text column of ONE .arrow data file of a
// Hugging Face save_to_disk directory (an Arrow IPC stream), as the planner
// shards such directories: one shard per data file. Records carry the
// file's path as Source and the 0-based row within the file as Row.
func OpenHFFile(path string, opt Options) (Reader, error) {
	opt = opt.withDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("formats: %w", err)
	}
	if fi.IsDir() {
		return openHFRecords(path, opt)
	}
	return &hfRecordReader{opt: opt, b: &HFBatchReader{files: []string{path}}}, nil
}

// ParquetRowGroup is the row count and compressed byte size of one row
// group, as the file's footer records them.
type ParquetRowGroup struct {
	Rows  int64
	Bytes int64
}

// ParquetRowGroups lists the row groups of a Parquet file from its footer,
// in file order, for planning shards by row-group ranges.
func ParquetRowGroups(path string) (groups []ParquetRowGroup, err error) {
	defer recoverErr(&err, path, "reading the Parquet footer")
	pf, err := openParquetFile(path)
	if err != nil {
		return nil, fmt.Errorf("formats: %s: %w", path, err)
	}
	defer pf.Close()
	md := pf.MetaData()
	for i := 0; i < pf.NumRowGroups(); i++ {
		rg := md.RowGroup(i)
		groups = append(groups, ParquetRowGroup{Rows: rg.NumRows(), Bytes: rg.TotalCompressedSize()})
	}
	return groups, nil
}
