package tokenizer

import (
	"encoding/binary"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBPE_MergeStrategiesAgree checks the merge loops (in-place scan over ids or over byte spans,
// tournament tree, rank buckets)
// against each other on random pieces, for tiktoken ranks and Hugging Face merges.
func TestBPE_MergeStrategiesAgree(t *testing.T) {
	alphabets := []string{"aeioustrnlx ", "ab", "a", "0123456789", "日本語の文字列", "{}();\n\t "}
	for _, name := range []string{"cl100k_base", "r50k_base", "llama3"} {
		tk := loadTest(t, name)
		m := tk.model
		r := rand.New(rand.NewSource(7))
		st := newState()
		for i := 0; i < 400; i++ {
			alpha := []rune(alphabets[r.Intn(len(alphabets))])
			var sb strings.Builder
			for n := 2 + r.Intn(300); n > 0; n-- {
				sb.WriteRune(alpha[r.Intn(len(alpha))])
			}
			p := sb.String()
			small := m.mergeSmall(m.initial(nil, p), st)
			buckets := m.mergeBuckets(p, m.initial(nil, p), st)
			if tree := slices.Clone(m.mergeTree(p, m.initial(nil, p), st)); !slices.Equal(small, tree) {
				t.Fatalf("%s %q:\nscan %v\ntree %v", name, p, small, tree)
			}
			if m.concat {
				if spans := slices.Clone(m.mergeSpans(p, st, 0)); !slices.Equal(small, spans) {
					t.Fatalf("%s %q:\nscan  %v\nspans %v", name, p, small, spans)
				}
			}
			if !slices.Equal(small, buckets) {
				t.Fatalf("%s %q:\nscan    %v\nbuckets %v", name, p, small, buckets)
			}
		}
	}
}

// unpackKey is the string packKey packed into (lo, hi) with length n (1 to 16 bytes).
func unpackKey(lo, hi uint64, n int) string {
	b := make([]byte, n)
	switch {
	case n >= 8:
		binary.LittleEndian.PutUint64(b[n-8:], hi)
		binary.LittleEndian.PutUint64(b, lo)
	case n >= 4:
		binary.LittleEndian.PutUint32(b[n-4:], uint32(lo>>32))
		binary.LittleEndian.PutUint32(b, uint32(lo))
	default:
		b[0], b[n/2], b[n-1] = byte(lo), byte(lo>>8), byte(lo>>16)
	}
	return string(b)
}

// TestHotCache_HoldsTokensOwnIDs: after encoding the committed multilingual sample, every token
// id in a state's hot cache is the id of the string it is kept under, and the ids a slot holds
// for a piece of two or three tokens are that piece's merged from its bytes. The merge loop
// (rankHot) takes a merge's rank from there, so an entry of another model or of a wrong string
// would change the ids.
func TestHotCache_HoldsTokensOwnIDs(t *testing.T) {
	docs := readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz"))
	for _, name := range append([]string{"cl100k_base", "o200k_base"}, byteLevelJSONs...) {
		t.Run(name, func(t *testing.T) {
			tk := loadTest(t, name)
			var ids []uint32
			for _, d := range docs {
				ids = tk.Append(ids[:0], d.Text, Options{})
			}
			st := tk.getState()
			defer tk.pool.put(st)
			ref := newState() // merges the pieces of several tokens anew
			tokens, pieces := 0, 0
			for _, e := range st.hot {
				if e.v&hotLen == 0 || e.v&hotKind == 0 {
					continue
				}
				s := unpackKey(e.lo, e.hi, int(e.v&hotLen))
				if lo, hi := packKey(s); lo != e.lo || hi != e.hi {
					t.Fatalf("slot of %q does not pack back to its key", s)
				}
				if e.v&hotKind != hotToken {
					if want := tk.model.merge(ref, s); !slices.Equal(ref.appendHotIDs(nil, e.v), want) {
						t.Fatalf("hot cache: %q holds ids %v, its ids are %v", s, ref.appendHotIDs(nil, e.v), want)
					}
					pieces++
					continue
				}
				tokens++
				if id := uint32(e.v >> hotPayload); tk.model.tokens.at(id) != s {
					t.Fatalf("hot cache: %q holds id %d, which is %q", s, id, tk.model.tokens.at(id))
				}
			}
			if tokens < 1000 || pieces < 100 {
				t.Fatalf("hot cache holds %d tokens and %d pieces of several after the sample, want at least 1000 and 100", tokens, pieces)
			}
		})
	}
}
