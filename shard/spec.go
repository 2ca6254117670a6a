package shard

import "github.com/tokenmill/tokenmill/job"

// Kind says which part of its file a shard covers.
type Kind string

// Kinds.
const (
	KindFile      Kind = "file"       // the whole file
	KindBytes     Kind = "bytes"      // the lines starting in [ByteStart, ByteEnd)
	KindRowGroups Kind = "row_groups" // Parquet row groups [RowGroupStart, RowGroupEnd)
	KindFiles     Kind = "files"      // several small whole files, one after another (Files)
)

// Spec is one unit of work, as planner.Plan returns it. It is a plain value with JSON tags: it
// travels to workers.
type Spec struct {
	// ID is Index zero-padded to the plan's width (at least 6 digits): "000042".
	ID string `json:"id"`
	// Index is the shard's position in the plan, from 0; finalize assembles in this order.
	Index int `json:"index"`
	// Job is the job's name.
	Job string `json:"job"`
	// Path is the input file.
	Path string `json:"path"`
	// Format is the resolved input format.
	Format job.Format `json:"format"`
	// Compression of the file; "" for none.
	Compression Compression `json:"compression,omitempty"`
	// TextField is the field holding the document text.
	TextField string `json:"text_field"`
	// FileSize is the file's size when listed; the executor may check it to catch a file
	// changed since planning.
	FileSize int64 `json:"file_size"`
	// Kind says which of the ranges below applies.
	Kind Kind `json:"kind"`
	// ByteStart and ByteEnd delimit a byte range (KindBytes): the shard owns the lines that
	// start in [ByteStart, ByteEnd).
	ByteStart int64 `json:"byte_start,omitempty"`
	ByteEnd   int64 `json:"byte_end,omitempty"`
	// RowGroupStart and RowGroupEnd delimit Parquet row groups [start, end) (KindRowGroups).
	RowGroupStart int `json:"row_group_start,omitempty"`
	RowGroupEnd   int `json:"row_group_end,omitempty"`
	// RowGroupBytes is the compressed size of those row groups, from the file's metadata:
	// the shard's share of the file, for progress.
	RowGroupBytes int64 `json:"row_group_bytes,omitempty"`
	// DigestStart and DigestEnd delimit the bytes of the file that a KindRowGroups shard
	// fingerprints (the planner's digest windows); empty when DigestEnd <= DigestStart.
	DigestStart int64 `json:"digest_start,omitempty"`
	DigestEnd   int64 `json:"digest_end,omitempty"`
	// StartLine is the 1-based line number of the shard's first line, when known without
	// reading (the first range of a file, whole files); 0 means unknown.
	StartLine int64 `json:"start_line,omitempty"`
	// StartRow is the 0-based index in the file of the shard's first row (Parquet with known
	// row groups, and whole Parquet, CSV and Arrow files).
	StartRow int64 `json:"start_row,omitempty"`
	// Files are the files of a KindFiles shard, in plan order; Path and the fields above
	// describe the first. See Parts.
	Files []Input `json:"files,omitempty"`
}

// Parts returns what s reads, one after another: each file of a KindFiles shard as a
// whole-file shard spec of its own (with the shard's ID and Index), or s itself.
func (s Spec) Parts() []Spec {
	if s.Kind != KindFiles {
		return []Spec{s}
	}
	parts := make([]Spec, len(s.Files))
	for i, f := range s.Files {
		parts[i] = WholeFile(f)
		parts[i].ID, parts[i].Index, parts[i].Job = s.ID, s.Index, s.Job
	}
	return parts
}

// WholeFile is the spec of a shard that reads all of in (no ID, Index or Job yet).
func WholeFile(in Input) Spec {
	s := Spec{Path: in.Path, Format: in.Format, Compression: in.Compression,
		TextField: in.TextField, FileSize: in.Size, Kind: KindFile}
	if in.LineOriented() {
		s.StartLine = 1
	}
	return s
}

// Input is one listed input file.
type Input struct {
	// Path is the file's path: the spec's path (joined to planner.ListOptions.BaseDir when
	// relative).
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

// LineOriented reports whether in's format is one record per line (jsonl, lines), so that
// the file, when uncompressed, splits by byte range.
func (in Input) LineOriented() bool {
	return in.Format == job.FormatJSONL || in.Format == job.FormatLines
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
