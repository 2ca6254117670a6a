package tokenizer

import (
	"encoding/json"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestChunkSplit_BuiltinsSelfMerge: every token of the built-in vocabularies merges back to
// itself from its bytes, which splitting long pieces relies on (a chunk that is a token is
// encoded as that token).
func TestChunkSplit_BuiltinsSelfMerge(t *testing.T) {
	for _, name := range []string{"r50k_base", "p50k_base", "cl100k_base", "o200k_base"} {
		t.Run(name, func(t *testing.T) {
			m := loadTest(t, name).model
			if m.split == nil {
				t.Fatal("built-in without a splitter")
			}
			st := newState()
			for id := range uint32(m.tokens.len()) {
				s := m.tokens.at(id)
				if len(s) < 2 {
					continue
				}
				if ids := m.merge(st, s); len(ids) != 1 || ids[0] != id {
					t.Fatalf("token %d %q merges to %v", id, s, ids)
				}
			}
		})
	}
}

// TestChunkSplit_SameAsWhole: every piece of the multilingual sample and of hand-picked texts
// gets the same ids split at its cuts as merged whole.
func TestChunkSplit_SameAsWhole(t *testing.T) {
	texts := []string{
		"日本語の文章には空白がないので、一つの文が一つの断片になることがある。",
		"中华人民共和国是一个位于东亚的社会主义国家，首都为北京。",
		"Привет, как дела? Всё хорошо, спасибо!",
		"ÀÉÎÕÜàéîõü ñandú Größenwahnsinnig żółć",
		"\xe6\x97\xa5\xff\xe6\x9c\xac\x80語 invalid bytes 日\xe6本",
		"👨‍👩‍👧‍👦🏳️‍🌈🇯🇵 emoji 😀😃😄",
	}
	for _, d := range readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz")) {
		texts = append(texts, d.Text)
	}
	for _, name := range []string{"cl100k_base", "o200k_base"} {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			m := tk.model
			bt := newBoundaryTable(m.tokens, false, false)
			st := newState()
			pieces, cut := 0, 0
			for _, text := range texts {
				for _, sp := range tk.scan.appendMatches(nil, text) {
					piece := text[sp.start:sp.end]
					cuts := bt.appendCuts(nil, piece)
					if len(cuts) == 0 {
						continue
					}
					pieces++
					cut += len(cuts)
					whole := slices.Clone(m.merge(st, piece))
					var parts []uint32
					start := 0
					for _, c := range append(cuts, int32(len(piece))) {
						parts = append(parts, m.merge(st, piece[start:c])...)
						start = int(c)
					}
					if !slices.Equal(whole, parts) {
						t.Fatalf("%q cut at %v: %v, whole %v", piece, cuts, parts, whole)
					}
				}
			}
			if pieces == 0 {
				t.Fatal("no piece was cut")
			}
			t.Logf("%d pieces cut at %d places", pieces, cut)
		})
	}
}

// BenchmarkBoundaryTable: building the table of cuts, which a tokenizer does once it meets
// enough long non-ASCII pieces.
func BenchmarkBoundaryTable(b *testing.B) {
	for _, name := range []string{"cl100k_base", "o200k_base"} {
		b.Run(name, func(b *testing.B) {
			tk := loadTest(b, name)
			for b.Loop() {
				newBoundaryTable(tk.model.tokens, false, false)
			}
		})
	}
}

// TestDecodeChar: decodeChar agrees with utf8.DecodeRuneInString on valid and invalid input.
func TestDecodeChar(t *testing.T) {
	for _, s := range []string{"日", "é", "😀", "\xe6\x97", "\xed\xa0\x80", "\xe0\x80\x80", "\xef\xbf\xbd", "\xe6\x97\x41", "\xff", "ࠀ", "я", "\xc0\x80", "\xc1\xbf", "\xc2\x80", "\xd0", "\xd0\x41", "\xf4\x90\x80\x80"} {
		r, w, ok := decodeChar(s, 0)
		wr, ww := utf8.DecodeRuneInString(s)
		if r != wr || w != ww || ok != (wr != utf8.RuneError || ww > 1) {
			t.Errorf("%q: decodeChar = %U %d %v, utf8 %U %d", s, r, w, ok, wr, ww)
		}
	}
}

