package planner

import (
	"bytes"
	"path/filepath"
	"strings"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

var compressionExt = map[string]shard.Compression{
	".gz":   shard.CompressionGzip,
	".gzip": shard.CompressionGzip,
	".zst":  shard.CompressionZstd,
	".zstd": shard.CompressionZstd,
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
func splitName(name string) (string, shard.Compression) {
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
func DetectByName(name string) (job.Format, shard.Compression) {
	ext, c := splitName(name)
	if ext == ".arrow" && c == shard.CompressionNone {
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
func DetectByMagic(head []byte) (job.Format, shard.Compression) {
	switch {
	case bytes.HasPrefix(head, magicGzip):
		return "", shard.CompressionGzip
	case bytes.HasPrefix(head, magicZstd):
		return "", shard.CompressionZstd
	case bytes.HasPrefix(head, magicParquet):
		return job.FormatParquet, shard.CompressionNone
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, bom), " \t\r\n")
	switch {
	case len(t) > 0 && t[0] == '[':
		return job.FormatJSON, shard.CompressionNone
	case len(t) > 0 && t[0] == '{':
		return job.FormatJSONL, shard.CompressionNone
	}
	return job.FormatText, shard.CompressionNone
}
