package tokenizer

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// orderedModel is a byte-level model of the 256 bytes (id = byte) and the tokens extra (ids from
// 256 on), whose merges are every split of every token into two tokens, ordered by the merged
// id and then the left id: the form a tokenizer.json converted from tiktoken has.
func orderedModel(extra []string) (*bpe, []uint32) {
	tokens := byteTokensAnd(extra)
	id := map[string]uint32{}
	for i, s := range tokens {
		id[s] = uint32(i)
	}
	var merges []uint32
	for t, s := range tokens {
		for j := 1; j < len(s); j++ { // by left id: shorter prefixes have lower ids here
			if l, ok := id[s[:j]]; ok {
				if r, ok := id[s[j:]]; ok {
					merges = append(merges, l, r, uint32(t))
				}
			}
		}
	}
	sortMergesByLeft(merges)
	m := orderedModelOf(tokens, merges)
	return m, merges
}

// byteTokensAnd returns the 256 single bytes (id = byte) followed by extra.
func byteTokensAnd(extra []string) []string {
	tokens := make([]string, 256, 256+len(extra))
	for b := range 256 {
		tokens[b] = string([]byte{byte(b)})
	}
	return append(tokens, extra...)
}

// sortMergesByLeft sorts the splits of each merged token by left id (stable across tokens).
func sortMergesByLeft(merges []uint32) {
	type mg struct{ l, r, t uint32 }
	ms := make([]mg, len(merges)/3)
	for i := range ms {
		ms[i] = mg{merges[3*i], merges[3*i+1], merges[3*i+2]}
	}
	slices.SortStableFunc(ms, func(a, b mg) int {
		if a.t != b.t {
			return int(a.t) - int(b.t)
		}
		return int(a.l) - int(b.l)
	})
	for i, m := range ms {
		merges[3*i], merges[3*i+1], merges[3*i+2] = m.l, m.r, m.t
	}
}

// orderedModelOf builds the byte-level model of tokens (the first 256 the bytes) with merges as
// a tokenizer.json's pair table and its two-byte ranks, and the ordered merges (orderedMerges),
// without the ordered path: setting ordered switches it on.
func orderedModelOf(tokens []string, merges []uint32) *bpe {
	m := &bpe{tokens: newTokenList(tokens), byteLevel: true, unk: -1}
	m.index()
	for b := range 256 {
		m.byteIDs[b], m.hasByte[b] = uint32(b), true
	}
	m.pairs = newPairTableOf(merges)
	m.finish()
	m.byteRank = twoByteRanks(m.tokens)
	m.mergeFrom, m.mergeLeft = orderedMerges(merges, len(tokens))
	return m
}

// withPairTable switches an ordered model to the pair table built from its ordered merges: the
// merges a tokenizer.json lists, read back from mergeFrom and mergeLeft.
func withPairTable(tb testing.TB, m *bpe) {
	tb.Helper()
	var merges []uint32
	for t := range uint32(m.tokens.len()) {
		for rank := m.mergeFrom[t]; rank < m.mergeFrom[t+1]; rank++ {
			l := m.mergeLeft[rank]
			s, left := m.tokens.at(t), m.tokens.at(l)
			r, ok := m.lookup(s[len(left):])
			if !ok || !strings.HasPrefix(s, left) {
				tb.Fatalf("merge %d of token %d (%q): left %d (%q) is no split", rank, t, s, l, left)
			}
			merges = append(merges, l, r, t)
		}
	}
	m.ordered = false
	m.pairs = newPairTableOf(merges)
	m.finish()
}

// randomVocab returns n tokens over the alphabet abc of up to maxLen bytes: most made as
// tiktoken's are trained (two earlier tokens joined), some any string (which no merge may make).
func randomVocab(rng *rand.Rand, n, maxLen int) []string {
	const alphabet = "abc"
	have := map[string]bool{"a": true, "b": true, "c": true}
	pool := []string{"a", "b", "c"}
	var extra []string
	for tries := 0; len(extra) < n && tries < 100*n; tries++ {
		s := pool[rng.IntN(len(pool))] + pool[rng.IntN(len(pool))]
		if rng.IntN(8) == 0 {
			b := make([]byte, 2+rng.IntN(maxLen-1))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			s = string(b)
		}
		if len(s) > maxLen || have[s] {
			continue
		}
		have[s] = true
		pool = append(pool, s)
		extra = append(extra, s)
	}
	return extra
}

