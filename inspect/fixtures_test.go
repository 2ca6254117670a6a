package inspect

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/npy"
	"github.com/tokenmill/tokenmill/formats/parquet"
	"github.com/tokenmill/tokenmill/shard"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// The datasets of formats/testdata that datasets.save_to_disk wrote.
const (
	rickDir = "../formats/testdata/hf/hf_ricksanchez_val_tokenized"     // input_ids of gpt2, 308 rows
	dictDir = "../formats/testdata/hf/hf_datasetdict_roberta_sentiment" // train, validation, test
	xturing = "../formats/testdata/hf/xturing-tiny"
)

// gpt2 token ids of "abcd" and "efgh".
var abcd, efgh = []int64{64, 65, 66, 67}, []int64{68, 69, 70, 71}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeNpy writes rows with npy.Create, as a job does (cols 0: a 1-D array).
func writeNpy(t *testing.T, path string, dtype formats.DType, cols int, rows ...[]int64) string {
	t.Helper()
	w, err := npy.Create(path, dtype, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow64(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeHF writes rows of token ids as an HF save_to_disk directory, as a job does.
func writeHF(t *testing.T, dir string, dtype formats.DType, rows ...[]int64) string {
	t.Helper()
	w, err := hf.Create(dir, hf.Options{DType: dtype, Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow64(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeParquet writes records of a text string and a label float64 column.
func writeParquet(t *testing.T, path string, recs ...map[string]any) string {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "label", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	w, err := parquet.Create(path, schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// gpt2SHA256 is the vocabulary hash a manifest records for gpt2.
func gpt2SHA256(t *testing.T) string {
	t.Helper()
	tk, err := tokenizer.Load("gpt2")
	if err != nil {
		t.Fatal(err)
	}
	return tk.SHA256()
}

// writeJob writes the output of a job with gpt2, int32 and one sequence length of 4: train_4
// (abcd, efgh) and an empty val_4, each as an HF directory and a .npy, and its manifest.json
// after edit changes it. It returns the output directory.
func writeJob(t *testing.T, dir string, edit func(*shard.Manifest)) string {
	t.Helper()
	writeHF(t, filepath.Join(dir, "train_4"), formats.Int32, abcd, efgh)
	writeNpy(t, filepath.Join(dir, "train_4.npy"), formats.Int32, 4, abcd, efgh)
	writeHF(t, filepath.Join(dir, "val_4"), formats.Int32)
	writeNpy(t, filepath.Join(dir, "val_4.npy"), formats.Int32, 4)
	m := shard.Manifest{
		FormatVersion:  1,
		Job:            json.RawMessage(`{"name":"tiny","tokenizer":"gpt2"}`),
		JobFingerprint: "0123456789abcdef0123",
		Tokenizer:      shard.TokenizerInfo{Name: "gpt2", SHA256: gpt2SHA256(t), VocabSize: 50257},
		DType:          "int32",
		Inputs:         []shard.InputInfo{{Path: "corpus.jsonl", Size: 99, CRC32C: "0badf00d"}},
		Documents:      shard.Counts{Read: 3, Written: 2, Rejected: 1},
		Tokens:         shard.Tokens{Train: 8},
		Buckets: []shard.BucketInfo{
			{Split: "train", SeqLen: 4, Sequences: 2, Paths: []string{"train_4", "train_4.npy"}},
			{Split: "val", SeqLen: 4, Sequences: 0, Paths: []string{"val_4", "val_4.npy"}},
		},
		Rejects: shard.RejectsInfo{Path: "rejects.jsonl", Count: 1},
	}
	if edit != nil {
		edit(&m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "manifest.json"), string(b))
	return dir
}
