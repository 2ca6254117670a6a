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

// spNames are the SentencePiece-style tokenizer.json files of testdata: Metaspace (mistral-v0.3)
// and the Prepend/Replace normalizers (openllama).
var spNames = []string{"mistral-v0.3", "openllama"}

// loadGeneral loads a testdata tokenizer.json afresh with its SentencePiece fast path and piece
// cutting switched off: every text goes through the normalizer, the pre-tokenizer and one merge
// of each whole piece, the reference the fast path is held to.
func loadGeneral(tb testing.TB, name string) *Tokenizer {
	tb.Helper()
	tk, err := Load(decompressTestJSON(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	tk.hf.sp, tk.model.split = nil, nil
	return tk
}

// checkSPFast requires the same ids from the fast path as from the general one on every text,
// and with roundTrip decode(encode(x)) == x (which the decoder of these files does not give for
// a text that starts with a space or holds a literal "▁").
func checkSPFast(t *testing.T, name string, texts []string, roundTrip bool) {
	fast, general := loadTest(t, name), loadGeneral(t, name)
	if fast.hf.sp == nil {
		t.Fatalf("%s: no SentencePiece fast path", name)
	}
	var a, b []uint32
	bytes := 0
	for i, s := range texts {
		a = fast.Append(a[:0], s, Options{})
		b = general.Append(b[:0], s, Options{})
		if k := firstIDDiff(a, toInts(b)); k >= 0 {
			t.Fatalf("text %d (%.40q): fast path differs at token %d of %d/%d: %v, general %v",
				i, s, k, len(a), len(b), window(a, k), window(b, k))
		}
		if back, err := fast.Decode(a); roundTrip && (err != nil || string(back) != s) {
			t.Fatalf("text %d (%.40q): decode(encode(x)) != x (err %v)", i, s, err)
		}
		bytes += len(s)
	}
	t.Logf("%s: %d texts, %d bytes: same ids, round trip", name, len(texts), bytes)
}

func mlTexts(docs []mlDoc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.Text
	}
	return out
}

// TestSPFast_SameAsGeneralSample: on the committed multilingual sample, both SentencePiece-style
// files give the general path's ids through the fast path.
func TestSPFast_SameAsGeneralSample(t *testing.T) {
	texts := mlTexts(readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz")))
	for _, name := range spNames {
		t.Run(name, func(t *testing.T) { checkSPFast(t, name, texts, true) })
	}
}

// TestSPFast_SameAsGeneralCorpus is the same on the whole multilingual corpus, when built.
func TestSPFast_SameAsGeneralCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole multilingual corpus through the general path takes a minute")
	}
	texts := mlTexts(mlCorpus(t))
	for _, name := range spNames {
		t.Run(name, func(t *testing.T) { checkSPFast(t, name, texts, true) })
	}
}

// TestSPFast_Edges: texts at the edges of the cutting rules (leading and repeated spaces, a
// literal "▁", characters that fall back to bytes, invalid UTF-8, added tokens between
// segments, CJK runs) give the general path's ids.
func TestSPFast_Edges(t *testing.T) {
	texts := []string{
		"", " ", "  ", "a", " a", "  a", "a ", "a  ", "▁", "▁a", " ▁ a", "a▁b", "a ▁b", "a▁ b",
		"hello world", "Hello  world  ", "\n", "\na", "a\n", "a\n b", "a \n b", "\t\tx", "x\r\ny",
		"日本語のテキストです。", " 日本語 の テキスト", "中文句子没有空格，但是有标点。", "Привет, мир!",
		"emoji 😀😀 and ☃", "a\x80\x80b", "日\xe6\x97", "x \xff y", "\xe2\x96", "▁\xe2\x96\x81",
		"<s>a</s> b", " <s> a", "[INST] hi [/INST]", "<unk>", "a<s>", "<s>",
		strings.Repeat("ab ", 50), strings.Repeat("日", 300), strings.Repeat(" ", 40) + "x",
		"ﬁ ﬂ ǅ ẞ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁", "a\u00a0b\u3000c",
	}
	for _, name := range spNames {
		t.Run(name, func(t *testing.T) { checkSPFast(t, name, texts, false) })
	}
}

