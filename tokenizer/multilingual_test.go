package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The multilingual corpus: real prose in twelve languages (the Debian Reference and translated
// manual pages), one {"text", "file", "lang"} document a line, built into testdata/bench by
// make bench (../shared/testdata/make-multilingual-corpus.sh). testdata/multilingual-sample.jsonl.gz
// is a committed sample of it: for each lang, the documents in corpus order, each cut after its
// last newline within its first 8 KiB, until the lang has 24 KiB.

// mlDoc is one document of the multilingual corpus.
type mlDoc struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
}

// mlCorpusPath is the whole multilingual corpus: $TOKENMILL_BENCH_ML_CORPUS, or where make
// bench builds it.
func mlCorpusPath() string {
	if p := os.Getenv("TOKENMILL_BENCH_ML_CORPUS"); p != "" {
		return p
	}
	return filepath.Join("..", "testdata", "bench", "multilingual.jsonl")
}

// readMLDocs reads a multilingual JSONL file (gzipped when its name ends in .gz).
func readMLDocs(tb testing.TB, path string) []mlDoc {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if filepath.Ext(path) == ".gz" {
		zr, err := gzip.NewReader(f)
		if err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		r = zr
	}
	var docs []mlDoc
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var d mlDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return docs
}

// mlCorpus reads the whole multilingual corpus, or skips when it has not been built.
func mlCorpus(tb testing.TB) []mlDoc {
	tb.Helper()
	path := mlCorpusPath()
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("multilingual corpus not built (make bench builds it, or "+
			"../shared/testdata/make-multilingual-corpus.sh %s): %v", path, err)
	}
	return readMLDocs(tb, path)
}

// mlLangs returns the langs of docs in order of first appearance, and the texts of each.
func mlLangs(docs []mlDoc) ([]string, map[string][]string) {
	var langs []string
	by := map[string][]string{}
	for _, d := range docs {
		if _, ok := by[d.Lang]; !ok {
			langs = append(langs, d.Lang)
		}
		by[d.Lang] = append(by[d.Lang], d.Text)
	}
	slices.Sort(langs)
	return langs, by
}

// checkSameAsPkoukk encodes every document with tokenmill and pkoukk/tiktoken-go for each
// OpenAI encoding and requires equal ids, and decode(encode(x)) == x.
func checkSameAsPkoukk(t *testing.T, docs []mlDoc) {
	for _, encoding := range []string{"r50k_base", "p50k_base", "cl100k_base", "o200k_base"} {
		t.Run(encoding, func(t *testing.T) {
			tk := loadTest(t, encoding)
			pk := loadPkoukk(t, encoding)
			var ours []uint32
			bytes, fails := 0, 0
			for i, d := range docs {
				ours = tk.Append(ours[:0], d.Text, Options{})
				theirs := pk.EncodeOrdinary(d.Text)
				if k := firstIDDiff(ours, theirs); k >= 0 {
					fails++
					t.Errorf("doc %d (%s): ids differ from pkoukk at token %d of %d/%d:\n ours   %v\n pkoukk %v",
						i, d.Lang, k, len(ours), len(theirs), window(ours, k), window(toUint32(theirs), k))
				}
				back, err := tk.Decode(ours)
				if err != nil || string(back) != d.Text {
					fails++
					t.Errorf("doc %d (%s): decode(encode(x)) != x (err %v)", i, d.Lang, err)
				}
				if fails > 5 {
					t.Fatal("too many differences")
				}
				bytes += len(d.Text)
			}
			t.Logf("%s: %d documents, %d bytes, equal ids and round trip", encoding, len(docs), bytes)
		})
	}
}

