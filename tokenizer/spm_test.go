package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// SentencePiece models are checked against Google's SentencePiece library itself (Debian's
// python3-sentencepiece), run at test time on the same model file and the same texts.

// spReferenceScript encodes each JSON string of stdin with the library and prints the ids and
// the library's decoding of them.
const spReferenceScript = `
import json, sys
import sentencepiece as spm
sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
out = sys.stdout
for line in sys.stdin:
    ids = sp.encode(json.loads(line))
    out.write(json.dumps({"ids": ids, "decoded": sp.decode(ids)}) + "\n")
`

// spReference is the library's answer for one text.
type spReference struct {
	IDs     []uint32 `json:"ids"`
	Decoded string   `json:"decoded"`
}

// spLibrary encodes texts with the library on the model file at path.
func spLibrary(t testing.TB, model string, texts []string) []spReference {
	t.Helper()
	python := testutil.SentencePiece(t)
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, s := range texts {
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(python, "-c", spReferenceScript, model)
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8")
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("the SentencePiece library on %s: %v\n%s", model, err, stderr.Bytes())
	}
	var refs []spReference
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var r spReference
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	if len(refs) != len(texts) {
		t.Fatalf("the library answered %d texts of %d", len(refs), len(texts))
	}
	return refs
}

var mistralModel struct {
	once sync.Once
	path string
	err  error
}

// mistralModelPath decompresses testdata/mistral-v0.3.model.gz once per test binary.
func mistralModelPath(t testing.TB) string {
	t.Helper()
	mistralModel.once.Do(func() {
		in, err := os.Open(filepath.Join("testdata", "mistral-v0.3.model.gz"))
		if err != nil {
			mistralModel.err = err
			return
		}
		defer in.Close()
		zr, err := gzip.NewReader(in)
		if err != nil {
			mistralModel.err = err
			return
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			mistralModel.err = err
			return
		}
		dir, err := os.MkdirTemp("", "tokenmill-spm")
		if err != nil {
			mistralModel.err = err
			return
		}
		mistralModel.path = filepath.Join(dir, "mistral-v0.3.model")
		mistralModel.err = os.WriteFile(mistralModel.path, b, 0o644)
	})
	if mistralModel.err != nil {
		t.Fatal(mistralModel.err)
	}
	return mistralModel.path
}

// spEdgeTexts are texts around the normalizer's and the merge loop's edges.
var spEdgeTexts = []string{
	"", " ", "  ", "   ", " a", "  a", "a ", "a  ", " a b  c   d ", "\t", "\n", " \n ", "\u3000",
	"hello world", "Hello,  world!", strings.Repeat(" ", 40) + "x", strings.Repeat(" ", 17),
	"x" + strings.Repeat(" ", 33) + "y", strings.Repeat("▁", 5), "▁hello", "a▁▁b",
	"<s>", "</s>", "[INST] hi [/INST]", "<unk>", "<0x41>", "\u2047", "\uFFFD", "\x00", "\x7f",
	"😀🙂 emoji", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "e\u0301", "ﬁ ligature", "Ａ full width", "中文没有空格的长句子会被当作一个片段",
	"日本語のテキストです。", "한국어 텍스트", "العربية", "עברית", "ไทย", "हिन्दी", "Ελληνικά",
	strings.Repeat("ab", 300), strings.Repeat("日本", 200), strings.Repeat("a", 1000),
	"invalid \xff\xfe utf-8 \xe4\xbd", "\xed\xa0\x80 surrogate", "mixed\r\nlines\rand\ttabs",
}

// spGoldenTexts returns the texts of every golden file: the committed ones and, when present,
// those of the shared test data.
func spGoldenTexts(t testing.TB) []string {
	t.Helper()
	texts := goldenTexts(t)
	seen := map[string]bool{}
	for _, s := range texts {
		seen[s] = true
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "testdata", "tokenizer", "golden", "*.jsonl"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var c goldenCase
			if err := json.Unmarshal(line, &c); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if !seen[c.Text] {
				seen[c.Text] = true
				texts = append(texts, c.Text)
			}
		}
	}
	return texts
}