// TestSPFast_Recognised: the two pipeline shapes get the fast path, Metaspace with split=true
// too (then every "▁" starts a piece), and a vocabulary with a token that has "▁" after another
// character does not (a cut before the "▁" would not be exact).
func TestSPFast_Recognised(t *testing.T) {
	for _, name := range spNames {
		if loadTest(t, name).hf.sp == nil {
			t.Errorf("%s: no fast path", name)
		}
	}
	edit := func(t *testing.T, f func(doc map[string]any)) *Tokenizer {
		raw, err := os.ReadFile(decompressTestJSON(t, "mistral-v0.3"))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		f(doc)
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "edited.tokenizer.json")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		tk, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	t.Run("split", func(t *testing.T) {
		tk := edit(t, func(doc map[string]any) { doc["pre_tokenizer"].(map[string]any)["split"] = true })
		if tk.hf.sp == nil || !tk.hf.sp.splitAll {
			t.Fatal("Metaspace split=true: no fast path")
		}
		texts := mlTexts(readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz")))
		texts = append(texts, "a  b", "  x", "▁▁▁y z", "日本 語")
		var a []uint32
		for i, s := range texts {
			a = tk.Append(a[:0], s, Options{})
			sp, split := tk.hf.sp, tk.model.split
			tk.hf.sp, tk.model.split = nil, nil
			b := tk.Append(nil, s, Options{})
			tk.hf.sp, tk.model.split = sp, split
			if !slices.Equal(a, b) {
				k := firstIDDiff(a, toInts(b))
				t.Fatalf("text %d: fast path differs at token %d: %v, general %v", i, k, window(a, k), window(b, k))
			}
		}
	})
	t.Run("inner-replacement", func(t *testing.T) {
		tk := edit(t, func(doc map[string]any) {
			vocab := doc["model"].(map[string]any)["vocab"].(map[string]any)
			vocab["a▁"] = float64(len(vocab) + 1000)
		})
		if tk.hf.sp != nil {
			t.Fatal("a token \"a▁\" must switch the fast path off")
		}
	})
}

// spLongKinds are inputs that make one huge piece for SentencePiece-style BPE (no spaces).
var spLongKinds = []pathoKind{
	{name: "cjk", gen: randomFrom(runeRange(0x4E00, 0x9FFF), 5)},
	{name: "kana", gen: randomFrom(runeRange(0x3041, 0x3096), 7)},
	{name: "one-ideograph", gen: repeatRune('日')},
	{name: "letters", gen: randomFrom(runeRange('a', 'z'), 1)},
	{name: "one-letter", gen: repeatRune('a')},
}

// TestSPFast_LongPieces: pieces of 1k, 10k and 100k characters without a space give the general
// path's ids (one merge of the whole piece) and decode back.
func TestSPFast_LongPieces(t *testing.T) {
	sizes := []int{1_000, 10_000, 100_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, name := range spNames {
		for _, k := range spLongKinds {
			var texts []string
			for _, n := range sizes {
				texts = append(texts, spLongText(k, n))
			}
			t.Run(name+"/"+k.name, func(t *testing.T) { checkSPFast(t, name, texts, true) })
		}
	}
}

// spLongText is n characters of kind k.
func spLongText(k pathoKind, n int) string {
	s := k.gen(4 * n)
	i, count := 0, 0
	for i < len(s) && count < n {
		_, w := decodeRuneAt(s, i)
		i += w
		count++
	}
	return s[:i]
}

func decodeRuneAt(s string, i int) (rune, int) {
	r, w, _ := decodeChar(s, i)
	return r, w
}

// BenchmarkSPLongPiece: SentencePiece-style BPE on one piece of 1k, 10k and 100k characters
// without a space, cold (the piece caches emptied before each pass, outside the timing). ns/char
// stays flat as the piece grows: the merge is O(n log n).
func BenchmarkSPLongPiece(b *testing.B) {
	st := newState()
	for _, name := range spNames {
		tk := loadTest(b, name)
		for _, k := range spLongKinds {
			for _, n := range []int{1_000, 10_000, 100_000} {
				s := spLongText(k, n)
				b.Run(fmt.Sprintf("%s/%s/%dk", name, k.name, n/1000), func(b *testing.B) {
					b.SetBytes(int64(len(s)))
					var ids []uint32
					for i := 0; i < b.N; i++ {
						b.StopTimer()
						st.cache.reset()
						st.hot.reset()
						b.StartTimer()
						ids = tk.hf.appendSegment(tk, ids[:0], s, true, st)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/char")
				})
			}
		}
	}
}
