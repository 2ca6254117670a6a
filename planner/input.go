package planner

import (
	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/job"
)

// Input is one listed input file.
type Input struct {
	// Path is the file's path: the spec's path (joined to ListOptions.BaseDir when relative).
	Path string `json:"path"`
	// Entry is the index of the spec's inputs entry that listed the file.
	Entry int `json:"entry"`
	// Format is the resolved format, never auto.
	Format job.Format `json:"format"`
	// Compression is the file's compression; "" for none.
	Compression Compression `json:"compression,omitempty"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// TextField is the entry's text field.
	TextField string `json:"text_field"`
	// RowGroups are a Parquet file's row groups in file order; empty when unknown.
	RowGroups []RowGroup `json:"row_groups,omitempty"`
}

// RowGroup describes one Parquet row group.
type RowGroup struct {
	Rows  int64 `json:"rows"`
	Bytes int64 `json:"bytes"` // compressed size, as recorded in the file's metadata
	// Offset is where the row group's first page starts in the file; 0 when unknown.
	Offset int64 `json:"offset,omitempty"`
}

// Compression is a whole-file compression.
type Compression string

// Compressions.
const (
	CompressionNone Compression = ""
	CompressionGzip Compression = "gzip"
	CompressionZstd Compression = "zstd"
)

// lineOriented reports whether a format is one record per line, so splittable by byte range.
func lineOriented(f job.Format) bool {
	return f == job.FormatJSONL || f == job.FormatLines
}

// compressionOf names a compression as an Input records it.
func compressionOf(c formats.Compression) Compression {
	switch c {
	case formats.CompressionGzip:
		return CompressionGzip
	case formats.CompressionZstd:
		return CompressionZstd
	}
	return CompressionNone
}

// isDataName reports whether a directory walk takes a file: its extension names a data
// format that a directory of data files holds (formats.DetectName; .arrow files are taken
// only from the save_to_disk directory that lists them).
func isDataName(name string) bool {
	f, _, known := formats.DetectName(name)
	return known && f != formats.FormatHF
}
