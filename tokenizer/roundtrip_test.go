package tokenizer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

// roundTripNames are the tokenizers every round-trip test runs on: the built-ins (gpt2 is an
// alias of r50k_base and loads the same files) and the two Hugging Face tokenizer.json files.
// All of them are byte-level, so any bytes must come back exactly.
var roundTripNames = []string{
	"r50k_base", "p50k_base", "cl100k_base", "o200k_base", "o200k_harmony", "llama3", "gpt-oss",
}

// goldenTexts returns the distinct texts of every golden file, in a stable order.
func goldenTexts(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no golden files")
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		for _, g := range readGolden(tb, filepath.Base(f)) {
			if !seen[g.Text] {
				seen[g.Text] = true
				out = append(out, g.Text)
			}
		}
	}
	return out
}

// Generated text. The fragments below are chosen to hit the edges of the split patterns and of
// the byte-level alphabets: every kind of Unicode white space, letters of every general category
// the o200k pattern distinguishes (Lu Lt Lm Lo Ll M), numbers that are not ASCII digits,
// contractions after ASCII and typographic apostrophes (and U+017F, which (?i) folds to s),
// astral characters, emoji sequences and special-token look-alikes.
var (
	genSpaces = []string{
		" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", "\v", "\f", " \n ", "\t\n",
		"\u0085", "\u00a0", "\u1680", "\u2000", "\u2003", "\u2009", "\u200a", "\u2028", "\u2029",
		"\u202f", "\u205f", "\u3000",
		"\u200b", "\ufeff", "\u180e", // not White_Space: format characters
	}
	genWords = []string{
		"the", "The", "THE", "hello", "Hello", "world", "don", "isn", "HTTPServer", "camelCase",
		"snake_case", "x", "I", "a", "ß", "İstanbul", "Ǆemal", "ǅ", "ſtraße", "naïve", "café",
		"Привет", "мир", "Ελληνικά", "עברית", "مرحبا", "नमस्ते", "ไทย", "ქართული", "Ⓐ",
		"ʰʲ", "ªº", "ﬁ", "𝐀𝐁𝐂", "𝒶𝒷", "𐌰𐌱", "𠀀𠀁",
	}
	genCJK = []string{
		"日本語", "テキスト", "のは", "中文", "汉字", "한국어", "カタカナ", "ひらがな", "。", "、",
		"「", "」", "ｱｲｳ", "㈱", "〇",
	}
	genEmoji = []string{
		"😀", "🙏", "🚀", "❤️", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🇺🇸", "1️⃣", "#️⃣", "🧑🏿‍💻",
		"\U0001F9EC", "☃", "✔", "\ufe0f", "\u200d",
	}
	genMarks = []string{
		"\u0301", "\u0308", "\u0327", "\u20dd", "\u0e31", "\u093f", "\u05b8", "e\u0301",
		"a\u0308\u0304", "\u1ab0", "\U0001D165",
	}
	genDigits = []string{
		"0", "7", "42", "123", "2024", "3.14159", "1,000,000", "٠١٢٣", "۴۵۶", "०१२३",
		"０１２", "𝟎𝟏𝟐", "²³", "½", "Ⅻ", "ⅷ", "𐄇", "৪", "߀", "1e10", "0x1F",
	}
	genApostrophes = []string{
		"'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M", "'ll", "'LL",
		"'lL", "'d", "'D", "'ſ", "'ſt", "’s", "’re", "'", "''", "'x", "'1", "' s", "'\n",
	}
	genPunct = []string{
		".", ",", "!", "?", "...", "--", "->", "=>", "//", "/*", "*/", "{", "}", "(", ")", "[",
		"]", "<", ">", "\"", "`", "#", "@", "$", "%", "^", "&", "*", "_", "-", "+", "=", "|",
		"\\", "~", ";", ":", "/", "//\n", "€", "£", "©", "§", "¿", "«", "»", "—", "…", "\x00",
		"\x1b", "\u00ad", "\ufffd", "\ue000", "\U0010FFFF", "\U000E0001",
	}
	genSpecials = []string{
		"<|endoftext|>", "<|fim_prefix|>", "<|endofprompt|>", "<|start|>", "<|end|>",
		"<|begin_of_text|>", "<|eot_id|>", "<|reserved_special_token_0|>", "<|", "|>",
	}
	genKinds = [][]string{
		genSpaces, genWords, genCJK, genEmoji, genMarks, genDigits, genApostrophes, genPunct,
		genSpecials,
	}
	// genWeights: how often each kind is picked (spaces and words most).
	genWeights = []int{6, 8, 2, 2, 1, 2, 2, 3, 1}
)

