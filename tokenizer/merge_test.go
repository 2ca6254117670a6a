package tokenizer

import (
	"math/rand"
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
