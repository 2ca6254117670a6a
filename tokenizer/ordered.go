package tokenizer

// A byte-level tokenizer.json converted from a tiktoken vocabulary (Llama 3's, GPT-OSS's) lists
// as merges every split of every token into two tokens, ordered by the merged token's id and,
// among the splits of one token, by the left part's id: tiktoken's rule, where two parts merge
// when their bytes together are a token, written out pair by pair. Such a model merges its
// pieces of up to smallPiece bytes as tiktoken's are merged (mergeSpansOrdered): the rank of two
// adjacent parts is a lookup of the bytes they cover in the table of whole tokens, which the
// whole-piece lookups keep in the CPU caches, with a dense table for two bytes, instead of a
// lookup of the pair in a pair table of megabytes. Pairs that make the same token are taken in
// the order of the merges list (by the left part's id, then leftmost), as the pair table takes
// them, where tiktoken takes the leftmost; no test text (random, periodic, the corpora) has
// had two such pairs side by side where the two orders part.

// mergesOrdered reports whether merges (left, right and merged id per merge, in rank order) are
// exactly the splits of m's tokens into two tokens, ordered by the merged id and then by the
// left id, for a byte-level model with all 256 bytes whose tokens are spelled by distinct bytes
// (every token's bytes look up to its own id).
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
	// splits counts each token's merges; a token has fewer than 256 splits only if it is
	// shorter than 257 bytes, and a longer one is checked against its count exactly too.
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
	ranks := twoByteRanks(m.tokens)
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
			if m.isToken(s[:j], ranks) && m.isToken(s[j:], ranks) {
				k++
			}
		}
		if k != splits[id] {
			return false
		}
	}
	return true
}

// isToken reports whether s is a token of a byte-level model with all 256 bytes, given the ranks
// of its two-byte strings (twoByteRanks): mostly without touching the big table.
func (m *bpe) isToken(s string, ranks *[65536]uint32) bool {
	switch n := len(s); {
	case n == 1:
		return true
	case n == 2:
		return ranks[uint16(s[0])<<8|uint16(s[1])] != noRank
	case n <= maxShortKey:
		lo, hi := packKey(s)
		if !m.filter.mayHave(lo, hi, n) {
			return false
		}
		_, ok := m.short.getPacked(lo, hi, n)
		return ok
	}
	_, ok := m.long[s]
	return ok
}

// mergeSpansOrdered is mergeSpans for a model whose merges are ordered (mergesOrdered): vals
// holds merged id<<32 | left id<<8 per pair, so the lowest is the pair the merges list first,
// the leftmost among equal ones (positions, below smallPiece, fit in the low byte).
func (m *bpe) mergeSpansOrdered(piece string, st *state) []uint32 {
	n := len(piece)
	ids, bounds, vals := st.ids[:0], st.bounds[:0], st.vals[:0]
	for i := 0; i < n; i++ {
		ids = append(ids, m.byteIDs[piece[i]])
		bounds = append(bounds, int32(i))
	}
	bounds = append(bounds, int32(n))
	for i := 0; i+1 < n; i++ {
		vals = append(vals, uint64(m.byteRank[uint16(piece[i])<<8|uint16(piece[i+1])])<<32|uint64(ids[i])<<8)
	}
	for n > 1 {
		best := ^uint64(0)
		for i, v := range vals[:n-1] {
			best = min(best, v|uint64(i))
		}
		if best>>32 == uint64(noRank) {
			break
		}
		bi := int(best & 0xFF)
		ids[bi] = uint32(best >> 32)
		copy(ids[bi+1:n-1], ids[bi+2:n])
		copy(bounds[bi+1:n], bounds[bi+2:n+1])
		copy(vals[bi:n-2], vals[bi+1:n-1])
		n--
		if bi > 0 {
			vals[bi-1] = min(m.rankOf(piece[bounds[bi-1]:bounds[bi+1]]), uint64(noRank))<<32 | uint64(ids[bi-1])<<8
		}
		if bi < n-1 {
			vals[bi] = min(m.rankOf(piece[bounds[bi]:bounds[bi+2]]), uint64(noRank))<<32 | uint64(ids[bi])<<8
		}
	}
	st.bounds, st.vals = bounds, vals
	return ids[:n]
}
