package tokenizer

import (
	"math/rand"
	"testing"
)

// TestTokenFilter checks that the filter passes every token it covers (a false negative would
// make a merge miss), and that it rejects most strings that are no token (else it is useless).
func TestTokenFilter(t *testing.T) {
	for _, name := range []string{"r50k_base", "cl100k_base", "o200k_base"} {
		m := loadTest(t, name).model
		for id := range uint32(m.tokens.len()) {
			if s := m.tokens.at(id); len(s) >= 3 && len(s) <= maxShortKey {
				lo, hi := packKey(s)
				if !m.filter.mayHave(lo, hi, len(s)) {
					t.Fatalf("%s: token %d %q rejected", name, id, s)
				}
			}
		}
		r := rand.New(rand.NewSource(1))
		var b [maxShortKey]byte
		misses, passed := 0, 0
		for range 100000 {
			n := 3 + r.Intn(maxShortKey-2)
			for i := range n {
				b[i] = byte('a' + r.Intn(26))
			}
			s := string(b[:n])
			if _, ok := m.lookup(s); ok {
				continue
			}
			misses++
			lo, hi := packKey(s)
			if m.filter.mayHave(lo, hi, n) {
				passed++
			}
		}
		if rate := float64(passed) / float64(misses); rate > 0.08 {
			t.Errorf("%s: %.1f%% of strings that are no token pass the filter", name, 100*rate)
		}
	}
}
