package shard

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// TestFraming_PostProcessorBOSNotDoubled uses Llama 3's tokenizer.json, whose post-processor
// adds <|begin_of_text|>: with bos: true a document starts with exactly one BOS, and with
// bos: false there is none and a warning says so.
func TestFraming_PostProcessorBOSNotDoubled(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir()) // the tokenizer's load cache
	src := filepath.Join("..", "tokenizer", "testdata", "llama3.tokenizer.json.gz")
	f, err := os.Open(src)
	if err != nil {
		t.Fatalf("no Llama 3 tokenizer: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	out, _ := os.Create(path)
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	out.Close()
	tk, err := tokenizer.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	prefix, _ := tk.PostProcessorAdds()
	bos, ok := tk.BOS()
	if len(prefix) == 0 || !ok {
		t.Fatalf("tokenizer has no post-processor BOS (prefix %v)", prefix)
	}
	tests := []struct {
		name     string
		bos      bool
		wantBOS  int
		warnings int
	}{
		{"bos true", true, 1, 0},
		{"bos false", false, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := job.DefaultSpec()
			spec.BOS = tt.bos
			fr, err := NewFraming(spec, tk)
			if err != nil {
				t.Fatal(err)
			}
			ids := fr.Encode(nil, []byte("Hello world"))
			n := 0
			for _, id := range ids {
				if id == bos {
					n++
				}
			}
			if n != tt.wantBOS || (tt.bos && ids[0] != bos) {
				t.Errorf("ids %v: %d BOS, want %d", ids, n, tt.wantBOS)
			}
			if got := len(fr.Warnings(spec)); got != tt.warnings {
				t.Errorf("%d warnings, want %d", got, tt.warnings)
			}
		})
	}
}
