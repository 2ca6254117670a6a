package tokenizer

// A byte-level tokenizer.json converted from a tiktoken vocabulary (Llama 3's, GPT-OSS's) lists
// as merges every split of every token into two tokens, ordered by the merged token's id and,
// among the splits of one token, by the left part's id: tiktoken's rule, where two parts merge
// when their bytes together are a token, written out pair by pair. Such a model has no pair
// table. Two adjacent parts of a piece are looked up by the bytes they cover in the table of
// whole tokens, which the whole-piece lookups keep in the CPU caches (a dense table for two
// bytes), instead of by the pair in a pair table of megabytes. Pieces of up to smallPiece bytes
// merge as tiktoken's are merged (mergeSpans with leftIDs); longer ones take the merge's rank in
// the merges list from the merged token's merges (orderedRank) and merge as any pair table's.
// Pairs that make the same token are taken in the order of the merges list (by the left part's
// id, then leftmost), as Hugging Face takes them, where tiktoken takes the leftmost; no test
// text (random, periodic, the corpora) has had two such pairs side by side where the two orders
// part.

// mergesOrdered reports whether merges (left, right and merged id per merge, in rank order) are
// exactly the splits of m's tokens into two tokens, ordered by the merged id and then by the
// left id, for a byte-level model with all 256 bytes whose tokens are spelled by distinct bytes
// (every token's bytes look up to its own id). m.byteRank must be set (twoByteRanks): the splits
// are looked up as mergeSpans looks its pairs up (rankOf).
func (m *bpe) mergesOrdered(merges []uint32) bool {
	n := m.tokens.len()
	if !m.byteLevel || n >= 1<<24 || len(merges)%3 != 0 {
		return false
	}
	for b := range 256 {
		if !m.hasByte[b] {
			return false
		}
	}
	// splits counts each token's merges, to compare with its splits into two tokens.
	splits := make([]uint32, n)
	prevT, prevL := int64(-1), int64(-1)
	for i := 0; i < len(merges); i += 3 {
		l, r, t := merges[i], merges[i+1], merges[i+2]
		if int(max(l, r, t)) >= n || int64(t) < prevT || int64(t) == prevT && int64(l) <= prevL {
			return false
		}
		prevT, prevL = int64(t), int64(l)
		a, b, c := m.tokens.at(l), m.tokens.at(r), m.tokens.at(t)
		if a == "" || b == "" || len(a)+len(b) != len(c) || c[:len(a)] != a || c[len(a):] != b {
			return false
		}
		splits[t]++
	}
	for id := range uint32(n) {
		s := m.tokens.at(id)
		if s == "" {
			continue
		}
		if got, ok := m.lookup(s); !ok || got != id {
			return false
		}
		k := uint32(0)
		for j := 1; j < len(s); j++ {
			if m.rankOf(s[:j]) != noMerge && m.rankOf(s[j:]) != noMerge {
				k++
			}
		}
		if k != splits[id] {
			return false
		}
	}
	return true
}

// orderedMerges returns mergeFrom and mergeLeft (see bpe) of merges ordered as mergesOrdered
// checks, for a vocabulary of n tokens.
func orderedMerges(merges []uint32, n int) (from, left []uint32) {
	from = make([]uint32, n+1)
	left = make([]uint32, len(merges)/3)
	for i := 0; i < len(merges); i += 3 {
		left[i/3] = merges[i]
		from[merges[i+2]+1]++
	}
	for t := range n {
		from[t+1] += from[t]
	}
	return from, left
}
