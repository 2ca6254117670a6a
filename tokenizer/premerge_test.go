package tokenizer

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// withoutChars returns a copy of m whose merge loop starts every piece as bytes.
func withoutChars(m *bpe) *bpe {
	m2 := *m
	m2.chars = &charTable{chars: make([]charEntry, 64)}
	return &m2
}

// premergeCase is one model of TestCharTable_SameAsBytes.
type premergeCase struct {
	name string
	// minShare is the share of the sample's characters of two and three bytes that must start
	// as one part (the test asserts that the table is used, not only that it is harmless).
	minShare float64
}

// TestCharTable_SameAsBytes: pieces merged with characters started as one part (charTable) give
// the ids of the same pieces merged from their bytes, for the words of the committed
// multilingual sample and for random pieces of characters, spaces and stray bytes (partial
// characters on either side of a character are where a merge may take its bytes first).
func TestCharTable_SameAsBytes(t *testing.T) {
	docs := readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz"))
	// Pieces whose ids differ when a character starts as one part after a byte that a token
	// ending with that byte and the character's first byte joins first (found with the check
	// of the byte before a character left out).
	words := []string{"оЛАТИНСКАЯ", "\"набора", "的показаны", "\"строка", "\"как", "éкак", "оЮ", "(суперпользователем."}
	before := []string{"", " ", "\"", "(", "о", "的", "é", "\xd0", "\xbe", "\xe7"}
	for _, d := range docs {
		for k, w := range strings.Fields(d.Text) {
			w = before[k%len(before)] + w
			for len(w) > smallPiece { // merge's limit for mergeSpans
				_, n := utf8.DecodeLastRuneInString(w[:smallPiece])
				words = append(words, w[:smallPiece-n+1])
				w = w[smallPiece-n+1:]
			}
			words = append(words, w, " "+w)
		}
	}
	alphabet := []string{"о", "е", "а", "т", "н", "в", "ą", "ł", "ó", "é", "ü", "ß", "的", "是", "一", "の", "に", "は",
		"人", "國", "語", "ア", "ー", "、", "。", " ", "  ", "a", "e", "n", ".", ",", "1", "\xd0", "\xd1", "\xbe", "\xb0",
		"\xe7", "\xe7\x9a", "\x84", "\x9a\x84", "😀", "\xf0\x9f"}
	rng := rand.New(rand.NewPCG(20, 12))
	for range 20000 {
		var b strings.Builder
		for n := 1 + rng.IntN(12); n > 0 && b.Len() < smallPiece-4; n-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		words = append(words, b.String())
	}
	for _, c := range []premergeCase{
		{"r50k_base", 0.5}, {"cl100k_base", 0.8}, {"o200k_base", 0.8}, {"llama3", 0.8}, {"gpt-oss", 0.8},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := loadTest(t, c.name).model
			if m.chars == nil {
				t.Fatal("no charTable")
			}
			plain := withoutChars(m)
			st, st2 := newState(), newState()
			var chars, whole int
			for _, w := range words {
				if len(w) < 2 || len(w) > smallPiece {
					continue
				}
				got := slices.Clone(m.merge(st, w))
				want := plain.merge(st2, w)
				if !slices.Equal(got, want) {
					t.Fatalf("%q: %v with characters as parts, %v from bytes", w, got, want)
				}
				for i := 0; i < len(w); {
					if _, n := m.chars.part(w, i); n > 0 {
						whole++
						i += n
						continue
					}
					if _, n := utf8.DecodeRuneInString(w[i:]); n == 2 || n == 3 {
						chars++
					}
					i++
				}
			}
			if share := float64(whole) / float64(whole+chars); share < c.minShare {
				t.Errorf("%.2f of the characters of 2 and 3 bytes start as one part, want >= %.2f", share, c.minShare)
			} else {
				t.Logf("%.2f of %d characters of 2 and 3 bytes start as one part", share, whole+chars)
			}
		})
	}
}

// TestCharTable_Threats: a character does not start as one part where a token takes its first
// byte with the byte before it (or its last with the byte after it) at a lower rank than its own
// merge; it does where no such token is.
func TestCharTable_Threats(t *testing.T) {
	m := loadTest(t, "cl100k_base").model
	// cl100k_base has " \xd0" (1301) below "о" (d0 be, 1482): after a space "о" is merged from
	// its bytes; after "п" (its last byte bf) and at the start of a piece it is one part.
	for _, c := range []struct {
		piece string
		i     int
		whole bool
	}{
		{" он", 1, false},
		{"он", 0, true},
		{"под", 2, true},
	} {
		_, n := m.chars.part(c.piece, c.i)
		if (n > 0) != c.whole {
			t.Errorf("part(%q, %d) = width %d, want one part: %v", c.piece, c.i, n, c.whole)
		}
	}
}

// BenchmarkMergeSpans: the merge loop alone (mergeSpans, as merge calls it) over the distinct
// words of the multilingual corpus (the committed sample when the corpus is not built), each
// with a space in front as the split patterns leave it, up to smallPiece bytes, with characters
// started as one part (chars) and from bytes (bytes); one fresh state per pass, so that the hot
// cache is as cold as a tokenizer's first pass leaves it.
func BenchmarkMergeSpans(b *testing.B) {
	path := mlCorpusPath()
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join("testdata", "multilingual-sample.jsonl.gz")
	}
	seen := map[string]bool{}
	var words []string
	var n int64
	for _, d := range readMLDocs(b, path) {
		for _, w := range strings.Fields(d.Text) {
			w = " " + w
			if len(w) <= smallPiece && !seen[w] {
				seen[w] = true
				words = append(words, w)
				n += int64(len(w))
			}
		}
	}
	for _, name := range []string{"cl100k_base", "o200k_base", "llama3", "gpt-oss"} {
		m := loadTest(b, name).model
		for _, c := range []struct {
			name string
			m    *bpe
		}{{"chars", m}, {"bytes", withoutChars(m)}} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				b.SetBytes(n)
				for range b.N {
					st := newState()
					for _, w := range words {
						c.m.merge(st, w)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(words)), "ns/word")
			})
		}
	}
}
