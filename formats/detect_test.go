package formats

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Signatures as they start real files.
const (
	headGzip        = "\x1f\x8b\x08\x00\x00\x00\x00\x00"
	headZstd        = "\x28\xb5\x2f\xfd\x24\x00"
	headParquet     = "PAR1\x15\x04\x15"
	headArrowFile   = "ARROW1\x00\x00\xff\xff\xff\xff"
	headArrowStream = "\xff\xff\xff\xff\xb8\x00\x00\x00\x10\x00"
)

func TestDetectBytes(t *testing.T) {
	tests := []struct {
		head, name string
		f          Format
		c          Compression
		magic      string
		conflict   string // a substring of Conflict; "" wants none
	}{
		// Every extension, with content that has no signature.
		{`{"a":1}`, "a.jsonl", FormatJSONL, CompressionNone, "", ""},
		{`{"a":1}`, "a.ndjson", FormatJSONL, CompressionNone, "", ""},
		{`[{"a":1}]`, "a.json", FormatJSONArray, CompressionNone, "", ""},
		{`{"a":1}`, "a.json", FormatJSONL, CompressionNone, "", ""},
		{"hello", "a.json", FormatText, CompressionNone, "", ""},
		{"text\nx\n", "a.csv", FormatCSV, CompressionNone, "", ""},
		{"# title", "a.txt", FormatText, CompressionNone, "", ""},
		{"# title", "a.text", FormatText, CompressionNone, "", ""},
		{"# title", "A.MD", FormatText, CompressionNone, "", ""},
		{`{"a":1}`, "a.txt", FormatText, CompressionNone, "", ""}, // text formats keep their name
		{"[1]", "a.jsonl", FormatJSONL, CompressionNone, "", ""},
		// Names that say nothing: the text is sniffed.
		{"\xef\xbb\xbf\n [1]", "README", FormatJSONArray, CompressionNone, "", ""},
		{"\t{\"a\":1}", "blob", FormatJSONL, CompressionNone, "", ""},
		{"hello", "blob", FormatText, CompressionNone, "", ""},
		{"", "blob", FormatText, CompressionNone, "", ""},
		// Binary names without their signature are left to their reader.
		{"not parquet", "a.parquet", FormatParquet, CompressionNone, "", ""},
		{"not parquet", "a.pq", FormatParquet, CompressionNone, "", ""},
		{"", "a.arrow", FormatHF, CompressionNone, "", ""},
		{`{"a":1}`, "a.jsonl.gz", FormatJSONL, CompressionGzip, "", ""},
		{"", "a.jsonl.zst", FormatJSONL, CompressionZstd, "", ""},
		{"", "a.gz", FormatAuto, CompressionGzip, "", ""},
		// Every signature under its own name.
		{headParquet, "a.parquet", FormatParquet, CompressionNone, MagicParquet, ""},
		{headParquet, "a.PQ", FormatParquet, CompressionNone, MagicParquet, ""},
		{headArrowStream, "data-00000-of-00001.arrow", FormatHF, CompressionNone, MagicArrowStream, ""},
		{headArrowFile, "a.arrow", FormatHF, CompressionNone, MagicArrowFile, ""},
		{headGzip, "a.jsonl.gz", FormatJSONL, CompressionGzip, MagicGzip, ""},
		{headGzip, "a.ndjson.gzip", FormatJSONL, CompressionGzip, MagicGzip, ""},
		{headGzip, "a.CSV.GZ", FormatCSV, CompressionGzip, MagicGzip, ""},
		{headGzip, "a.txt.gz", FormatText, CompressionGzip, MagicGzip, ""},
		{headGzip, "a.json.gz", FormatAuto, CompressionGzip, MagicGzip, ""},
		{headGzip, "a.gz", FormatAuto, CompressionGzip, MagicGzip, ""},
		{headZstd, "a.jsonl.zst", FormatJSONL, CompressionZstd, MagicZstd, ""},
		{headZstd, "a.md.zstd", FormatText, CompressionZstd, MagicZstd, ""},
		{headZstd, "a.zst", FormatAuto, CompressionZstd, MagicZstd, ""},
		// Every signature under a name that says nothing: no conflict.
		{headParquet, "blob", FormatParquet, CompressionNone, MagicParquet, ""},
		{headArrowStream, "blob", FormatHF, CompressionNone, MagicArrowStream, ""},
		{headArrowFile, "blob.bin", FormatHF, CompressionNone, MagicArrowFile, ""},
		{headGzip, "blob", FormatAuto, CompressionGzip, MagicGzip, ""},
		{headZstd, "blob", FormatAuto, CompressionZstd, MagicZstd, ""},
		// Mismatches: the signature wins and Conflict says so.
		{headParquet, "out.jsonl", FormatParquet, CompressionNone, MagicParquet, "the content is Parquet, not what its name's .jsonl says"},
		{headParquet, "out.json", FormatParquet, CompressionNone, MagicParquet, ".json says"},
		{headParquet, "out.csv.gz", FormatParquet, CompressionNone, MagicParquet, ".csv.gz says"},
		{headParquet, "out.arrow", FormatParquet, CompressionNone, MagicParquet, ".arrow says"},
		{headArrowStream, "out.jsonl", FormatHF, CompressionNone, MagicArrowStream, "the content is Arrow IPC stream"},
		{headArrowFile, "out.parquet", FormatHF, CompressionNone, MagicArrowFile, "the content is Arrow IPC file"},
		{headGzip, "a.jsonl", FormatJSONL, CompressionGzip, MagicGzip, "the content is gzip, not what its name's .jsonl says"},
		{headGzip, "a.jsonl.zst", FormatJSONL, CompressionGzip, MagicGzip, ".jsonl.zst says"},
		{headZstd, "a.csv.gz", FormatCSV, CompressionZstd, MagicZstd, "the content is zstd"},
		{headZstd, "a.gz", FormatAuto, CompressionZstd, MagicZstd, "not what its name's .gz says"},
		{headGzip, "a.parquet", FormatParquet, CompressionGzip, MagicGzip, ".parquet says"},
		// Near misses of the signatures.
		{"\xff\xff\xff\xff\x03\x00\x00\x00", "blob", FormatText, CompressionNone, "", ""}, // length not padded to 8
		{"\xff\xff\xff\xff\x00\x00\x00\x00", "blob", FormatText, CompressionNone, "", ""}, // the end-of-stream marker
		{"\xff\xff\xff\xff", "blob", FormatText, CompressionNone, "", ""},
		{"ARROW1 is a name", "blob", FormatText, CompressionNone, "", ""},
		{"PAR", "blob", FormatText, CompressionNone, "", ""},
		{"\x1f", "blob", FormatText, CompressionNone, "", ""},
		{"\x28\xb5\x2f", "blob", FormatText, CompressionNone, "", ""},
	}
	for _, tt := range tests {
		d := DetectBytes([]byte(tt.head), filepath.Join("dir.parquet", tt.name))
		if d.Format != tt.f || d.Compression != tt.c || d.Magic != tt.magic {
			t.Errorf("DetectBytes(%q, %q) = %v, %v, magic %q; want %v, %v, magic %q",
				tt.head, tt.name, d.Format, d.Compression, d.Magic, tt.f, tt.c, tt.magic)
		}
		if tt.conflict == "" && d.Conflict != "" || !strings.Contains(d.Conflict, tt.conflict) {
			t.Errorf("DetectBytes(%q, %q).Conflict = %q, want %q", tt.head, tt.name, d.Conflict, tt.conflict)
		}
	}
}