// randomText returns 2 to smallPiece bytes over abc: random, or half the time periodic (a
// random piece of a repetition of u+v for two tokens u and v), where two splits of one token can
// stand side by side (u+v+u: uv|u|vu).
func randomText(rng *rand.Rand, m *bpe) string {
	var b strings.Builder
	if rng.IntN(2) == 0 {
		for range 2 + rng.IntN(smallPiece-1) {
			b.WriteByte("abc"[rng.IntN(3)])
		}
		return b.String()
	}
	n := uint32(m.tokens.len())
	u, v := m.tokens.at(256+rng.Uint32N(n-256)), m.tokens.at(rng.Uint32N(n))
	if v == "" || v[0] < 'a' || v[0] > 'c' {
		v = "abc"[rng.IntN(3):][:1]
	}
	for b.Len() < smallPiece {
		b.WriteString(u)
		b.WriteString(v)
	}
	s := b.String()
	i := rng.IntN(len(u) + len(v))
	return s[i : i+2+rng.IntN(min(smallPiece, len(s)-i)-1)]
}

// TestMergeSpansOrdered_SameAsPairs: on random vocabularies with merges in the converted form,
// the ordered path gives the pair table's ids for random texts of up to smallPiece bytes.
func TestMergeSpansOrdered_SameAsPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 20))
	st, ref := newState(), newState()
	merged := 0
	for v := range 400 {
		m, merges := orderedModel(randomVocab(rng, 4+rng.IntN(60), 2+rng.IntN(9)))
		if !m.mergesOrdered(merges) {
			t.Fatalf("vocab %d: converted merges not recognised", v)
		}
		st.hot.reset() // a state serves one model: its hot cache holds that model's ids
		for range 50 {
			text := randomText(rng, m)
			got := mergeBothWays(t, m, st, ref, text, fmt.Sprintf("vocab %d, %q", v, text))
			merged += len(text) - len(got)
		}
	}
	if merged == 0 {
		t.Fatal("nothing merged")
	}
}

// mergeBothWays merges text with m's ordered path (in st) and with its pair table (in ref),
// fails unless the two give the same ids, and returns them; what names the text.
func mergeBothWays(t *testing.T, m *bpe, st, ref *state, text, what string) []uint32 {
	t.Helper()
	want := slices.Clone(m.merge(ref, text))
	m.ordered = true
	got := m.merge(st, text)
	m.ordered = false
	if !slices.Equal(got, want) {
		t.Fatalf("%s: ordered %v, pair table %v", what, got, want)
	}
	return got
}

// TestMergeOrdered_LongPieces: on random vocabularies in the converted form, pieces longer than
// smallPiece (merge tree) and than hugePiece (merge buckets) get the pair table's ids from the
// ranks of the ordered merges. The texts are periodic, so that splits of one token stand side
// by side, and random.
func TestMergeOrdered_LongPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 20))
	st, ref := newState(), newState()
	for v := range 60 {
		m, _ := orderedModel(randomVocab(rng, 4+rng.IntN(60), 2+rng.IntN(9)))
		st.hot.reset() // a state serves one model: its hot cache holds that model's ids
		for k := range 12 {
			n := smallPiece + 1 + rng.IntN(400)
			if v%20 == 0 && k == 0 {
				n = hugePiece + rng.IntN(5000)
			}
			var b strings.Builder
			for b.Len() < n {
				b.WriteString(randomText(rng, m))
			}
			text := b.String()[:n]
			got := mergeBothWays(t, m, st, ref, text, fmt.Sprintf("vocab %d, %d bytes", v, n))
			if len(got) == len(text) {
				t.Fatalf("vocab %d: nothing merged in %d bytes", v, n)
			}
		}
	}
}

