package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tinySPM writes a small SentencePiece-style BPE tokenizer.json (Metaspace, byte_fallback, a
// Llama-2 decoder chain and a BOS template) whose ids can be worked out by hand.
func tinySPM(t *testing.T, mutate func(map[string]any)) string {
	t.Helper()
	vocab := map[string]int{"<unk>": 0, "<s>": 1, "</s>": 2}
	for b := 0; b < 256; b++ {
		vocab[fmt.Sprintf("<0x%02X>", b)] = 3 + b
	}
	for i, s := range []string{"▁", "a", "b", "▁a", "ab", "▁ab", "c"} {
		vocab[s] = 259 + i
	}
	doc := map[string]any{
		"version": "1.0",
		"added_tokens": []any{
			map[string]any{"id": 0, "content": "<unk>", "special": true},
			map[string]any{"id": 1, "content": "<s>", "special": true},
			map[string]any{"id": 2, "content": "</s>", "special": true},
		},
		"normalizer":    nil,
		"pre_tokenizer": map[string]any{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": false},
		"post_processor": map[string]any{"type": "TemplateProcessing",
			"single":         []any{map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
			"pair":           []any{},
			"special_tokens": map[string]any{"<s>": map[string]any{"id": "<s>", "ids": []int{1}, "tokens": []string{"<s>"}}}},
		"decoder": map[string]any{"type": "Sequence", "decoders": []any{
			map[string]any{"type": "Replace", "pattern": map[string]any{"String": "▁"}, "content": " "},
			map[string]any{"type": "ByteFallback"},
			map[string]any{"type": "Fuse"},
			map[string]any{"type": "Strip", "content": " ", "start": 1, "stop": 0},
		}},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": "<unk>", "fuse_unk": true,
			"byte_fallback": true, "ignore_merges": false, "vocab": vocab,
			"merges": []string{"▁ a", "a b", "▁a b"}},
	}
	if mutate != nil {
		mutate(doc)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHFTokenizer_SentencePieceStyle(t *testing.T) {
	tk, err := Load(tinySPM(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		opts Options
		want []uint32
	}{
		// "ab ab" -> "▁ab▁ab": ▁+a merges first (rank 0, leftmost), then ▁a+b (rank 2).
		{"ab ab", Options{}, []uint32{264, 264}},
		{"ab ab", Options{AddSpecialTokens: true}, []uint32{1, 264, 264}},
		// é is not in the vocabulary: its two UTF-8 bytes fall back to <0xC3><0xA9>.
		{"aé", Options{}, []uint32{262, 3 + 0xC3, 3 + 0xA9}},
		// "c" is in the vocabulary, "ab" merges: ▁ c a b -> ▁, c, ab.
		{"cab", Options{}, []uint32{259, 265, 263}},
		// Special tokens in text are plain text unless allowed; "<s>" is then bytes and chars.
		{"<s>a", Options{AllowSpecial: true}, []uint32{1, 260}},
	}
	for _, c := range cases {
		got := tk.Append(nil, c.text, c.opts)
		if !slices.Equal(got, c.want) {
			t.Errorf("Append(%q, %+v) = %v, want %v", c.text, c.opts, got, c.want)
		}
	}
	for _, text := range []string{"ab ab", "aé", "cab", "a b  c"} {
		ids := tk.Encode(text)
		back, err := tk.Decode(ids)
		if err != nil || string(back) != text {
			t.Errorf("Decode(Encode(%q)) = %q, %v", text, back, err)
		}
	}
	if pre, suf := tk.PostProcessorAdds(); !slices.Equal(pre, []uint32{1}) || len(suf) != 0 {
		t.Errorf("PostProcessorAdds = %v, %v; want [1], []", pre, suf)
	}
	if id, ok := tk.BOS(); !ok || id != 1 {
		t.Errorf("BOS = %d, %v", id, ok)
	}
	if id, ok := tk.EOS(); !ok || id != 2 {
		t.Errorf("EOS = %d, %v", id, ok)
	}
}

func TestHFTokenizer_UnknownFused(t *testing.T) {
	tk, err := Load(tinySPM(t, func(doc map[string]any) {
		doc["model"].(map[string]any)["byte_fallback"] = false
	}))
	if err != nil {
		t.Fatal(err)
	}
	// Without byte fallback, the two unknown characters fuse into one <unk>.
	if got, want := tk.Encode("aéé"), []uint32{262, 0}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

func TestHFTokenizer_RefusesUnsupported(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(map[string]any)
		want   string
	}{
		{"model", func(d map[string]any) { d["model"].(map[string]any)["type"] = "WordPiece" }, "WordPiece"},
		{"dropout", func(d map[string]any) { d["model"].(map[string]any)["dropout"] = 0.1 }, "dropout"},
		{"normalizer", func(d map[string]any) { d["normalizer"] = map[string]any{"type": "Precompiled"} }, "Precompiled"},
		{"pre_tokenizer", func(d map[string]any) { d["pre_tokenizer"] = map[string]any{"type": "UnicodeScripts2"} }, "UnicodeScripts2"},
		{"decoder", func(d map[string]any) { d["decoder"] = map[string]any{"type": "CTC"} }, "CTC"},
		{"merge", func(d map[string]any) { d["model"].(map[string]any)["merges"] = []string{"x y"} }, "not in the vocab"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(tinySPM(t, c.mutate))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: err = %v, want one naming %q", err, c.want)
			}
		})
	}
}

// TestHFTokenizer_GeneralPathMatchesFast forces Llama 3's tokenizer.json off the scanner fast
// path (an empty normalizer sequence) and checks the general pipeline gives the golden ids.
func TestHFTokenizer_GeneralPathMatchesFast(t *testing.T) {
	src := decompressTestJSON(t, "llama3")
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["normalizer"] = json.RawMessage(`{"type":"Sequence","normalizers":[]}`)
	raw, _ = json.Marshal(doc)
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if tk.hf.fast {
		t.Fatal("expected the general path")
	}
	for i, g := range readGolden(t, "llama3.jsonl") {
		if got := tk.Encode(g.Text); !slices.Equal(got, g.IDs) {
			t.Fatalf("case %d %.60q: got %v want %v", i, g.Text, head(got), head(g.IDs))
		}
	}
}

func TestHFTokenizer_Llama3PostProcessor(t *testing.T) {
	tk := loadTest(t, "llama3")
	got := tk.Append(nil, "Hello", Options{AddSpecialTokens: true})
	if want := []uint32{128000, 9906}; !slices.Equal(got, want) {
		t.Errorf("with specials: %v, want %v", got, want)
	}
	if pre, _ := tk.PostProcessorAdds(); !slices.Equal(pre, []uint32{128000}) {
		t.Errorf("PostProcessorAdds prefix = %v", pre)
	}
	if id, ok := tk.EOS(); !ok || id != 128001 {
		t.Errorf("EOS = %d %v, want 128001", id, ok)
	}
}