// spTokenizers are the SentencePiece-style tokenizer.json files of the tests: mistral-v0.3 from
// testdata, and the files named in $TOKENMILL_SP_TOKENIZERS (comma-separated paths, such as
// ../shared/testdata/tokenizer/vocab/openllama.tokenizer.json).
func spTokenizers(t testing.TB) map[string]*Tokenizer {
	out := map[string]*Tokenizer{"mistral-v0.3": loadTest(t, "mistral-v0.3")}
	for _, p := range strings.Split(os.Getenv("TOKENMILL_SP_TOKENIZERS"), ",") {
		if p == "" {
			continue
		}
		tk, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = tk
	}
	return out
}

// encodeSP runs a tokenizer.json's general pipeline (not the SentencePiece fast path) on text
// with a fresh state, with or without cutting pieces.
func encodeSP(tk *Tokenizer, text string, cut bool) []uint32 {
	split, fast := tk.model.split, tk.hf.sp
	tk.hf.sp = nil
	defer func() { tk.model.split, tk.hf.sp = split, fast }()
	if !cut {
		tk.model.split = nil
	}
	return tk.hf.appendSegment(tk, nil, text, true, newState())
}

// checkSPSplit requires the same ids from a SentencePiece-style tokenizer with and without
// cutting pieces, on every document.
func checkSPSplit(t *testing.T, docs []mlDoc) {
	for name, tk := range spTokenizers(t) {
		t.Run(name, func(t *testing.T) {
			if tk.model.split == nil || tk.hf.fast {
				t.Fatal("no cuts on the general path")
			}
			bt := tk.model.split.get(tk.model.tokens, splitAfter) // built now, not after 32 KiB
			cuts := 0
			for i, d := range docs {
				cuts += countCuts(tk, bt, d.Text)
				cut, whole := encodeSP(tk, d.Text, true), encodeSP(tk, d.Text, false)
				if k := firstIDDiff(cut, toInts(whole)); k >= 0 {
					t.Fatalf("doc %d (%s): with cuts differs at token %d: %v, whole %v", i, d.Lang, k, window(cut, k), window(whole, k))
				}
				if back, err := tk.Decode(cut); err != nil || string(back) != d.Text {
					t.Fatalf("doc %d (%s): decode(encode(x)) != x (err %v)", i, d.Lang, err)
				}
			}
			if cuts == 0 {
				t.Fatal("no piece was cut")
			}
			t.Logf("%d documents, %d cuts", len(docs), cuts)
		})
	}
}

// countCuts returns the number of cuts in the pieces of text under a tokenizer.json's pipeline.
func countCuts(tk *Tokenizer, bt *boundaryTable, text string) int {
	p := tk.hf
	if p.norm != nil {
		text = p.norm.normalize(text)
	}
	pieces := []string{text}
	if p.pre != nil {
		pieces = p.pre.preTokenize(nil, text, true)
	}
	n := 0
	for _, piece := range pieces {
		n += len(bt.appendCuts(nil, piece))
	}
	return n
}

func toInts(ids []uint32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

// TestChunkSplit_SentencePieceSample: SentencePiece-style BPE gives the same ids with cuts as
// without on the multilingual sample.
func TestChunkSplit_SentencePieceSample(t *testing.T) {
	checkSPSplit(t, readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz")))
}

// TestChunkSplit_SentencePieceCorpus is the same on the whole multilingual corpus, when built.
func TestChunkSplit_SentencePieceCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole multilingual corpus through the general path takes a minute")
	}
	checkSPSplit(t, mlCorpus(t))
}

// byteLevelJSONs are the byte-level tokenizer.json files of testdata (both with ignore_merges).
var byteLevelJSONs = []string{"llama3", "gpt-oss"}