// genText returns valid UTF-8 of about n bytes: random fragments, now and then a fragment
// repeated into a long run, now and then a random code point.
func genText(r *rand.Rand, n int) string {
	var sb strings.Builder
	total := 0
	for _, w := range genWeights {
		total += w
	}
	for sb.Len() < n {
		switch r.IntN(20) {
		case 0: // a random code point, astral ones included
			c := rune(r.IntN(0x30000))
			if !utf8.ValidRune(c) {
				c = 'x'
			}
			sb.WriteRune(c)
			continue
		case 1: // a random ASCII byte
			sb.WriteByte(byte(r.IntN(128)))
			continue
		}
		k := r.IntN(total)
		kind := 0
		for k >= genWeights[kind] {
			k -= genWeights[kind]
			kind++
		}
		frag := genKinds[kind][r.IntN(len(genKinds[kind]))]
		reps := 1
		if r.IntN(30) == 0 {
			reps = 2 + r.IntN(60)
		}
		for range reps {
			sb.WriteString(frag)
		}
	}
	return sb.String()
}

// genInvalid returns bytes that are not valid UTF-8: generated text with stray continuation
// bytes, truncated and overlong sequences, surrogates and code points past U+10FFFF mixed in.
func genInvalid(r *rand.Rand, n int) []byte {
	bad := []string{
		"\x80", "\xbf", "\xff", "\xfe", "\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80",
		"\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xe2\x82", "\xf0\x9f\x98",
		"\xc3", "\xe6\x97", " \xff", "\xff ", "'\xff", "\xe2\x80\xa8\x80", "\xef\xbb",
	}
	var b []byte
	for len(b) < n {
		switch r.IntN(4) {
		case 0:
			b = append(b, bad[r.IntN(len(bad))]...)
		case 1:
			for range 1 + r.IntN(8) {
				b = append(b, byte(r.IntN(256)))
			}
		default:
			b = append(b, genText(r, 1+r.IntN(24))...)
		}
	}
	return b
}

// checkRoundTrip encodes text (plain, and with specials allowed) and checks that every id is
// inside the vocabulary and that decoding gives text back byte for byte.
func checkRoundTrip(tb testing.TB, tk *Tokenizer, text string) {
	tb.Helper()
	for _, special := range []bool{false, true} {
		ids := tk.Append(nil, text, Options{AllowSpecial: special})
		for _, id := range ids {
			if int(id) >= tk.VocabSize() {
				tb.Fatalf("%s special=%v: id %d >= vocab size %d for %s", tk.Name(), special, id,
					tk.VocabSize(), clip(text))
			}
		}
		got, err := tk.Decode(ids)
		if err != nil {
			tb.Fatalf("%s special=%v: Decode: %v for %s", tk.Name(), special, err, clip(text))
		}
		if special && containsAmbiguousSpecial(tk, text) {
			// The text cannot come back as it was; its ids must.
			if again := tk.EncodeSpecial(string(got)); !slices.Equal(again, ids) {
				tb.Fatalf("%s: encode(decode(ids)) != ids for %s:\n got %v\nwant %v", tk.Name(),
					clip(text), head(again), head(ids))
			}
			continue
		}
		if string(got) != text {
			tb.Fatalf("%s special=%v: round trip differs at byte %d:\n text %s\n  got %s",
				tk.Name(), special, firstDiff(string(got), text), clip(text), clip(string(got)))
		}
	}
}