func TestDetectName(t *testing.T) {
	tests := []struct {
		name  string
		f     Format
		c     Compression
		known bool
	}{
		{"a.jsonl", FormatJSONL, CompressionNone, true},
		{"A.JSONL.GZ", FormatJSONL, CompressionGzip, true},
		{"a.jsonl.gzip", FormatJSONL, CompressionGzip, true},
		{"a.ndjson.zst", FormatJSONL, CompressionZstd, true},
		{"a.txt.zstd", FormatText, CompressionZstd, true},
		{"a.json", FormatAuto, CompressionNone, true},
		{"a.json.gz", FormatAuto, CompressionGzip, true},
		{"a.parquet", FormatParquet, CompressionNone, true},
		{"x.arrow", FormatHF, CompressionNone, true},
		{"a.gz", FormatAuto, CompressionGzip, false},
		{"README", FormatAuto, CompressionNone, false},
		{"a.npy", FormatAuto, CompressionNone, false},
		{"dir.jsonl/README", FormatAuto, CompressionNone, false},
	}
	for _, tt := range tests {
		if f, c, known := DetectName(tt.name); f != tt.f || c != tt.c || known != tt.known {
			t.Errorf("DetectName(%q) = %v, %v, %v; want %v, %v, %v", tt.name, f, c, known, tt.f, tt.c, tt.known)
		}
	}
}

