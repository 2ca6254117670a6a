package formats

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Compression is a whole-file compression.
type Compression uint8

// The compressions the readers undo.
const (
	CompressionNone Compression = iota
	CompressionGzip
	CompressionZstd
)

var compressionNames = [...]string{"none", "gzip", "zstd"}

func (c Compression) String() string {
	if int(c) < len(compressionNames) {
		return compressionNames[c]
	}
	return fmt.Sprintf("Compression(%d)", c)
}

// HeadLen is how many leading bytes of a file DetectBytes needs to recognise every signature
// it knows; fewer are fine for a shorter file.
const HeadLen = 16

// sniffLen is how many decompressed bytes Detect and Open look at when neither the
// signature nor the name tells the format under a compression.
const sniffLen = 512

// The signatures DetectBytes recognises, as Detection.Magic names them.
const (
	MagicParquet     = "Parquet"          // "PAR1"
	MagicArrowFile   = "Arrow IPC file"   // "ARROW1\0\0"
	MagicArrowStream = "Arrow IPC stream" // a continuation marker 0xFFFFFFFF and a metadata length
	MagicGzip        = "gzip"             // 1f 8b
	MagicZstd        = "zstd"             // 28 b5 2f fd
)

// Detection is what the detector tells of a file.
type Detection struct {
	// Format is the file's format. It is FormatAuto for a compressed file whose signature
	// and name do not tell what is under the compression: DetectBytes cannot know, Detect
	// looks at the decompressed bytes and never returns it.
	Format      Format
	Compression Compression
	// Magic names the signature found at the start of the content, one of the Magic
	// constants; "" when there is none.
	Magic string
	// Conflict, when not "", says how the content contradicts the file's name, e.g.
	// "the content is Parquet, the name says jsonl"; Format and Compression follow the content.
	Conflict string
}

// nameExt maps the data extensions to formats. ".json" maps to FormatAuto: it may hold JSON
// Lines or one JSON array, which only the content tells.
var nameExt = map[string]Format{
	".jsonl":   FormatJSONL,
	".ndjson":  FormatJSONL,
	".json":    FormatAuto,
	".parquet": FormatParquet,
	".pq":      FormatParquet,
	".csv":     FormatCSV,
	".txt":     FormatText,
	".text":    FormatText,
	".md":      FormatText,
	".arrow":   FormatHF,
}

// compressionExt maps the compression extensions to compressions.
var compressionExt = map[string]Compression{
	".gz":   CompressionGzip,
	".gzip": CompressionGzip,
	".zst":  CompressionZstd,
	".zstd": CompressionZstd,
}

// DetectName returns what a file name's extensions say, case-insensitively: the compression
// of its last extension (.gz, .gzip, .zst, .zstd) and the format of the extension under it
// ("a.JSONL.ZST" -> jsonl, zstd; "a.arrow" -> hf, the data file of a save_to_disk
// directory). known reports whether that extension is a data extension (.jsonl, .ndjson,
// .json, .parquet, .pq, .csv, .txt, .text, .md, .arrow); format is FormatAuto when it is not,
// and for .json.
func DetectName(name string) (format Format, comp Compression, known bool) {
	base := strings.ToLower(filepath.Base(name))
	ext := filepath.Ext(base)
	if c, ok := compressionExt[ext]; ok {
		comp = c
		ext = filepath.Ext(strings.TrimSuffix(base, ext))
	}
	format, known = nameExt[ext]
	return format, comp, known
}

// magicOf names the signature at the start of head, with the format or compression it
// stands for; "" when head starts with none of them.
func magicOf(head []byte) (string, Format, Compression) {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return MagicGzip, FormatAuto, CompressionGzip
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return MagicZstd, FormatAuto, CompressionZstd
	case bytes.HasPrefix(head, []byte("PAR1")):
		return MagicParquet, FormatParquet, CompressionNone
	case bytes.HasPrefix(head, []byte("ARROW1\x00\x00")):
		return MagicArrowFile, FormatHF, CompressionNone
	case isArrowStream(head):
		return MagicArrowStream, FormatHF, CompressionNone
	}
	return "", FormatAuto, CompressionNone
}

// isArrowStream reports whether head starts an Arrow IPC stream: the continuation marker,
// then the length of the schema message's metadata, positive and a multiple of 8 as the
// format pads it. No text starts so: 0xFF is never a byte of UTF-8.
func isArrowStream(head []byte) bool {
	if len(head) < 8 || binary.LittleEndian.Uint32(head) != 0xFFFFFFFF {
		return false
	}
	n := binary.LittleEndian.Uint32(head[4:])
	return n > 0 && n%8 == 0 && n < 1<<30
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// sniffText tells a text format from the first bytes of uncompressed content that has no
// signature: after a BOM and blanks, '[' is a JSON array, '{' JSON Lines, anything else
// (nothing included) text.
func sniffText(head []byte) Format {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, bom), " \t\r\n")
	switch {
	case len(head) > 0 && head[0] == '[':
		return FormatJSONArray
	case len(head) > 0 && head[0] == '{':
		return FormatJSONL
	}
	return FormatText
}