// TestMergesOrdered_Refuses: merges that are not exactly the converted form keep the pair table.
func TestMergesOrdered_Refuses(t *testing.T) {
	extra := []string{"ab", "ba", "aba", "bab", "abab", "aa"}
	_, merges := orderedModel(extra)
	tokens := byteTokensAnd(extra)
	if !orderedModelOf(tokens, merges).mergesOrdered(merges) {
		t.Fatal("the unedited merges are not recognised")
	}
	// find returns the index of the merge (l, r).
	find := func(l, r string) int {
		for i := 0; i < len(merges); i += 3 {
			if tokens[merges[i]] == l && tokens[merges[i+1]] == r {
				return i
			}
		}
		t.Fatalf("no merge %q %q", l, r)
		return 0
	}
	for _, c := range []struct {
		name   string
		tokens []string
		noByte bool // byte 255 has no token
		edit   func([]uint32) []uint32
	}{
		{"a split missing", tokens, false, func(m []uint32) []uint32 {
			i := find("a", "bab")
			return slices.Delete(m, i, i+3)
		}},
		{"splits of one token by right id", tokens, false, func(m []uint32) []uint32 {
			i, j := find("a", "bab"), find("ab", "ab")
			for k := range 3 {
				m[i+k], m[j+k] = m[j+k], m[i+k]
			}
			return m
		}},
		{"tokens out of id order", tokens, false, func(m []uint32) []uint32 {
			i, j := find("a", "b"), find("b", "a")
			for k := range 3 {
				m[i+k], m[j+k] = m[j+k], m[i+k]
			}
			return m
		}},
		{"a merge that spells another token", tokens, false, func(m []uint32) []uint32 {
			m[find("a", "a")+2] = m[find("a", "b")+2]
			return m
		}},
		{"a merge listed twice", tokens, false, func(m []uint32) []uint32 {
			i := find("ab", "ab")
			return slices.Insert(m, i, m[i:i+3]...)
		}},
		{"two ids with the same bytes", append(slices.Clone(tokens), "aba"), false, func(m []uint32) []uint32 { return m }},
		{"a byte without a token", tokens, true, func(m []uint32) []uint32 { return m }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := orderedModelOf(c.tokens, merges)
			m.hasByte[255] = !c.noByte
			if m.mergesOrdered(c.edit(slices.Clone(merges))) {
				t.Fatal("recognised as the converted form")
			}
		})
	}
}

// TestMergesOrdered_TokenizerJSONs: Llama 3's and GPT-OSS's merges (the byte-level testdata
// files, byteLevelJSONs, both converted from tiktoken vocabularies) are recognised and need no
// pair table, and the other testdata files keep their pair tables.
func TestMergesOrdered_TokenizerJSONs(t *testing.T) {
	for _, c := range []struct {
		name    string
		ordered bool
	}{{"llama3", true}, {"gpt-oss", true}, {"mistral-v0.3", false}, {"openllama", false}} {
		t.Run(c.name, func(t *testing.T) {
			tk := loadTest(t, c.name)
			if tk.model.ordered != c.ordered || (tk.model.pairs == nil) != c.ordered {
				t.Fatalf("ordered = %v, pair table %v; want ordered %v", tk.model.ordered, tk.model.pairs != nil, c.ordered)
			}
		})
	}
}

// checkOrderedSame fails unless Llama 3 and GPT-OSS give the same ids with the ordered path as
// with their pair tables on texts, and decode them back.
func checkOrderedSame(t *testing.T, texts []string) {
	for _, name := range byteLevelJSONs {
		t.Run(name, func(t *testing.T) {
			fast, pairs := loadTwice(t, name)
			if !fast.model.ordered {
				t.Fatal("want the ordered path")
			}
			if fast.model.pairs != nil {
				t.Fatal("an ordered model has a pair table")
			}
			withPairTable(t, pairs.model)
			checkSameIDs(t, fast, pairs, texts, "ordered", "pair table")
		})
	}
}

// TestMergesOrdered_SameIDs: the golden texts and the multilingual sample.
func TestMergesOrdered_SameIDs(t *testing.T) {
	sample := mlTexts(readMLDocs(t, filepath.Join("testdata", "multilingual-sample.jsonl.gz")))
	checkOrderedSame(t, append(goldenTexts(t), sample...))
}

// TestMergesOrdered_SameIDsCorpus: the whole multilingual corpus, when built.
func TestMergesOrdered_SameIDsCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("the whole multilingual corpus, twice per tokenizer")
	}
	texts := mlTexts(mlCorpus(t))
	checkOrderedSame(t, texts)
}