// containsAmbiguousSpecial reports whether text holds a special token that shares its id with
// another one, so that decoding cannot know which string it was: o200k_harmony has both
// <|endofprompt|> (from o200k_base) and <|reserved_200018|> as 200018, as tiktoken defines it.
func containsAmbiguousSpecial(tk *Tokenizer, text string) bool {
	if !strings.Contains(text, "<|") {
		return false
	}
	byID := map[uint32]int{}
	for _, id := range tk.specials {
		byID[id]++
	}
	for s, id := range tk.specials {
		if byID[id] > 1 && strings.Contains(text, s) {
			return true
		}
	}
	return false
}

// clip quotes s, shortened for messages.
func clip(s string) string {
	if len(s) > 200 {
		return fmt.Sprintf("%q... (%d bytes)", s[:200], len(s))
	}
	return fmt.Sprintf("%q", s)
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func TestRoundTrip_GoldenTexts(t *testing.T) {
	texts := goldenTexts(t)
	for _, name := range roundTripNames {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			for _, s := range texts {
				checkRoundTrip(t, tk, s)
			}
		})
	}
}

func TestRoundTrip_GeneratedText(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 100
	}
	for _, name := range roundTripNames {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			r := rand.New(rand.NewPCG(1, uint64(len(name))))
			for range n {
				checkRoundTrip(t, tk, genText(r, r.IntN(600)))
			}
		})
	}
}

// TestRoundTrip_EdgeCases: short inputs at the edges of the patterns, on every tokenizer.
func TestRoundTrip_EdgeCases(t *testing.T) {
	cases := []string{
		"", " ", "\n", "a", "'", "'s", "'S", "'ſ", "'ſſ", "’s", "x'll", "X'LL'RE", "1'2",
		"\u3000", "\u00a0", "\u2028", "a\u3000b", "a\u00a0\u00a0b", "\u2028\u2029\u0085",
		" \u3000x", "   \n   x", "\r\n\r\n ", "\t\t", "  ", "a  ", "  a",
		"٠١٢٣٤٥٦٧٨٩", "१२३४", "12345678901234567890", "½²Ⅻ",
		"e\u0301", "\u0301", "\u0301\u0301x", "ǅungla", "ʰʰʰ", "ABCdef", "abcDEF'S",
		"👨‍👩‍👧‍👦", "🇯🇵🇺🇸", "❤️", "日本語のテキスト。", "한국어 텍스트",
		"<|endoftext|>", "a<|endoftext|>b", "<|endoftext", "<|begin_of_text|>hi<|eot_id|>",
		"//\n//\n", "a/b//c", "...\n\n", "\x00\x01\x7f", "\ufffd", "\U0010ffff",
		strings.Repeat("a", 5000), strings.Repeat(" ", 3000), strings.Repeat("\n", 3000),
		strings.Repeat("9", 3001), strings.Repeat("😀", 1000), strings.Repeat("'s", 500),
	}
	for _, name := range roundTripNames {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			for _, s := range cases {
				checkRoundTrip(t, tk, s)
			}
		})
	}
}

// TestRoundTrip_InvalidUTF8: every tokenizer here is byte-level, so bytes that are not UTF-8
// come back exactly (each such byte is a character of class "other", see doc.go).
func TestRoundTrip_InvalidUTF8(t *testing.T) {
	fixed := []string{
		"\xff", "\x80", "\xc3", "\xe2\x82", "\xe2\x82x", "a\xffb", "\xff\xfe 1", "'\xff",
		"\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", " \xff\xff\xff", "\xff\n\n",
		strings.Repeat("\xff", 2000), strings.Repeat("\x80a", 1000),
	}
	n := 300
	if testing.Short() {
		n = 80
	}
	for _, name := range roundTripNames {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			for _, s := range fixed {
				checkRoundTrip(t, tk, s)
			}
			r := rand.New(rand.NewPCG(2, uint64(len(name))))
			for range n {
				b := genInvalid(r, r.IntN(300))
				checkRoundTrip(t, tk, string(b))
				// AppendBytes reads the same bytes without a copy.
				ids := tk.AppendBytes(nil, b, Options{})
				got, err := tk.Decode(ids)
				if err != nil || !bytes.Equal(got, b) {
					t.Fatalf("AppendBytes round trip of %q: got %q, %v", b, got, err)
				}
			}
		})
	}
}