// TestDetect checks detection of real files and directories, compressed content included:
// the format under a compression that the name does not tell comes from the decompressed bytes.
func TestDetect(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`[{"text": "a"}]`))
	zw.Close()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zstdJSONL := enc.EncodeAll([]byte("{\"text\": \"a\"}\n"), nil)
	doubled := enc.EncodeAll(gz.Bytes(), nil)
	enc.Close()
	pq := []byte(headParquet) // the signature is what detection reads
	os.Mkdir(filepath.Join(dir, "plain"), 0o755)
	tests := []struct {
		path     string
		f        Format
		c        Compression
		conflict bool
		err      string
	}{
		{write("array.json.gz", gz.Bytes()), FormatJSONArray, CompressionGzip, false, ""},
		{write("blob", gz.Bytes()), FormatJSONArray, CompressionGzip, false, ""},
		{write("lines.zst", zstdJSONL), FormatJSONL, CompressionZstd, false, ""},
		{write("lines.jsonl", zstdJSONL), FormatJSONL, CompressionZstd, true, ""},
		{write("body.jsonl", pq), FormatParquet, CompressionNone, true, ""},
		{write("empty.json.gz", nil), 0, 0, false, "empty.json.gz"},
		{write("twice.zst", doubled), 0, 0, false, "zstd content compressed again"},
		{"testdata/hf/hf_ricksanchez_val_tokenized", FormatHF, CompressionNone, false, ""},
		{"testdata/hf/hf_datasetdict_roberta_sentiment", FormatHF, CompressionNone, false, ""},
		{"testdata/hf/hf_ricksanchez_val_tokenized/data-00000-of-00001.arrow", FormatHF, CompressionNone, false, ""},
		{filepath.Join(dir, "plain"), 0, 0, false, "is not a Hugging Face dataset"},
		{filepath.Join(dir, "missing.jsonl"), 0, 0, false, "missing.jsonl: no such file"},
	}
	for _, tt := range tests {
		d, err := Detect(tt.path)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("Detect(%s) error = %v, want one naming the path and saying %q", tt.path, err, tt.err)
			}
			continue
		}
		if err != nil || d.Format != tt.f || d.Compression != tt.c || (d.Conflict != "") != tt.conflict {
			t.Errorf("Detect(%s) = %+v, %v; want %v, %v, conflict %v", tt.path, d, err, tt.f, tt.c, tt.conflict)
		}
	}
}

func TestReadHead(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ content, want string }{
		{"", ""},
		{"PAR1", "PAR1"},
		{strings.Repeat("x", HeadLen), strings.Repeat("x", HeadLen)},
		{strings.Repeat("y", 3*HeadLen), strings.Repeat("y", HeadLen)},
	}
	for i, tt := range tests {
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadHead(p); err != nil || string(got) != tt.want {
			t.Errorf("ReadHead of %d bytes = %q, %v; want %q", len(tt.content), got, err, tt.want)
		}
	}
	for _, p := range []string{filepath.Join(dir, "missing"), dir} {
		if _, err := ReadHead(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("ReadHead(%s) error = %v, want one naming the path", p, err)
		}
	}
}
