package jsonscan

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// benchSample is the HumanEval sample of the formats package's test data: JSON Lines whose
// "prompt" field is source code with escapes.
func benchSample(b *testing.B) string {
	return filepath.Join(testutil.RepoRoot(b), "formats", "testdata", "real", "humaneval-rs.jsonl")
}

func BenchmarkExtractString(b *testing.B) {
	src, err := os.ReadFile(benchSample(b))
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(src), []byte("\n"))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if _, k, _ := ExtractString(l, "prompt"); k != FieldOK {
				b.Fatal(k)
			}
		}
	}
}

// BenchmarkStringBytes is the pipeline's per-record extraction (validate the whole record,
// return the text field decoded) on the benchmark corpus when TOKENMILL_BENCH_CORPUS names
// it (make bench builds it: Go sources, escape-dense), else on the HumanEval sample.
func BenchmarkStringBytes(b *testing.B) {
	path, field := benchSample(b), "prompt"
	if p := os.Getenv("TOKENMILL_BENCH_CORPUS"); p != "" {
		path, field = p, "text"
	}
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(src), []byte("\n"))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		for _, l := range lines {
			var k FieldKind
			if _, buf, k, _ = StringBytes(buf, l, field); k != FieldOK {
				b.Fatal(k)
			}
		}
	}
}