// checkByteLevelSplit requires the same ids from a byte-level tokenizer.json with cuts (the
// table built before the first document) as without, on every document, and decode(encode(x))
// == x.
func checkByteLevelSplit(t *testing.T, texts []string) {
	for _, name := range byteLevelJSONs {
		t.Run(name, func(t *testing.T) {
			cut, whole := loadTwice(t, name)
			if cut.model.split == nil || !cut.model.split.verify || !cut.hf.fast {
				t.Fatal("want the fast path with cuts checked by chunkToken")
			}
			whole.model.split = nil
			bt := cut.model.split.get(cut.model.tokens, splitAfter)
			checkSameIDs(t, cut, whole, texts, "with cuts", "whole")
			checked := 0
			for i := range bt.selfMerges {
				checked += bits.OnesCount64(bt.selfMerges[i].Load())
			}
			if checked == 0 {
				t.Fatal("no chunk was a token")
			}
			t.Logf("%d texts; %d tokens were chunks and merge back to themselves", len(texts), checked)
		})
	}
}

// TestChunkSplit_ByteLevelTokenizerJSON: Llama 3 and GPT-OSS give the same ids with cuts as
// without on the multilingual sample and hand-picked texts.
func TestChunkSplit_ByteLevelTokenizerJSON(t *testing.T) {
	texts := []string{
		"日本語の文章には空白がないので、一つの文が一つの断片になることがある。",
		"中华人民共和国是一个位于东亚的社会主义国家，首都为北京。",
		"Привет, как дела? Всё хорошо, спасибо!",
		"ÀÉÎÕÜàéîõü ñandú Größenwahnsinnig żółć",
		"\xe6\x97\xa5\xff\xe6\x9c\xac\x80語 invalid bytes 日\xe6本",
		"👨‍👩‍👧‍👦🏳️‍🌈🇯🇵 emoji 😀😃😄",
	}
	for _, d := range readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz")) {
		texts = append(texts, d.Text)
	}
	checkByteLevelSplit(t, texts)
}

// TestChunkSplit_ByteLevelTokenizerJSONCorpus is the same on the whole multilingual corpus,
// when built.
func TestChunkSplit_ByteLevelTokenizerJSONCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole multilingual corpus, twice per tokenizer")
	}
	texts := mlTexts(mlCorpus(t))
	checkByteLevelSplit(t, texts)
}

// TestChunkToken_NotSelfMerging: with ignore_merges, a chunk that is a token which its bytes do
// not merge back to ("ab": no merge makes it) takes the ids of its merges inside a piece, as
// Hugging Face's BPE gives them, and stays that token as a piece of its own.
func TestChunkToken_NotSelfMerging(t *testing.T) {
	enc := byteLevelAlphabet()
	vocab := map[string]int{}
	for b := range 256 {
		vocab[string(enc[b])] = b
	}
	e := byteLevelSpell(&enc, []byte("é"))
	vocab[e] = 256
	vocab["ab"] = 257
	doc := map[string]any{
		"version": "1.0", "added_tokens": []any{}, "normalizer": nil, "post_processor": nil,
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": patternCL100K}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false},
		}},
		"decoder": map[string]any{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
		"model": map[string]any{"type": "BPE", "dropout": nil, "unk_token": nil, "fuse_unk": false,
			"byte_fallback": false, "ignore_merges": true, "vocab": vocab,
			"merges": []string{string(enc[0xC3]) + " " + string(enc[0xA9])}},
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tokenizer.json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if tk.model.split == nil || !tk.model.split.verify || !tk.hf.fast {
		t.Fatal("want the fast path with cuts checked by chunkToken")
	}
	tk.model.split.get(tk.model.tokens, splitAfter)
	const a, b, sp = 'a', 'b', 0x20
	for _, c := range []struct {
		text string
		want []uint32
	}{
		{"ab", []uint32{257}},
		{"éabé", []uint32{256, a, b, 256}},
		{"éabé ab éabé", []uint32{256, a, b, 256, sp, a, b, sp, 256, a, b, 256}},
		{"ab éab", []uint32{257, sp, 256, a, b}},
	} {
		for range 2 { // the second time from the caches
			if got := tk.Encode(c.text); !slices.Equal(got, c.want) {
				t.Fatalf("%q: got %v, want %v", c.text, got, c.want)
			}
		}
	}
}
