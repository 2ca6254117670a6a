package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pkoukk/tiktoken-go"
)

// Side-by-side comparison with github.com/pkoukk/tiktoken-go, a Go port of tiktoken (regexp2
// for the split pattern, a map-based byte-pair merge). It runs offline: its rank files are read
// from testdata/vocab instead of being downloaded.

// assetBpeLoader implements tiktoken.BpeLoader over testdata/vocab: pkoukk asks for a URL
// ending in "<name>.tiktoken", we read testdata/vocab/<name>.tiktoken.gz.
type assetBpeLoader struct{}

func (assetBpeLoader) LoadTiktokenBpe(file string) (map[string]int, error) {
	gz, err := os.ReadFile("testdata/vocab/" + path.Base(file) + ".gz")
	if err != nil {
		return nil, fmt.Errorf("no rank file for %s: %w", file, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	ranks := make(map[string]int, 200_000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		tok, rank, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(tok)
		if err != nil {
			return nil, err
		}
		r, err := strconv.Atoi(rank)
		if err != nil {
			return nil, err
		}
		ranks[string(b)] = r
	}
	return ranks, sc.Err()
}

// pkoukk holds pkoukk's encodings; SetBpeLoader sets a variable of that package, so it is done
// once, before the first GetEncoding.
type pkoukkCache struct {
	once sync.Once
	mu   sync.Mutex
	m    map[string]*tiktoken.Tiktoken
}

var pkoukkEncodings = &pkoukkCache{m: map[string]*tiktoken.Tiktoken{}}

func loadPkoukk(tb testing.TB, name string) *tiktoken.Tiktoken {
	tb.Helper()
	c := pkoukkEncodings
	c.once.Do(func() { tiktoken.SetBpeLoader(assetBpeLoader{}) })
	c.mu.Lock()
	defer c.mu.Unlock()
	if enc, ok := c.m[name]; ok {
		return enc
	}
	enc, err := tiktoken.GetEncoding(name)
	if err != nil {
		tb.Fatalf("pkoukk GetEncoding(%s): %v", name, err)
	}
	c.m[name] = enc
	return enc
}

// encoderFunc encodes one text and returns its number of tokens; it is what the benchmarks time.
type encoderFunc func(text string) int

// compareImpls returns the two implementations under test for an encoding, both encoding
// special-token strings as plain text (Encode / EncodeOrdinary).
func compareImpls(tb testing.TB, encoding string) []struct {
	name string
	enc  encoderFunc
} {
	tk := loadTest(tb, encoding)
	pk := loadPkoukk(tb, encoding)
	var buf []uint32
	return []struct {
		name string
		enc  encoderFunc
	}{
		{"tokenmill", func(s string) int { buf = tk.Append(buf[:0], s, Options{}); return len(buf) }},
		{"pkoukk", func(s string) int { return len(pk.EncodeOrdinary(s)) }},
	}
}

// benchEncode times enc over texts (n bytes in all), reporting MB/s, tokens/s and cpu-MB/s (MB
// per second of the process's CPU time, which other processes on a shared machine do not move).
func benchEncode(b *testing.B, enc encoderFunc, texts []string, n int64) {
	b.SetBytes(n)
	b.ReportAllocs()
	toks := 0
	cpu0 := cpuTime()
	for b.Loop() {
		for _, s := range texts {
			toks += enc(s)
		}
	}
	b.ReportMetric(float64(toks)/b.Elapsed().Seconds(), "tokens/s")
	b.ReportMetric(float64(n)*float64(b.N)/1e6/(cpuTime()-cpu0), "cpu-MB/s")
}

// BenchmarkCompare: both implementations on the benchmark corpus (Go sources), one encoding at
// a time. Run with -cpu 1: the figures are per core.
func BenchmarkCompare(b *testing.B) {
	texts, n := benchCorpus(b)
	for _, impl := range []string{"tokenmill", "pkoukk"} {
		b.Run(impl, func(b *testing.B) {
			for _, encoding := range []string{"cl100k_base", "o200k_base"} {
				b.Run(encoding, func(b *testing.B) {
					for _, im := range compareImpls(b, encoding) {
						if im.name == impl {
							benchEncode(b, im.enc, texts, n)
						}
					}
				})
			}
		})
	}
}

// BenchmarkEncodeBatch: EncodeBatch over the corpus; run with -cpu 1,2,... to see the scaling.
func BenchmarkEncodeBatch(b *testing.B) {
	texts, n := benchCorpus(b)
	for _, encoding := range []string{"cl100k_base", "o200k_base"} {
		b.Run(encoding, func(b *testing.B) {
			tk := loadTest(b, encoding)
			b.SetBytes(n)
			b.ReportAllocs()
			toks := 0
			for b.Loop() {
				for _, ids := range tk.EncodeBatch(texts, Options{}) {
					toks += len(ids)
				}
			}
			b.ReportMetric(float64(toks)/b.Elapsed().Seconds(), "tokens/s")
		})
	}
}

// Input classes for BenchmarkClass: generated, deterministic documents.

var proseWords = strings.Fields(`the of and to in is was that for it with as he on be at by this had
not are but from or have an they which one you were her all she there would their we him been has
when who will more no if out so said what up its about into than them can only other new some
could time these two may then do first any my now such like our over man me even most made after
also did many before must through back years where much your way well down should because each
just those people how too little state good very make world still own see men work long get here
between both life being under never day same another know while last might us great old year off
come since against go came right used take three`)

var codeWords = strings.Fields(`func return if else for range var const type struct interface
map chan go defer select case switch default break continue package import nil true false err
ctx len cap append make new string int uint32 byte rune error bool float64 buf data result
value index count offset reader writer config handler request response server client token
parse encode decode write read close open`)

// genClass returns documents of one input class, about total bytes in docs of about docSize.
func genClass(class string, total, docSize int) []string {
	r := rand.New(rand.NewPCG(21, uint64(len(class))))
	var docs []string
	size := 0
	for size < total {
		var sb strings.Builder
		for sb.Len() < docSize {
			writeClassChunk(&sb, r, class)
		}
		docs = append(docs, sb.String())
		size += sb.Len()
	}
	return docs
}

// title upper-cases the first letter of an ASCII word.
func title(w string) string { return strings.ToUpper(w[:1]) + w[1:] }

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// writeClassChunk writes one sentence, line or run of the class.
func writeClassChunk(sb *strings.Builder, r *rand.Rand, class string) {
	switch class {
	case "ascii-prose": // sentences of common words, paragraphs
		n := 5 + r.IntN(20)
		for i := range n {
			w := pick(r, proseWords)
			if i == 0 {
				w = title(w)
			} else {
				sb.WriteByte(' ')
			}
			sb.WriteString(w)
			if i < n-1 && r.IntN(12) == 0 {
				sb.WriteString(pick(r, []string{",", ";", " -", "'s", "n't", ","}))
			}
		}
		sb.WriteString(pick(r, []string{". ", ". ", "? ", "! ", ".\n\n", ". "}))
	case "code": // Go-like lines with indentation, identifiers, operators, literals, comments
		sb.WriteString(strings.Repeat("\t", r.IntN(4)))
		switch r.IntN(6) {
		case 0:
			sb.WriteString("// " + pick(r, proseWords) + " " + pick(r, proseWords) + " " + pick(r, codeWords))
		case 1:
			fmt.Fprintf(sb, "if %s != nil {", pick(r, codeWords))
		case 2:
			fmt.Fprintf(sb, "%s%s := %s.%s(%s, %d)", pick(r, codeWords), title(pick(r, codeWords)),
				pick(r, codeWords), title(pick(r, codeWords)), pick(r, codeWords), r.IntN(4096))
		case 3:
			fmt.Fprintf(sb, "return %s[%s:%s+%d], %q", pick(r, codeWords), pick(r, codeWords), pick(r, codeWords), r.IntN(64), pick(r, proseWords)+" "+pick(r, proseWords))
		case 4:
			sb.WriteString("}")
		default:
			fmt.Fprintf(sb, "func (%c *%s) %s(%s []byte) (int, error) {", 'a'+rune(r.IntN(26)), title(pick(r, codeWords)), title(pick(r, codeWords)), pick(r, codeWords))
		}
		sb.WriteByte('\n')
	case "cjk": // sentences of ideographs and kana, no spaces
		for range 8 + r.IntN(30) {
			if r.IntN(3) == 0 {
				sb.WriteRune(0x3041 + rune(r.IntN(0x56))) // hiragana
			} else {
				sb.WriteRune(0x4E00 + rune(r.IntN(0x1400))) // common ideographs
			}
		}
		sb.WriteString(pick(r, []string{"。", "、", "。\n", "！", "？"}))
	case "emoji": // emoji and sequences, sometimes between words
		for range 1 + r.IntN(6) {
			switch r.IntN(5) {
			case 0:
				sb.WriteString(pick(r, []string{"👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "👍🏽", "❤️", "🧑🏿‍💻"}))
			default:
				sb.WriteRune(0x1F300 + rune(r.IntN(0x350)))
			}
		}
		sb.WriteString(pick(r, []string{" ", " ", " ok ", "\n", " " + pick(r, proseWords) + " "}))
	case "digits": // numbers of every length, CSV-like
		fmt.Fprintf(sb, "%d", r.Int64N(1<<62)>>r.IntN(62))
		sb.WriteString(pick(r, []string{",", ", ", " ", ".", "\n", ";", ":", "-"}))
	case "spaces": // deep indentation, blank lines, trailing space, short tokens
		sb.WriteString(strings.Repeat(" ", r.IntN(64)))
		sb.WriteString(pick(r, []string{"x", "{", "}", "- item", "|", "#", pick(r, proseWords)}))
		sb.WriteString(strings.Repeat(" ", r.IntN(8)))
		sb.WriteString(strings.Repeat("\n", 1+r.IntN(3)))
		if r.IntN(4) == 0 {
			sb.WriteString(strings.Repeat("\t", 1+r.IntN(6)))
		}
	case "no-spaces": // words run together (long pieces: each document is one word)
		w := pick(r, proseWords)
		if r.IntN(3) == 0 {
			w = title(w)
		}
		sb.WriteString(w)
	default:
		panic("unknown class " + class)
	}
}

// benchClasses: each class has ~2 MB in 4 kB documents, except no-spaces (1 MB in 1 kB
// documents, each a single 1 kB piece: pkoukk's merge is quadratic in the piece length).
var benchClasses = []struct {
	name           string
	total, docSize int
}{
	{"ascii-prose", 2 << 20, 4 << 10},
	{"code", 2 << 20, 4 << 10},
	{"cjk", 2 << 20, 4 << 10},
	{"emoji", 2 << 20, 4 << 10},
	{"digits", 2 << 20, 4 << 10},
	{"spaces", 2 << 20, 4 << 10},
	{"no-spaces", 1 << 20, 1 << 10},
}

// BenchmarkClass: both implementations (cl100k_base) per class of input.
func BenchmarkClass(b *testing.B) {
	for _, c := range benchClasses {
		docs := genClass(c.name, c.total, c.docSize)
		var n int64
		for _, d := range docs {
			n += int64(len(d))
		}
		b.Run(c.name, func(b *testing.B) {
			for _, im := range compareImpls(b, "cl100k_base") {
				b.Run(im.name, func(b *testing.B) { benchEncode(b, im.enc, docs, n) })
			}
		})
	}
}

// TestCompare_SameIDsAsPkoukk: on the golden texts both implementations should give tiktoken's
// ids. Ours must equal the golden ids; a pkoukk difference from the golden ids is logged, with
// the text, as a fault of pkoukk (it runs the pattern through regexp2, whose (?i) does not fold
// U+017F to s, for one).
func TestCompare_SameIDsAsPkoukk(t *testing.T) {
	step := 1
	if testing.Short() {
		step = 5
	}
	for _, encoding := range []string{"r50k_base", "p50k_base", "cl100k_base", "o200k_base"} {
		t.Run(encoding, func(t *testing.T) {
			tk := loadTest(t, encoding)
			pk := loadPkoukk(t, encoding)
			golden := readGolden(t, encoding+".jsonl")
			same, pkWrong := 0, 0
			for i := 0; i < len(golden); i += step {
				g := golden[i]
				ours := tk.Encode(g.Text)
				theirs := pk.EncodeOrdinary(g.Text)
				if !slices.Equal(ours, g.IDs) {
					t.Errorf("case %d %s: tokenmill differs from the golden ids:\n got %v\nwant %v",
						i, clip(g.Text), head(ours), head(g.IDs))
				}
				theirs32 := make([]uint32, len(theirs))
				for j, id := range theirs {
					theirs32[j] = uint32(id)
				}
				switch {
				case slices.Equal(ours, theirs32):
					same++
				case slices.Equal(theirs32, g.IDs):
					t.Errorf("case %d %s: pkoukk has the golden ids, tokenmill not", i, clip(g.Text))
				default:
					pkWrong++
					t.Logf("case %d %s: pkoukk differs from the golden ids (tokenmill is right):\n pkoukk %v\n golden %v",
						i, clip(g.Text), head(theirs32), head(g.IDs))
				}
			}
			t.Logf("%s: %d texts equal, %d where pkoukk is wrong", encoding, same, pkWrong)
		})
	}
}