// firstIDDiff returns the first index where a and b differ, or -1 when they are equal.
func firstIDDiff(a []uint32, b []int) int {
	for i := range min(len(a), len(b)) {
		if a[i] != uint32(b[i]) {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func toUint32(ids []int) []uint32 {
	out := make([]uint32, len(ids))
	for i, id := range ids {
		out[i] = uint32(id)
	}
	return out
}

// window returns ids around index k.
func window(ids []uint32, k int) []uint32 {
	return ids[max(0, k-3):min(len(ids), k+5)]
}

// TestMultilingualSample_SameIDsAsPkoukk: the committed sample of the multilingual corpus, every
// lang, gives pkoukk's ids for the four OpenAI encodings and decodes back to itself.
func TestMultilingualSample_SameIDsAsPkoukk(t *testing.T) {
	docs := readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz"))
	langs, _ := mlLangs(docs)
	if len(langs) != 12 {
		t.Fatalf("sample has langs %v, want the corpus's 12", langs)
	}
	checkSameAsPkoukk(t, docs)
}

// TestMultilingualCorpus_SameIDsAsPkoukk is the same check on the whole corpus, when built.
func TestMultilingualCorpus_SameIDsAsPkoukk(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole multilingual corpus takes minutes with -short's reference encoder")
	}
	checkSameAsPkoukk(t, mlCorpus(t))
}

// mlBench holds the multilingual corpus for the benchmarks, read once per test binary.
var mlBench struct {
	once  sync.Once
	langs []string
	by    map[string][]string
}

// BenchmarkMultilingual: the multilingual corpus per lang slice and whole ("all"), and the Go
// corpus ("go", when built: $TOKENMILL_BENCH_CORPUS or testdata/bench/corpus.jsonl), with
// cl100k_base and o200k_base and the tokenizer.json files that split like them (llama3 like
// cl100k_base, gpt-oss like o200k_base; from testdata): tokenmill cold (a freshly loaded
// tokenizer, one pass per iteration), tokenmill warm (one tokenizer across iterations) and, for
// the built-ins, pkoukk. Run with -cpu 1: the figures are per core.
func BenchmarkMultilingual(b *testing.B) {
	docs := mlCorpus(b)
	mlBench.once.Do(func() { mlBench.langs, mlBench.by = mlLangs(docs) })
	parts := append([]string{"all"}, mlBench.langs...)
	goTexts := goCorpus(b)
	if goTexts != nil {
		parts = append(parts, "go")
	}
	for _, encoding := range []string{"cl100k_base", "o200k_base", "llama3", "gpt-oss"} {
		_, builtin := builtinNames[encoding]
		load := func(b *testing.B) *Tokenizer {
			if builtin {
				tk, err := Load(encoding)
				if err != nil {
					b.Fatal(err)
				}
				return tk
			}
			return loadFresh(b, encoding)
		}
		for _, lang := range parts {
			texts := mlBench.by[lang]
			switch lang {
			case "all":
				texts = texts[:0:0]
				for _, d := range docs {
					texts = append(texts, d.Text)
				}
			case "go":
				texts = goTexts
			}
			var n int64
			for _, s := range texts {
				n += int64(len(s))
			}
			b.Run(encoding+"/"+lang+"/tokenmill-cold", func(b *testing.B) { benchColdWith(b, load, texts, n) })
			b.Run(encoding+"/"+lang+"/tokenmill-warm", func(b *testing.B) {
				tk := loadTest(b, encoding)
				var buf []uint32
				enc := func(s string) int { buf = tk.Append(buf[:0], s, Options{}); return len(buf) }
				for _, s := range texts { // an untimed pass fills the caches
					enc(s)
				}
				benchEncode(b, enc, texts, n)
			})
			if !builtin {
				continue
			}
			b.Run(encoding+"/"+lang+"/pkoukk", func(b *testing.B) {
				pk := loadPkoukk(b, encoding)
				benchEncode(b, func(s string) int { return len(pk.EncodeOrdinary(s)) }, texts, n)
			})
		}
	}
}

// goCorpus returns the texts of the Go corpus, or nil when it has not been built.
func goCorpus(b *testing.B) []string {
	path := os.Getenv("TOKENMILL_BENCH_CORPUS")
	if path == "" {
		path = filepath.Join("..", "testdata", "bench", "corpus.jsonl")
	}
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	var texts []string
	for _, d := range readMLDocs(b, path) {
		texts = append(texts, d.Text)
	}
	return texts
}

// loadFresh loads a testdata tokenizer.json anew (not from loadTest's cache).
func loadFresh(b *testing.B, name string) *Tokenizer {
	b.Helper()
	tk, err := Load(decompressTestJSON(b, name))
	if err != nil {
		b.Fatal(err)
	}
	return tk
}

// benchColdWith times passes over texts, each with a tokenizer from load, loaded afresh (outside
// the timing) for the pass: empty piece caches, as a shard of a pipeline sees them. Each
// iteration makes at least coldPasses passes, and as many as make coldBytes of text, so that a
// small lang slice is not a single pass of a few milliseconds; cpu-MB/s is the median of the
// passes' figures (MB per CPU second of the process), which a burst of page faults or another
// tenant of the machine in one pass does not move.
func benchColdWith(b *testing.B, load func(*testing.B) *Tokenizer, texts []string, n int64) {
	passes := max(coldPasses, int((coldBytes+n-1)/n))
	b.SetBytes(n * int64(passes))
	toks := 0
	var rates []float64
	for i := 0; i < b.N; i++ {
		for range passes {
			b.StopTimer()
			tk := load(b)
			// The garbage of the previous pass's tokenizer is collected here, not during the
			// timed pass: a worker loads its tokenizer once.
			runtime.GC()
			var buf []uint32
			cpu0 := cpuTime()
			b.StartTimer()
			for _, s := range texts {
				buf = tk.Append(buf[:0], s, Options{})
				toks += len(buf)
			}
			b.StopTimer()
			rates = append(rates, float64(n)/1e6/(cpuTime()-cpu0))
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(toks)/b.Elapsed().Seconds(), "tokens/s")
	// CPU time as well as wall time: on a shared machine the wall clock also counts the time
	// other processes held the core.
	slices.Sort(rates)
	b.ReportMetric(rates[len(rates)/2], "cpu-MB/s")
}

// coldPasses is the number of cold passes benchColdWith makes at least per iteration.
const coldPasses = 5

// coldBytes is the text that benchColdWith times at least, in cold passes, per iteration.
const coldBytes = 4 << 20

// BenchmarkMultilingualSP: SentencePiece-style tokenizer.json files (mistral-v0.3, openllama,
// and those of $TOKENMILL_SP_TOKENIZERS) and the SentencePiece model mistral-v0.3.model (read
// as the library reads it) on the multilingual corpus, whole ("all": cold, a freshly
// loaded tokenizer, one pass; and warm) and per lang slice (cold), one core.
func BenchmarkMultilingualSP(b *testing.B) {
	docs := mlCorpus(b)
	mlBench.once.Do(func() { mlBench.langs, mlBench.by = mlLangs(docs) })
	texts := make([]string, len(docs))
	var n int64
	for i, d := range docs {
		texts[i] = d.Text
		n += int64(len(d.Text))
	}
	paths := map[string]string{"mistral-v0.3": "", "openllama": "", "mistral-v0.3.model": mistralModelPath(b)}
	names := []string{"mistral-v0.3", "openllama", "mistral-v0.3.model"}
	for _, p := range strings.Split(os.Getenv("TOKENMILL_SP_TOKENIZERS"), ",") {
		if p != "" && paths[filepath.Base(p)] == "" {
			paths[filepath.Base(p)] = p
			names = append(names, filepath.Base(p))
		}
	}
	for _, name := range names {
		path := paths[name]
		load := func(b *testing.B) *Tokenizer {
			if path == "" {
				return loadFresh(b, name)
			}
			tk, err := Load(path)
			if err != nil {
				b.Fatal(err)
			}
			return tk
		}
		b.Run(name+"/all/tokenmill-cold", func(b *testing.B) { benchColdWith(b, load, texts, n) })
		b.Run(name+"/all/tokenmill-warm", func(b *testing.B) {
			tk := load(b)
			var buf []uint32
			enc := func(s string) int { buf = tk.Append(buf[:0], s, Options{}); return len(buf) }
			for _, s := range texts {
				enc(s)
			}
			benchEncode(b, enc, texts, n)
		})
		for _, lang := range mlBench.langs {
			lt := mlBench.by[lang]
			var ln int64
			for _, s := range lt {
				ln += int64(len(s))
			}
			b.Run(name+"/"+lang+"/tokenmill-cold", func(b *testing.B) { benchColdWith(b, load, lt, ln) })
		}
	}
}
