package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mistralModel decompresses the tokenizer package's SentencePiece model into dir.
func mistralModel(t *testing.T, dir string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "tokenizer", "testdata", "mistral-v0.3.model.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "mistral-v0.3.model")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCLI_SentencePieceModel runs tokenizer info and tokenize on a SentencePiece .model; the
// ids are those of the SentencePiece library (python3-sentencepiece) for the same texts (with
// --special, [3] + the library's ids of " 你好 " + [4]).
func TestCLI_SentencePieceModel(t *testing.T) {
	dir := t.TempDir()
	model := mistralModel(t, dir)

	info := runBinary(t, "", "", "tokenizer", "info", model)
	if info.Code != 0 {
		t.Fatalf("tokenizer info: exit %d: %s", info.Code, info.Stderr)
	}
	for _, want := range []string{"name:        mistral-v0.3\n", "kind:        sentencepiece\n",
		"vocab size:  32768\n", "eos:         2\n", "bos:         1\n", "pattern:     SentencePiece BPE (normalizer identity,",
		"byte_fallback true)", "specials:    771\n", "        3  [INST]\n"} {
		if !strings.Contains(info.Stdout, want) {
			t.Errorf("tokenizer info lacks %q:\n%s", want, info.Stdout)
		}
	}

	in := "{\"text\":\"Hello, world!\"}\n{\"text\":\"  hello  world\"}\n\n{\"text\":\"[INST] 你好 [/INST]\"}\n"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tokenize", "--tokenizer", model},
			"{\"ids\":[23325,29493,2294,29576]}\n{\"ids\":[1027,7080,29477,29473,2294]}\n{\"ids\":[]}\n" +
				"{\"ids\":[1501,17057,29561,29473,30151,30298,1501,29516,17057,29561]}\n"},
		{[]string{"tokenize", "--tokenizer", model, "--special"},
			"{\"ids\":[23325,29493,2294,29576]}\n{\"ids\":[1027,7080,29477,29473,2294]}\n{\"ids\":[]}\n" +
				"{\"ids\":[3,1027,30151,30298,29473,4]}\n"},
	} {
		res := runBinary(t, "", in, c.args...)
		if res.Code != 0 || res.Stdout != c.want {
			t.Errorf("%v: exit %d\n got %s\nwant %s\nstderr %s", c.args, res.Code, res.Stdout, c.want, res.Stderr)
		}
	}

	// A Unigram model (one <unk> piece, trainer_spec.model_type UNIGRAM) is refused by name.
	unigram := filepath.Join(dir, "unigram.model")
	if err := os.WriteFile(unigram, []byte("\x0a\x09\x0a\x05<unk>\x18\x02\x12\x02\x18\x01"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runBinary(t, "", "", "tokenize", "--tokenizer", unigram)
	if want := "SentencePiece UNIGRAM model is not supported (only BPE)"; res.Code != 1 || !strings.Contains(res.Stderr, want) {
		t.Errorf("tokenize on a Unigram model: exit %d, stderr %q; want exit 1 and %q", res.Code, res.Stderr, want)
	}
}