// checkSameAsLibrary requires our ids and decoding to be the library's for every text, and
// decode(encode(x)) == x for every valid UTF-8 text the library round-trips.
func checkSameAsLibrary(t *testing.T, tk *Tokenizer, model string, texts []string) {
	t.Helper()
	refs := spLibrary(t, model, texts)
	fails, roundTrips, size := 0, 0, 0
	var ids []uint32
	for i, s := range texts {
		ids = tk.Append(ids[:0], s, Options{})
		size += len(s)
		if k := firstIDDiff(ids, toInt(refs[i].IDs)); k >= 0 {
			fails++
			t.Errorf("text %d %.60q: ids differ from the library at token %d of %d/%d:\n ours    %v\n library %v",
				i, s, k, len(ids), len(refs[i].IDs), window(ids, k), window(refs[i].IDs, k))
		}
		back, err := tk.Decode(refs[i].IDs)
		if err != nil || string(back) != refs[i].Decoded {
			fails++
			t.Errorf("text %d %.60q: decoding differs from the library's (err %v):\n ours    %.80q\n library %.80q",
				i, s, err, back, refs[i].Decoded)
		}
		if refs[i].Decoded == s {
			roundTrips++
		} else if utf8.ValidString(s) && !strings.Contains(s, spaceSymbol) {
			// The library gives back every valid UTF-8 text without a ▁ of its own (decoding
			// makes every ▁ a space), as the model has byte fallback and keeps extra spaces.
			fails++
			t.Errorf("text %d %.60q: decode(encode(x)) = %.60q", i, s, refs[i].Decoded)
		}
		if fails > 5 {
			t.Fatal("too many differences")
		}
	}
	t.Logf("%d texts, %d bytes: the library's ids and decoding; %d round trips", len(texts), size, roundTrips)
}

func toInt(ids []uint32) []int {
	out := make([]int, len(ids))
	for i, id := range ids {
		out[i] = int(id)
	}
	return out
}

func loadMistralModel(t testing.TB) (*Tokenizer, string) {
	t.Helper()
	path := mistralModelPath(t)
	tk, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tk, path
}

func TestSentencePiece_MatchesLibrary(t *testing.T) {
	tk, path := loadMistralModel(t)
	t.Run("golden", func(t *testing.T) {
		checkSameAsLibrary(t, tk, path, append(spGoldenTexts(t), spEdgeTexts...))
	})
	t.Run("multilingual-sample", func(t *testing.T) {
		var texts []string
		for _, d := range readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz")) {
			texts = append(texts, d.Text)
		}
		checkSameAsLibrary(t, tk, path, texts)
	})
}

// TestSentencePiece_MultilingualCorpus runs when the corpus has been built (make bench).
func TestSentencePiece_MultilingualCorpus(t *testing.T) {
	docs := mlCorpus(t)
	tk, path := loadMistralModel(t)
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = d.Text
	}
	checkSameAsLibrary(t, tk, path, texts)
}

func TestSentencePiece_Model(t *testing.T) {
	tk, _ := loadMistralModel(t)
	if tk.Kind() != "sentencepiece" || tk.Name() != "mistral-v0.3" || tk.VocabSize() != 32768 {
		t.Errorf("kind %q name %q vocab %d", tk.Kind(), tk.Name(), tk.VocabSize())
	}
	if id, ok := tk.BOS(); !ok || id != 1 {
		t.Errorf("BOS = %d, %v; want 1", id, ok)
	}
	if id, ok := tk.EOS(); !ok || id != 2 {
		t.Errorf("EOS = %d, %v; want 2", id, ok)
	}
	if id, ok := tk.SpecialToken("[INST]"); !ok || id != 3 {
		t.Errorf("[INST] = %d, %v; want 3", id, ok)
	}
	if pre, suf := tk.PostProcessorAdds(); pre != nil || suf != nil {
		t.Errorf("PostProcessorAdds = %v, %v; the library adds nothing by default", pre, suf)
	}
	// Control symbols are text unless AllowSpecial; then each part between them is encoded as
	// a text of its own (with its dummy prefix), as when the library encodes the parts.
	for _, c := range []struct {
		text string
		want [][]uint32
	}{
		{"[INST] hi [/INST]", [][]uint32{{3}, tk.Encode(" hi "), {4}}},
		{"<s>a</s>", [][]uint32{{1}, tk.Encode("a"), {2}}},
		{"x<s>", [][]uint32{tk.Encode("x"), {1}}},
	} {
		if got, want := tk.EncodeSpecial(c.text), slices.Concat(c.want...); !slices.Equal(got, want) {
			t.Errorf("EncodeSpecial(%q) = %v, want %v", c.text, got, want)
		}
		if got := tk.Encode(c.text); slices.Contains(got, 1) || slices.Contains(got, 3) {
			t.Errorf("Encode(%q) = %v holds a control id", c.text, got)
		}
	}
}

// spTestPiece is a piece of a ModelProto built by a test.
type spTestPiece struct {
	piece string
	score float32
	typ   spPieceType
}

// spTestModel is what buildSPModel writes into a ModelProto.
type spTestModel struct {
	modelType    spModelType
	pieces       []spTestPiece
	byteFallback bool
	suffix       bool
	normName     string
	charsmap     []byte
	noDummy      bool // add_dummy_prefix false
	keepSpaces   bool // remove_extra_whitespaces false
	noEscape     bool // escape_whitespaces false
}

