package formats

import (
	"fmt"
	"strings"
)

// Format names an input format.
type Format uint8

// The input formats.
const (
	FormatAuto      Format = iota // detect from the content, then the name (DetectBytes)
	FormatJSONL                   // one JSON object per line
	FormatJSONArray               // one JSON array of objects
	FormatParquet                 // a string column of a Parquet file
	FormatCSV                     // a column of a CSV file with a header row
	FormatText                    // the whole file is one document
	FormatLines                   // plain text, one document per line
	FormatHF                      // a Hugging Face save_to_disk directory
)

var formatNames = [...]string{"auto", "jsonl", "json", "parquet", "csv", "text", "lines", "hf"}

func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", f)
}

// ParseFormat parses a format name as String prints it.
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if n == s {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q (want one of %s)", s, strings.Join(formatNames[:], ", "))
}

// Range restricts a line-oriented, uncompressed file to the lines that
// start at a byte offset in [Start, End): a line that starts before Start
// is skipped even when it ends inside; the last line may run past End.
type Range struct {
	Start, End int64 // End < 0: to the end of the file
	// StartLine is the 1-based line number of the first line starting at or
	// after Start, when the caller knows it; 0 makes the reader count the
	// newlines before it (a scan of the whole prefix: O(Start) per range).
	StartLine int64
	// Relative numbers the range's lines from 1 (Record.Line and Row.Line
	// count from the range's first line) instead of scanning the prefix, so
	// that reading a range costs O(End-Start) wherever it lies in the file.
	// The caller turns the numbers absolute, typically by summing the Lines
	// (see LineCounter) of the ranges before. Error messages still name
	// absolute lines: the prefix is counted then, on failure only.
	// StartLine is ignored.
	Relative bool
}

// RowGroups restricts a Parquet file to row groups [Start, End).
type RowGroups struct{ Start, End int }

// Defaults for Options.
const (
	DefaultMaxRecord = 64 << 20
	DefaultPrefixLen = 4096
	DefaultField     = "text"
)

// Options control Open. The zero value reads the whole file, detects the
// format, selects the field "text" and bounds records at 64 MiB.
type Options struct {
	Format Format
	// Field is the text field or column that columnar readers (Parquet,
	// CSV, HF) select into Record.Value. JSON readers leave extraction to
	// the caller.
	Field     string
	Range     *Range     // line-oriented uncompressed files only
	RowGroups *RowGroups // Parquet only
	// MaxRecord bounds one record in bytes (a line, a JSON array element, a
	// CSV row as written in the file); longer ones are returned with TooLong
	// set and skipped without being held in memory.
	MaxRecord int64
	// PrefixLen is how many bytes of a too-long record Raw keeps.
	PrefixLen int
	// Buffers, when not nil, lends its memory to the reader of a byte-stream file (JSONL,
	// lines, JSON arrays, CSV, text; compressed or not) until the reader is closed.
	Buffers *Buffers
}

// WithDefaults returns o with the defaults in place of its zero fields: the field "text",
// DefaultMaxRecord and DefaultPrefixLen (at most MaxRecord).
func (o Options) WithDefaults() Options {
	if o.Field == "" {
		o.Field = DefaultField
	}
	if o.MaxRecord <= 0 {
		o.MaxRecord = DefaultMaxRecord
	}
	if o.PrefixLen <= 0 {
		o.PrefixLen = DefaultPrefixLen
	}
	if int64(o.PrefixLen) > o.MaxRecord {
		o.PrefixLen = int(o.MaxRecord)
	}
	return o
}

// OpenStream opens path, a byte-stream file (JSON Lines, plain lines, a JSON array, CSV or
// text; uncompressed, gzip or zstd), for reading records. The compression and, unless
// opt.Format gives it, the format are detected by DetectBytes, content first; a format still
// unknown under a compression is sniffed from the decompressed bytes. Parquet and Arrow
// content is refused: package formats/input opens every format.
func OpenStream(path string, opt Options) (Reader, error) {
	opt = opt.WithDefaults()
	f, head, err := openHead(path)
	if err != nil {
		return nil, err
	}
	d := DetectBytes(head, path)
	format, comp := d.Format, d.Compression
	if opt.Format != FormatAuto {
		format = opt.Format
	}
	if err := d.CheckReadable(path, format); err != nil {
		f.Close()
		return nil, err
	}
	if format == FormatParquet || format == FormatHF {
		f.Close()
		return nil, fmt.Errorf("%s: cannot read format %v here", path, format)
	}
	if opt.Range != nil && comp != CompressionNone {
		f.Close()
		return nil, fmt.Errorf("%s: byte ranges need an uncompressed file", path)
	}
	if opt.RowGroups != nil {
		f.Close()
		return nil, fmt.Errorf("%s: row groups apply to Parquet only", path)
	}
	src, err := newSource(path, f, comp, opt.Buffers.take())
	if err != nil {
		return nil, err
	}
	if format == FormatAuto {
		head, _ := src.peek(sniffLen)
		format = DetectBytes(head, innerName(path)).Format
	}
	if opt.Range != nil && format != FormatJSONL && format != FormatLines {
		src.Close()
		return nil, fmt.Errorf("%s: byte ranges apply to line-oriented formats, not %v", path, format)
	}
	switch format {
	case FormatJSONL, FormatLines:
		return newLineReader(src, format, opt)
	case FormatJSONArray:
		return newJSONArrayReader(src, opt)
	case FormatCSV:
		return newCSVReader(src, opt)
	case FormatText:
		return newTextReader(src, opt)
	}
	src.Close()
	if err := d.CheckReadable(path, format); err != nil {
		return nil, err // Parquet or Arrow found under the compression
	}
	return nil, fmt.Errorf("%s: cannot read format %v here", path, format)
}

// CheckReadable refuses what no reader takes when the file of detection d is read as
// format: an Arrow IPC file (save_to_disk writes streams), and Parquet or Arrow under a
// whole-file compression (Parquet compresses inside).
func (d Detection) CheckReadable(path string, format Format) error {
	comp := d.Compression
	switch {
	case d.Magic == MagicArrowFile && format == FormatHF:
		return fmt.Errorf("%s: an Arrow IPC file (ARROW1); only Arrow IPC streams, as save_to_disk writes them, are read", path)
	case comp != CompressionNone && (format == FormatParquet || format == FormatHF):
		return fmt.Errorf("%s: %v content under %s compression cannot be read: decompress it first", path, format, comp)
	}
	return nil
}