// TestRoundTrip_AppendKeepsPrefix: Append adds to dst and leaves what is there alone.
func TestRoundTrip_AppendKeepsPrefix(t *testing.T) {
	for _, name := range []string{"cl100k_base", "llama3"} {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			prefix := []uint32{1, 2, 3}
			for _, s := range []string{"hello world", "日本語", "\xff\xfe"} {
				dst := slices.Clone(prefix)
				got := tk.Append(dst, s, Options{})
				want := append(slices.Clone(prefix), tk.Encode(s)...)
				if !slices.Equal(got, want) {
					t.Errorf("Append(%v, %q) = %v, want %v", prefix, s, got, want)
				}
			}
		})
	}
}

// batchInputs returns the golden texts and some generated ones, invalid UTF-8 included.
func batchInputs(tb testing.TB) []string {
	texts := goldenTexts(tb)
	r := rand.New(rand.NewPCG(3, 3))
	for range 100 {
		texts = append(texts, genText(r, r.IntN(2000)), string(genInvalid(r, r.IntN(200))))
	}
	return append(texts, "", "")
}

func TestEncodeBatch_EqualsSequentialEncode(t *testing.T) {
	texts := batchInputs(t)
	for _, name := range []string{"r50k_base", "cl100k_base", "o200k_harmony", "llama3", "gpt-oss"} {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			for _, opts := range []Options{{}, {AllowSpecial: true, AddSpecialTokens: true}} {
				got := tk.EncodeBatch(texts, opts)
				if len(got) != len(texts) {
					t.Fatalf("%+v: %d results for %d texts", opts, len(got), len(texts))
				}
				for i, s := range texts {
					if want := tk.Append(nil, s, opts); !slices.Equal(got[i], want) {
						t.Fatalf("%+v: text %d %s: batch %v, sequential %v", opts, i, clip(s),
							head(got[i]), head(want))
					}
				}
			}
			if got := tk.EncodeBatch(nil, Options{}); len(got) != 0 {
				t.Errorf("EncodeBatch(nil) = %v", got)
			}
		})
	}
}

// TestTokenizer_ConcurrentUseSameIDs encodes the same texts from many goroutines at once, each
// in its own order, and compares with a sequential run. Run with -race to check for data races
// in the shared state (state free list, piece caches).
func TestTokenizer_ConcurrentUseSameIDs(t *testing.T) {
	texts := batchInputs(t)
	goroutines := 8
	if testing.Short() {
		goroutines = 4
	}
	for _, name := range []string{"cl100k_base", "o200k_base", "llama3"} {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			want := make([][]uint32, len(texts))
			for i, s := range texts {
				want[i] = tk.Encode(s)
			}
			var wg sync.WaitGroup
			errs := make(chan string, goroutines)
			for g := range goroutines {
				wg.Go(func() {
					r := rand.New(rand.NewPCG(uint64(g), 4))
					var buf []uint32
					for _, i := range r.Perm(len(texts)) {
						buf = tk.Append(buf[:0], texts[i], Options{})
						if !slices.Equal(buf, want[i]) {
							errs <- fmt.Sprintf("goroutine %d, text %d %s: got %v, want %v", g, i,
								clip(texts[i]), head(buf), head(want[i]))
							return
						}
						if _, err := tk.Decode(buf); err != nil {
							errs <- fmt.Sprintf("goroutine %d: Decode: %v", g, err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for e := range errs {
				t.Error(e)
			}
		})
	}
}

// TestRoundTrip_GeneratorCoversCases guards the generator itself: it must produce the fragments
// the other tests rely on, and only valid UTF-8.
func TestRoundTrip_GeneratorCoversCases(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	s := genText(r, 200_000)
	if !utf8.ValidString(s) {
		t.Fatal("genText produced invalid UTF-8")
	}
	for _, want := range []string{"\u3000", "\u00a0", "\u2028", "'ſ", "日本語", "👨‍👩‍👧‍👦", "\u0301", "٠١٢٣"} {
		if !strings.Contains(s, want) {
			t.Errorf("200 kB of generated text has no %q", want)
		}
	}
	if b := genInvalid(r, 10_000); utf8.Valid(b) {
		t.Error("genInvalid produced valid UTF-8")
	}
}
