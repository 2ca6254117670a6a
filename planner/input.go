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
	return f == job.FormatJSONL || f == job.FormatText
}

var compressionExt = map[string]Compression{
	".gz":   CompressionGzip,
	".gzip": CompressionGzip,
	".zst":  CompressionZstd,
	".zstd": CompressionZstd,
}

var formatExt = map[string]job.Format{
	".jsonl":   job.FormatJSONL,
	".ndjson":  job.FormatJSONL,
	".json":    job.FormatJSONL, // as Hugging Face and Dolma use it: one object per line
	".parquet": job.FormatParquet,
	".pq":      job.FormatParquet,
	".csv":     job.FormatCSV,
	".txt":     job.FormatText,
	".text":    job.FormatText,
	".arrow":   job.FormatHF,
}

// DetectByName returns the format and compression that a file name's extensions say, e.g.
// "a.jsonl.zst" -> jsonl, zstd. The format is "" when the name does not tell it.
func DetectByName(name string) (job.Format, Compression) {
	base := strings.ToLower(filepath.Base(name))
	ext := filepath.Ext(base)
	c, ok := compressionExt[ext]
	if ok {
		base = strings.TrimSuffix(base, ext)
		ext = filepath.Ext(base)
	}
	return formatExt[ext], c
}

// Magic numbers.
var (
	magicGzip    = []byte{0x1f, 0x8b}
	magicZstd    = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicParquet = []byte("PAR1")
	magicArrow   = []byte("ARROW1")
	magicStream  = []byte{0xff, 0xff, 0xff, 0xff} // Arrow IPC stream continuation marker
)

// DetectByMagic guesses the format and compression from a file's first bytes (16 are plenty).
// Compressed content's inner format cannot be told: format is "" then. Uncompressed content
// whose first non-blank byte is '{' is jsonl; anything else unknown ("").
func DetectByMagic(head []byte) (job.Format, Compression) {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return "", CompressionGzip
	case bytes.HasPrefix(head, magicZstd):
		return "", CompressionZstd
	case bytes.HasPrefix(head, magicParquet):
		return job.FormatParquet, CompressionNone
	case bytes.HasPrefix(head, magicArrow), bytes.HasPrefix(head, magicStream):
		return job.FormatHF, CompressionNone
	}
	if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		return job.FormatJSONL, CompressionNone
	}
	return "", CompressionNone
}
