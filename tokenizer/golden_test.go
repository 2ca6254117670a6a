package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

type goldenCase struct {
	Text string   `json:"text"`
	IDs  []uint32 `json:"ids"`
}

func readGolden(t testing.TB, name string) []goldenCase {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []goldenCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var c goldenCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// testTokenizers loads each tokenizer once per test binary: the big tokenizer.json files take
// a second to parse.
type tokCache struct {
	mu sync.Mutex
	m  map[string]*Tokenizer
}

var loaded = &tokCache{m: map[string]*Tokenizer{}}

// loadTest loads a built-in encoding by name, or "llama3"/"gpt-oss" from testdata's gzipped
// tokenizer.json files (decompressed into a temporary directory).
func loadTest(t testing.TB, name string) *Tokenizer {
	t.Helper()
	loaded.mu.Lock()
	defer loaded.mu.Unlock()
	if tk, ok := loaded.m[name]; ok {
		return tk
	}
	path := name
	if _, ok := builtinNames[name]; !ok {
		path = decompressTestJSON(t, name)
	}
	tk, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	loaded.m[name] = tk
	return tk
}

// loadTwice loads two separate tokenizers of name (as loadTest names them), for tests that
// change one of them and compare.
func loadTwice(tb testing.TB, name string) (*Tokenizer, *Tokenizer) {
	tb.Helper()
	path := name
	if _, ok := builtinNames[name]; !ok {
		path = decompressTestJSON(tb, name)
	}
	var tks [2]*Tokenizer
	for i := range tks {
		var err error
		if tks[i], err = Load(path); err != nil {
			tb.Fatalf("Load(%s): %v", name, err)
		}
	}
	return tks[0], tks[1]
}

// checkSameIDs fails unless got gives want's ids for every text and decodes them back to it;
// gotWhat and wantWhat name the two in the message.
func checkSameIDs(t *testing.T, got, want *Tokenizer, texts []string, gotWhat, wantWhat string) {
	t.Helper()
	var a, b []uint32
	for i, text := range texts {
		a = got.Append(a[:0], text, Options{})
		b = want.Append(b[:0], text, Options{})
		if k := firstIDDiff(a, toInts(b)); k >= 0 {
			t.Fatalf("text %d: %s differs at token %d: %v, %s %v", i, gotWhat, k, window(a, k), wantWhat, window(b, k))
		}
		if back, err := got.Decode(a); err != nil || string(back) != text {
			t.Fatalf("text %d: decode(encode(x)) != x (err %v)", i, err)
		}
	}
}

// fuzzSameIDs runs f on pairs of tokenizers that must give the same ids for any text.
func fuzzSameIDs(f *testing.F, pairs [][2]*Tokenizer, gotWhat, wantWhat string) {
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range pairs {
			if got, want := p[0].Encode(s), p[1].Encode(s); !slices.Equal(got, want) {
				t.Fatalf("%s: %q: %s %v, %s %v", p[0].Name(), s, gotWhat, got, wantWhat, want)
			}
		}
	})
}

func decompressTestJSON(t testing.TB, name string) string {
	t.Helper()
	in, err := os.Open(filepath.Join("testdata", name+".tokenizer.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	zr, err := gzip.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "tokenmill-tok")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".tokenizer.json")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTokenizer_Golden(t *testing.T) {
	cases := []struct {
		tok, file string
		special   bool
	}{
		{"r50k_base", "r50k_base.jsonl", false},
		{"p50k_base", "p50k_base.jsonl", false},
		{"cl100k_base", "cl100k_base.jsonl", false},
		{"cl100k_base", "cl100k_base.special.jsonl", true},
		{"o200k_base", "o200k_base.jsonl", false},
		{"o200k_harmony", "o200k_harmony.jsonl", false},
		{"o200k_harmony", "o200k_harmony.special.jsonl", true},
		{"llama3", "llama3.jsonl", false},
		{"gpt-oss", "gpt-oss.jsonl", false},
		{"gpt-oss", "gpt-oss.special.jsonl", true},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			tk := loadTest(t, c.tok)
			golden := readGolden(t, c.file)
			if len(golden) == 0 {
				t.Fatal("no golden vectors")
			}
			bad := 0
			for i, g := range golden {
				var got []uint32
				if c.special {
					got = tk.EncodeSpecial(g.Text)
				} else {
					got = tk.Encode(g.Text)
				}
				if !slices.Equal(got, g.IDs) {
					bad++
					if bad <= 3 {
						t.Errorf("case %d %.80q:\n got %v\nwant %v", i, g.Text, head(got), head(g.IDs))
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d vectors differ", bad, len(golden))
			}
		})
	}
}

func head(ids []uint32) []uint32 {
	if len(ids) > 40 {
		return ids[:40]
	}
	return ids
}