// buildSPModel serializes a ModelProto with protowire.
func buildSPModel(m spTestModel) []byte {
	var b []byte
	for _, p := range m.pieces {
		var pb []byte
		pb = protowire.AppendTag(pb, spPiecePiece, protowire.BytesType)
		pb = protowire.AppendString(pb, p.piece)
		pb = protowire.AppendTag(pb, spPieceScore, protowire.Fixed32Type)
		pb = protowire.AppendFixed32(pb, math.Float32bits(p.score))
		pb = protowire.AppendTag(pb, spPieceTypeField, protowire.VarintType)
		pb = protowire.AppendVarint(pb, uint64(p.typ))
		b = protowire.AppendTag(b, spModelPieces, protowire.BytesType)
		b = protowire.AppendBytes(b, pb)
	}
	boolField := func(dst []byte, num protowire.Number, v bool) []byte {
		dst = protowire.AppendTag(dst, num, protowire.VarintType)
		return protowire.AppendVarint(dst, protowire.EncodeBool(v))
	}
	var ts []byte
	ts = protowire.AppendTag(ts, spTrainerModelType, protowire.VarintType)
	ts = protowire.AppendVarint(ts, uint64(m.modelType))
	ts = protowire.AppendTag(ts, 4, protowire.VarintType) // vocab_size
	ts = protowire.AppendVarint(ts, uint64(len(m.pieces)))
	ts = boolField(ts, spTrainerByteFallback, m.byteFallback)
	ts = boolField(ts, spTrainerTreatWSAsSuffix, m.suffix)
	b = protowire.AppendTag(b, spModelTrainerSpec, protowire.BytesType)
	b = protowire.AppendBytes(b, ts)
	var ns []byte
	name := m.normName
	if name == "" {
		name = "identity"
	}
	ns = protowire.AppendTag(ns, spNormName, protowire.BytesType)
	ns = protowire.AppendString(ns, name)
	if m.charsmap != nil {
		ns = protowire.AppendTag(ns, spNormPrecompiledCharsmap, protowire.BytesType)
		ns = protowire.AppendBytes(ns, m.charsmap)
	}
	ns = boolField(ns, spNormAddDummyPrefix, !m.noDummy)
	ns = boolField(ns, spNormRemoveExtraWS, !m.keepSpaces)
	ns = boolField(ns, spNormEscapeWS, !m.noEscape)
	b = protowire.AppendTag(b, spModelNormalizerSpec, protowire.BytesType)
	b = protowire.AppendBytes(b, ns)
	return b
}

// tinyPieces is a small BPE vocabulary: the unknown and control pieces, then pieces by
// decreasing score, with ties (the runs of ▁, and "ab"/"bc"), a user-defined piece and an
// UNUSED one.
func tinyPieces() []spTestPiece {
	ps := []spTestPiece{{"<unk>", 0, spUnknown}, {"<s>", 0, spControl}, {"</s>", 0, spControl},
		{"<sep>", 0, spUserDefined}, {"x▁y", 0, spUserDefined}}
	score := float32(-1)
	for _, p := range []string{"▁a", "ab", "bc", "▁ab", "abc", "▁abc", "ca", "cab", "▁c", "aa", "aaa",
		"▁b", "bb", "bbb", "▁bb"} {
		ps = append(ps, spTestPiece{p, score, spNormal})
		score--
	}
	ps[len(ps)-14].score = ps[len(ps)-13].score // "ab" and "bc" tie
	ps = append(ps, spTestPiece{"cc", score, spUnused}, spTestPiece{"▁cc", score - 1, spNormal},
		spTestPiece{"▁▁", -1e9, spNormal}, spTestPiece{"▁▁▁", -1e9, spNormal},
		spTestPiece{"▁▁▁▁", -1e9, spNormal})
	for _, c := range []string{"▁", "a", "b", "c", "é", " "} {
		ps = append(ps, spTestPiece{c, score - 10, spNormal})
	}
	return ps
}

func withBytes(ps []spTestPiece) []spTestPiece {
	out := slices.Clone(ps[:3])
	for b := range 256 {
		out = append(out, spTestPiece{"<0x" + strings.ToUpper(hex2(byte(b))) + ">", 0, spByte})
	}
	return append(out, ps[3:]...)
}

