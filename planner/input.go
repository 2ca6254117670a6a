package planner

import (
	"bytes"
	"path/filepath"
	"strings"

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

var compressionExt = map[string]Compression{
	".gz":   CompressionGzip,
	".gzip": CompressionGzip,
	".zst":  CompressionZstd,
	".zstd": CompressionZstd,
}

// formatExt maps extensions to formats as package formats does. ".json" maps to "": it may
// hold JSON Lines or one JSON array, which only the content tells.
var formatExt = map[string]job.Format{
	".jsonl":   job.FormatJSONL,
	".ndjson":  job.FormatJSONL,
	".json":    "",
	".parquet": job.FormatParquet,
	".pq":      job.FormatParquet,
	".csv":     job.FormatCSV,
	".txt":     job.FormatText,
	".text":    job.FormatText,
	".md":      job.FormatText,
}

// splitName returns a lower-cased file name's data extension and compression:
// "A.JSONL.ZST" -> ".jsonl", zstd.
func splitName(name string) (string, Compression) {
	base := strings.ToLower(filepath.Base(name))
	ext := filepath.Ext(base)
	c, ok := compressionExt[ext]
	if ok {
		base = strings.TrimSuffix(base, ext)
		ext = filepath.Ext(base)
	}
	return ext, c
}

// DetectByName returns the format and compression that a file name's extensions say, e.g.
// "a.jsonl.zst" -> jsonl, zstd; "a.arrow" -> hf. The format is "" when the name does not tell
// it (".json" included).
func DetectByName(name string) (job.Format, Compression) {
	ext, c := splitName(name)
	if ext == ".arrow" && c == CompressionNone {
		return job.FormatHF, c
	}
	return formatExt[ext], c
}

// isDataName reports whether a directory walk takes a file: its extension names a data format.
func isDataName(name string) bool {
	ext, _ := splitName(name)
	_, ok := formatExt[ext]
	return ok
}

// Magic numbers.
var (
	magicGzip    = []byte{0x1f, 0x8b}
	magicZstd    = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicParquet = []byte("PAR1")
	bom          = []byte{0xef, 0xbb, 0xbf}
)

// DetectByMagic tells the format and compression from a file's first bytes (16 are plenty),
// with the rules of package formats: gzip and zstd magic give the compression and format ""
// (the inner format needs decompressing: the reader tells it); "PAR1" is parquet; otherwise,
// after a BOM and blanks, '[' is json, '{' is jsonl, and anything else is text.
func DetectByMagic(head []byte) (job.Format, Compression) {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return "", CompressionGzip
	case bytes.HasPrefix(head, magicZstd):
		return "", CompressionZstd
	case bytes.HasPrefix(head, magicParquet):
		return job.FormatParquet, CompressionNone
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, bom), " \t\r\n")
	switch {
	case len(t) > 0 && t[0] == '[':
		return job.FormatJSON, CompressionNone
	case len(t) > 0 && t[0] == '{':
		return job.FormatJSONL, CompressionNone
	}
	return job.FormatText, CompressionNone
}
