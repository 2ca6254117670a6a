package formats

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/tokenmill/tokenmill/internal/jsonscan"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// benchJSONL builds an ~8 MB JSONL file by repeating a real corpus.
func benchJSONL(b *testing.B) (string, []byte) {
	b.Helper()
	src, err := os.ReadFile("testdata/real/humaneval-rs.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat(src, 8<<20/len(src)+1)
	return testutil.WriteFile(b, "bench.jsonl", data), data
}

func BenchmarkReader_JSONL(b *testing.B) {
	p, data := benchJSONL(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		eachRecord(b, p, Options{}, func(Record) {})
	}
}

func BenchmarkReader_JSONLExtract(b *testing.B) {
	p, data := benchJSONL(b)
	b.SetBytes(int64(len(data)))
	var buf []byte
	for b.Loop() {
		eachRecord(b, p, Options{}, func(rec Record) {
			var err error
			if buf, _, err = jsonscan.AppendString(buf[:0], rec.Raw, "prompt"); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkReadCorpusZstd is the read side of a pipeline run on its own: open each
// part-*.jsonl.zst of TOKENMILL_BENCH_ZST_DIR (make bench writes them), decompress, split
// lines, validate each record and extract its text field. MB/s counts the documents' text,
// as the pipeline's figures do, so that read and tokenize times add up per byte of text.
func BenchmarkReadCorpusZstd(b *testing.B) {
	dir := os.Getenv("TOKENMILL_BENCH_ZST_DIR")
	if dir == "" {
		b.Skip("TOKENMILL_BENCH_ZST_DIR is not set (make bench sets it)")
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "part-*.jsonl.zst"))
	if len(paths) == 0 {
		b.Fatalf("no part-*.jsonl.zst in %s", dir)
	}
	read := func() (text int64) {
		var buf []byte
		for _, p := range paths {
			eachRecord(b, p, Options{}, func(rec Record) {
				v, nbuf, k, err := jsonscan.StringBytes(buf, rec.Raw, "text")
				if k != jsonscan.FieldOK {
					b.Fatalf("%s: %v %v", p, k, err)
				}
				if !utf8.Valid(v) {
					b.Fatalf("%s: invalid UTF-8", p)
				}
				buf = nbuf
				text += int64(len(v))
			})
		}
		return text
	}
	b.SetBytes(read())
	for b.Loop() {
		read()
	}
}