func hex2(b byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// TestSentencePiece_TinyModels checks the normalizer options, ties, user-defined and UNUSED
// pieces, unknown characters with and without byte fallback against the library, on models
// built here.
func TestSentencePiece_TinyModels(t *testing.T) {
	texts := []string{"", " ", "a", "ab", "abc", "abcabc", "bcab", "cc", "ccc", "cab cab", " abc  abc ",
		"aaaa aaaaa", "bbbbbb", "a<sep>b", "<sep>", " <sep> ", "x y", "xx yy", "ax yb", "x▁y",
		"abcxyz", "déjà vu", "zz zz", "qé", "   a   b   ", "a\tb", "▁▁▁▁▁▁▁a", "a      b", "c", "ccab",
		"ab bc ab bc", "bcbcbc", "<s>ab</s>", "日本", "a b c"}
	for _, c := range []struct {
		name string
		m    spTestModel
	}{
		{"default", spTestModel{pieces: tinyPieces()}},
		{"byte_fallback", spTestModel{pieces: withBytes(tinyPieces()), byteFallback: true}},
		{"keep-spaces", spTestModel{pieces: tinyPieces(), keepSpaces: true}},
		{"no-dummy-prefix", spTestModel{pieces: tinyPieces(), noDummy: true, keepSpaces: true}},
		{"no-escape", spTestModel{pieces: tinyPieces(), noEscape: true}},
		{"suffix", spTestModel{pieces: tinyPieces(), suffix: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.m.modelType = spBPE
			path := filepath.Join(t.TempDir(), c.name+".model")
			if err := os.WriteFile(path, buildSPModel(c.m), 0o644); err != nil {
				t.Fatal(err)
			}
			tk, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			refs := spLibrary(t, path, texts)
			for i, s := range texts {
				if got := tk.Encode(s); !slices.Equal(got, refs[i].IDs) {
					t.Errorf("%q: ids %v, the library's %v", s, got, refs[i].IDs)
				}
				if back, err := tk.Decode(refs[i].IDs); err != nil || string(back) != refs[i].Decoded {
					t.Errorf("%q: decoded %q (err %v), the library's %q", s, back, err, refs[i].Decoded)
				}
			}
		})
	}
}

func TestSentencePiece_Refused(t *testing.T) {
	bpe := func(m spTestModel) spTestModel {
		m.modelType = spBPE
		if m.pieces == nil {
			m.pieces = tinyPieces()
		}
		return m
	}
	for _, c := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"unigram", buildSPModel(spTestModel{modelType: spUnigram, pieces: tinyPieces()}), "SentencePiece UNIGRAM model is not supported (only BPE)"},
		{"word", buildSPModel(spTestModel{modelType: spWord, pieces: tinyPieces()}), "SentencePiece WORD model is not supported (only BPE)"},
		{"char", buildSPModel(spTestModel{modelType: spChar, pieces: tinyPieces()}), "SentencePiece CHAR model is not supported (only BPE)"},
		{"charsmap", buildSPModel(bpe(spTestModel{normName: "nmt_nfkc", charsmap: []byte{1, 2, 3, 4}})), `normalizer "nmt_nfkc" is not supported`},
		{"no-unk", buildSPModel(bpe(spTestModel{pieces: tinyPieces()[1:]})), "no unknown piece"},
		{"bytes-without-fallback", buildSPModel(bpe(spTestModel{pieces: withBytes(tinyPieces())})), "without byte_fallback"},
		{"duplicate", buildSPModel(bpe(spTestModel{pieces: append(tinyPieces(), spTestPiece{"ab", -99, spNormal})})), `"ab" is defined twice`},
		{"truncated", buildSPModel(bpe(spTestModel{}))[:10], "not a SentencePiece model"},
		{"json", []byte(`{"model": {}}`), "not a SentencePiece model"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "m.model")
			if err := os.WriteFile(path, c.raw, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "tokenizer: ") {
				t.Errorf("Load: %v; want an error with %q", err, c.want)
			}
		})
	}
}

// BenchmarkSentencePiece_Multilingual encodes the multilingual corpus (the committed sample
// when the corpus has not been built) with the Mistral model, cold: a freshly loaded tokenizer
// each pass, as a shard sees it.
func BenchmarkSentencePiece_Multilingual(b *testing.B) {
	path := mlCorpusPath()
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join("testdata", "multilingual-sample.jsonl.gz")
	}
	var texts []string
	var n int64
	for _, d := range readMLDocs(b, path) {
		texts = append(texts, d.Text)
		n += int64(len(d.Text))
	}
	model := mistralModelPath(b)
	b.SetBytes(n)
	cpu0 := cpuTime()
	var toks int
	var buf []uint32
	for b.Loop() {
		tk, err := Load(model)
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range texts {
			buf = tk.Append(buf[:0], s, Options{})
			toks += len(buf)
		}
	}
	b.ReportMetric(float64(toks)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(n)*float64(b.N)/1e6/(cpuTime()-cpu0), "cpu-MB/s")
}