// DetectBytes tells a file's format and compression from head, its first bytes (HeadLen
// are enough), and its name, content first:
//   - a signature at the start of the content decides: Parquet and Arrow IPC (file or stream)
//     give their format (Arrow is read as format hf, the data file of a save_to_disk
//     directory); gzip and zstd give the compression, and the format is the one the name
//     says under the compression extension (or its only extension: "a.jsonl" with gzip
//     content is gzip-compressed JSON Lines), FormatAuto when the name does not say;
//   - content without a signature is what the name says, compression included: text formats
//     have no signature, and a file named .parquet or .gz that lacks the signature is left
//     to its reader, which fails naming it, rather than read as text;
//   - uncompressed content of a name that does not tell (.json, unknown or no extension) is
//     sniffed: '[' is a JSON array, '{' JSON Lines, anything else text, as is an empty file.
//
// Conflict is set when a signature contradicts a data extension of the name (a Parquet
// file named .jsonl, gzip content named .zst or named without a compression extension).
func DetectBytes(head []byte, name string) Detection {
	nameFormat, nameComp, known := DetectName(name)
	magic, format, comp := magicOf(head)
	if magic == "" {
		d := Detection{Format: nameFormat, Compression: nameComp}
		if d.Format == FormatAuto && d.Compression == CompressionNone {
			d.Format = sniffText(head)
		}
		return d
	}
	d := Detection{Format: format, Compression: comp, Magic: magic}
	if comp != CompressionNone {
		d.Format = nameFormat
	}
	if comp == CompressionNone && known && nameFormat != format || comp != nameComp && (known || nameComp != CompressionNone) {
		d.Conflict = fmt.Sprintf("the content is %s, not what its name's %s says", magic, NameExt(name))
	}
	return d
}

// NameExt returns the extensions of a file name that DetectName reads, lower-cased:
// ".jsonl", ".jsonl.zst", ".gz", ".bin" ("" for none).
func NameExt(name string) string {
	base := strings.ToLower(filepath.Base(name))
	ext := filepath.Ext(base)
	if _, ok := compressionExt[ext]; ok {
		inner := filepath.Ext(strings.TrimSuffix(base, ext))
		if _, ok := nameExt[inner]; ok {
			return inner + ext
		}
	}
	return ext
}

// Unreadable returns the error of a detection that no reader takes, naming path: an Arrow
// IPC file (save_to_disk writes streams), Parquet or Arrow under a whole-file compression;
// nil otherwise.
func (d Detection) Unreadable(path string) error {
	return d.CheckReadable(path, d.Format)
}

// innerName is a file name without its compression extension: the name of the content
// under the compression.
func innerName(name string) string {
	ext := filepath.Ext(name)
	if _, ok := compressionExt[strings.ToLower(ext)]; ok {
		return strings.TrimSuffix(name, ext)
	}
	return name
}

// Detect tells the format and compression of the file or directory at path; its errors
// name the path. A directory is
// a Hugging Face dataset (format hf) when it holds state.json, dataset_info.json or
// dataset_dict.json, and an error otherwise. A file is detected by DetectBytes from its
// first bytes; when the format under a compression is still unknown, by sniffing the first
// decompressed bytes (a signature, else '[', '{' or text).
func Detect(path string) (Detection, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Detection{}, err
	}
	if fi.IsDir() {
		if IsHFDir(path) {
			return Detection{Format: FormatHF}, nil
		}
		return Detection{}, fmt.Errorf("%s: a directory without state.json, dataset_info.json or dataset_dict.json is not a Hugging Face dataset", path)
	}
	f, head, err := openHead(path)
	if err != nil {
		return Detection{}, err
	}
	d := DetectBytes(head, path)
	if d.Format != FormatAuto {
		f.Close()
		return d, nil
	}
	src, err := newSource(path, f, d.Compression, nil)
	if err != nil {
		return Detection{}, err
	}
	defer src.Close()
	inner, err := src.peek(sniffLen)
	if err != nil {
		return Detection{}, src.readErr("start", err)
	}
	d.Format = DetectBytes(inner, innerName(path)).Format
	if d.Format == FormatAuto {
		return Detection{}, fmt.Errorf("%s: %s content compressed again: decompress it first", path, d.Compression)
	}
	return d, nil
}

// IsHFDir reports whether dir is a Hugging Face save_to_disk directory (state.json,
// dataset_info.json) or DatasetDict (dataset_dict.json).
func IsHFDir(dir string) bool {
	for _, name := range []string{"state.json", "dataset_info.json", "dataset_dict.json"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// ReadHead returns the first HeadLen bytes of the file at path (fewer for a shorter file).
// It costs three system calls where the system allows (open, pread, close: see readHead),
// for the planner, which reads the head of every file it lists.
func ReadHead(path string) ([]byte, error) {
	var head [HeadLen]byte
	n, err := readHead(path, head[:])
	if err != nil {
		return nil, err
	}
	return head[:n:n], nil
}

// openHead opens path and reads its first HeadLen bytes, leaving the file's offset at 0.
func openHead(path string) (*os.File, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	head := make([]byte, HeadLen)
	n, err := f.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, nil, err
	}
	return f, head[:n], nil
}
