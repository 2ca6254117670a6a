package main

import (
	"io"
	"os"
	"testing"

	"github.com/tokenmill/tokenmill/tokenizer"
)

// BenchmarkTokenizeStream measures the tokenize command's whole path (JSONL chunking, field
// extraction, encoding, output formatting) on the benchmark corpus, one encoding goroutine.
func BenchmarkTokenizeStream(b *testing.B) {
	path := "../../testdata/bench/corpus.jsonl"
	data, err := os.ReadFile(path)
	if err != nil {
		b.Skipf("benchmark corpus missing (make bench builds it): %v", err)
	}
	tk, err := tokenizer.Load("cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := tokenizeStream(&sliceReader{data: data}, io.Discard, tk, tokenizeOptions{field: "text", workers: 1, source: path})
		if err != nil {
			b.Fatal(err)
		}
	}
}

type sliceReader struct{ data []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}
