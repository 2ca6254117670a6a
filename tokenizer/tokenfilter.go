package tokenizer

// tokenFilter is a Bloom filter of the vocabulary's tokens of 3 to 16 bytes, for tiktoken's
// merge rule. Merging a piece looks up the concatenation of two adjacent parts after every merge,
// and about half of those lookups find no token. On text seen for the first time (a data
// pipeline's single pass), nearly every new piece is merged, and a lookup in shortTable
// (megabytes) then misses the CPU caches; the filter, an eighth of a megabyte for cl100k, stays
// in cache and answers most of the failing lookups on its own. A new piece is also looked up
// whole before it is merged, and most such pieces are no token either.
//
// It also holds the tokens longer than 16 bytes, by their first 16 bytes and their length, in
// front of the map of long tokens.
//
// It is blocked: a key sets two bits of one 64-bit word, so a test is one load.
type tokenFilter struct {
	words []uint64
	shift uint
}

// newTokenFilter returns an empty filter for a vocabulary of n tokens (nearly all of them of 3
// to 16 bytes): about 8 bits per token keep false positives near 3%.
func newTokenFilter(n int) *tokenFilter {
	bits := uint(6)
	for 1<<bits < 8*n {
		bits++
	}
	return &tokenFilter{words: make([]uint64, 1<<(bits-6)), shift: 64 - (bits - 6)}
}

// add sets the bits of the key packed as (lo, hi) with length n.
func (f *tokenFilter) add(lo, hi uint64, n int) {
	w, m := f.probe(lo, hi, n)
	f.words[w] |= m
}

// probe returns the word and the two bits of the key packed as (lo, hi) with length n. The word
// comes from the top bits of the hash, the bits from the ones below (a multiplicative hash mixes
// best into its top bits; bit k of the product depends on the key's bits 0 to k only).
func (f *tokenFilter) probe(lo, hi uint64, n int) (uint64, uint64) {
	h := (lo ^ (hi * 0xC2B2AE3D27D4EB4F) ^ uint64(n)) * 0x9E3779B97F4A7C15
	return h >> f.shift, 1<<(h>>32&63) | 1<<(h>>38&63)
}

// mayHave reports whether the key may be a token; false means it certainly is not.
func (f *tokenFilter) mayHave(lo, hi uint64, n int) bool {
	w, m := f.probe(lo, hi, n)
	return f.words[w]&m == m
}

// pairFilter is a blocked Bloom filter of the pairs of a pair table, in front of it. On text
// seen for the first time every new piece is merged, and a lookup in the pair table (16 bytes a
// slot, megabytes) misses the CPU caches; many of those lookups are of pairs that do not merge
// (each pair of final tokens of a piece is one), and the filter, about four bits a pair, answers
// most of them from cache.
type pairFilter struct {
	words []uint64
	shift uint
}

// minPairFilter is the number of pairs from which the filter is built: a smaller table stays in
// cache anyway.
const minPairFilter = 1 << 16

// newPairFilter fills a filter with every pair of t.
func newPairFilter(t *pairTable) *pairFilter {
	bits := uint(6)
	for 1<<bits < 4*t.count {
		bits++
	}
	f := &pairFilter{words: make([]uint64, 1<<(bits-6)), shift: 64 - (bits - 6)}
	for _, sl := range t.slots {
		if sl.key != 0 {
			w, m := f.probe(sl.key - 1)
			f.words[w] |= m
		}
	}
	return f
}

// probe returns the word and the two bits of the pair key k (left<<32 | right).
func (f *pairFilter) probe(k uint64) (uint64, uint64) {
	h := (k ^ k>>29) * 0x9E3779B97F4A7C15
	return h >> f.shift, 1<<(h>>20&63) | 1<<(h>>26&63)
}

// mayHave reports whether (l, r) may be in the table; false means it certainly is not.
func (f *pairFilter) mayHave(l, r uint32) bool {
	w, m := f.probe(pairKey(l, r))
	return f.words[w]&m == m
}
