package tokenizer

import (
	"fmt"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// bpe is a byte-pair-encoding model over token ids. Pieces are merged by repeatedly joining the
// adjacent pair with the lowest merge rank (leftmost first among equals), which is both
// tiktoken's rule (rank = the rank of the joined bytes) and Hugging Face's (rank = position in
// the merges list).
type bpe struct {
	tokens tokenList         // id -> raw bytes (byte-level) or vocabulary spelling; "" if unused
	vocab  map[string]uint32 // the inverse of tokens (Hugging Face models only; see lookup)
	short  *shortTable       // tokens of up to 16 bytes, for the fast whole-piece lookup
	long   map[string]uint32 // tokens longer than 16 bytes
	pairs  *pairTable        // nil with tiktoken's rule and for an ordered model
	low    *lowPairs         // pairs' merges of ids below 256; set by finish
	// concat selects tiktoken's merge rule: two parts merge when their concatenated bytes are a
	// token, with that token's rank, which is its id. Merges then need no pair table: they are
	// lookups in the same table as whole pieces (hot in cache), and loading builds nothing.
	concat   bool
	byteRank *[65536]uint32 // concat, ordered: the rank of every two-byte string, or noRank
	chars    *charTable     // concat, ordered: the characters mergeSpans may start as one part
	filter   *tokenFilter   // concat, wholeWord, byteLevel: which strings of 3 to 16 bytes may be tokens (set by index)
	// ordered is set for a Hugging Face model whose merges are tiktoken's rule in order
	// (ordered.go): pieces up to smallPiece merge as tiktoken's do (mergeSpans with leftIDs),
	// longer ones take their ranks from mergeFrom and mergeLeft (orderedRank); such a model has
	// no pair table.
	ordered bool
	// mergeFrom and mergeLeft are an ordered model's merges: the merges that make token t have
	// the ranks mergeFrom[t] to mergeFrom[t+1]-1, and mergeLeft holds the left id of each rank,
	// ascending within a token.
	mergeFrom, mergeLeft []uint32
	// pairFilter, for a byte-level model with a large pair table (a tokenizer.json whose merges
	// are not ordered), answers most lookups of pairs that do not merge without touching the
	// table (set by finish).
	pairFilter *pairFilter
	byteLevel  bool // initial symbols are bytes (tiktoken, HF ByteLevel); else characters
	byteIDs    [256]uint32
	hasByte    [256]bool
	wholeWord  bool // a piece that is itself a token is that token (tiktoken; HF ignore_merges)
	// split, when set, cuts long pieces where no token can cross (see chunk.go); only for
	// vocabularies whose every token merges back to itself from its bytes.
	split *splitter

	// Options of character-level Hugging Face models.
	unk          int64 // -1: none
	fuseUnk      bool
	byteFallback bool
	contPrefix   string
	eowSuffix    string
	byteTokens   [256]int64 // <0xXX> ids for byte_fallback, -1 if absent
	// inertBytes: byte_fallback with all 256 byte tokens, none of them in a merge.
	inertBytes bool
}

// index builds the lookup tables from tokens once the vocabulary is complete.
func (m *bpe) index() {
	n := m.tokens.len()
	m.short = newShortTable(n)
	m.short.prefault()
	// The filter is filled here, not in finish, to share packKey with the table.
	var filter *tokenFilter
	if m.concat || m.wholeWord || m.byteLevel {
		filter = newTokenFilter(n)
	}
	long := 0
	for id := range uint32(n) {
		switch s := m.tokens.at(id); {
		case len(s) > maxShortKey:
			long++
		case len(s) > 0:
			lo, hi := packKey(s)
			m.short.putPacked(lo, hi, len(s), id)
			if filter != nil && len(s) >= 3 {
				filter.add(lo, hi, len(s))
			}
		}
	}
	m.filter = filter
	m.long = make(map[string]uint32, long)
	for id := range uint32(n) {
		if s := m.tokens.at(id); len(s) > maxShortKey {
			m.long[s] = id
			if filter != nil {
				lo, hi := packKey(s[:maxShortKey])
				filter.add(lo, hi, len(s))
			}
		}
	}
}

// lookup returns the id of the token spelled s.
func (m *bpe) lookup(s string) (uint32, bool) {
	if len(s) > maxShortKey {
		id, ok := m.long[s]
		return id, ok
	}
	if len(s) == 0 {
		return 0, false
	}
	return m.short.get(s)
}

// finish builds the derived tables once the merges are all in.
func (m *bpe) finish() {
	if m.concat {
		m.byteRank = twoByteRanks(m.tokens)
		m.low = newLowPairs(m.lowConcat)
	} else {
		m.low = newLowPairs(m.bigPair)
		if m.byteLevel && m.pairs != nil && m.pairs.count >= minPairFilter {
			m.pairFilter = newPairFilter(m.pairs)
		}
	}
	if m.concat || m.ordered { // the models mergeSpans serves
		m.chars = newCharTable(m)
	}
}

// twoByteRanks returns the rank of every two-byte string: what looking each up in the vocabulary
// gives (the last of equal tokens wins, as in index), from one pass over the tokens instead of
// 65536 lookups that each miss the cache.
func twoByteRanks(tokens tokenList) *[65536]uint32 {
	r := new([65536]uint32)
	for i := range r {
		r[i] = noRank
	}
	for id := range uint32(tokens.len()) {
		if s := tokens.at(id); len(s) == 2 {
			r[uint16(s[0])<<8|uint16(s[1])] = id
		}
	}
	return r
}

// lowConcat is bigPair for the ids below 256 with tiktoken's rule. Those are the single bytes in
// OpenAI's vocabularies, whose merges byteRank already holds.
func (m *bpe) lowConcat(l, r uint32) uint64 {
	a, b := m.tokens.at(l), m.tokens.at(r)
	if len(a) != 1 || len(b) != 1 {
		return m.bigPair(l, r)
	}
	if id := m.byteRank[uint16(a[0])<<8|uint16(b[0])]; id != noRank {
		return uint64(id)<<32 | uint64(id)
	}
	return noMerge
}

// noRank marks a two-byte string that is no token.
const noRank = ^uint32(0)

// pair returns rank<<32 | merged id for the adjacent ids (l, r), or noMerge.
func (m *bpe) pair(l, r uint32) uint64 {
	if l|r < 256 {
		return m.low[l<<8|r]
	}
	return m.bigPair(l, r)
}

// bigPair is pair without the dense table of byte pairs.
func (m *bpe) bigPair(l, r uint32) uint64 {
	if m.concat {
		return m.concatRank(m.tokens.at(l), m.tokens.at(r))
	}
	if m.ordered {
		if v := m.concatRank(m.tokens.at(l), m.tokens.at(r)); v != noMerge {
			return m.orderedRank(uint32(v), l)
		}
		return noMerge
	}
	if m.pairFilter != nil && !m.pairFilter.mayHave(l, r) {
		return noMerge
	}
	return m.pairs.get(l, r)
}

// adjacent returns rank<<32 | merged id for the adjacent symbols i and j (j = next[i]) of a
// piece in the linked-list merge loops. With tiktoken's rule, and for an ordered model, the
// symbols are byte ranges of the piece (symbol k starts at byte k), so the merged token is a
// lookup of the substring they cover.
func (m *bpe) adjacent(piece string, ids []uint32, next []int32, i, j int32) uint64 {
	if !m.concat && !m.ordered {
		return m.pair(ids[i], ids[j])
	}
	end := int32(len(piece))
	if k := next[j]; k >= 0 {
		end = k
	}
	r := m.rankOf(piece[i:end])
	switch {
	case r == noMerge:
		return noMerge
	case m.ordered:
		return m.orderedRank(uint32(r), ids[i])
	}
	return r<<32 | r
}

// orderedRank returns rank<<32 | t for the merge of an ordered model that makes token t from
// the left part l, or noMerge when there is none.
func (m *bpe) orderedRank(t, l uint32) uint64 {
	from := m.mergeFrom[t]
	lefts := m.mergeLeft[from:m.mergeFrom[t+1]]
	k := 0
	for k < len(lefts) && lefts[k] < l { // a token has few merges (one per split)
		k++
	}
	if k == len(lefts) || lefts[k] != l {
		return noMerge
	}
	return uint64(from+uint32(k))<<32 | uint64(t)
}

// concatRank returns rank<<32 | id of the token spelled a+b (rank == id), or noMerge.
func (m *bpe) concatRank(a, b string) uint64 {
	var buf [maxShortKey]byte
	n := len(a) + len(b)
	if n <= maxShortKey {
		copy(buf[copy(buf[:], a):], b)
		if id, ok := m.short.get(unsafe.String(&buf[0], n)); ok {
			return uint64(id)<<32 | uint64(id)
		}
		return noMerge
	}
	if id, ok := m.long[a+b]; ok {
		return uint64(id)<<32 | uint64(id)
	}
	return noMerge
}

// smallPiece is the size up to which the quadratic in-place merge loop beats the tree.
const smallPiece = 48

// encodePiece appends the ids of one pre-tokenized piece to dst. Lookups go from cheapest to
// dearest: the per-state hot cache (frequent tokens and frequent multi-token pieces), the whole
// vocabulary, the per-state piece cache, and only then the merge loop.
func (m *bpe) encodePiece(dst []uint32, piece string, st *state) []uint32 {
	if m.byteLevel && len(piece) == 1 && m.hasByte[piece[0]] {
		return append(dst, m.byteIDs[piece[0]])
	}
	if len(piece) > maxShortKey {
		return m.encodeLong(dst, piece, st)
	}
	lo, hi := packKey(piece)
	h := hotHash(lo, hi, len(piece))
	if v, ok := st.hot.get(h, lo, hi, len(piece)); ok {
		if v&hotKind != hotToken {
			return st.appendHotIDs(dst, v)
		}
		if st.splitting && m.split.verify {
			dst, _ = m.chunkToken(dst, uint32(v>>hotPayload), piece, st)
			return dst
		}
		return append(dst, uint32(v>>hotPayload))
	}
	if m.wholeWord && m.mayBeToken(lo, hi, len(piece)) {
		if id, ok := m.short.getPacked(lo, hi, len(piece)); ok {
			if st.splitting && m.split.verify {
				var self bool
				if dst, self = m.chunkToken(dst, id, piece, st); self {
					st.hot.put(h, lo, hi, len(piece), hotTokenValue(id))
				}
				return dst
			}
			st.hot.put(h, lo, hi, len(piece), hotTokenValue(id))
			return append(dst, id)
		}
	}
	if i, ok := st.cache.lookup(lo, hi, len(piece)); ok {
		start := len(dst)
		dst = st.cache.appendIDs(dst, i)
		st.hot.put(h, lo, hi, len(piece), hotIDsValue(dst[start:], i))
		return dst
	}
	var ids []uint32
	if m.split != nil && len(piece) >= minSplitShort && (lo|hi)&highBits != 0 && !st.splitting {
		start := len(dst)
		if out, ok := m.encodeSplit(dst, piece, st); ok {
			dst, ids = out[:start], out[start:]
		}
	}
	if ids == nil {
		ids = m.merge(st, piece)
	}
	if st.cache.full() {
		st.cache.reset()
		st.hot.reset() // it points into the cache
	}
	i := st.cache.putShort(lo, hi, len(piece), ids)
	st.hot.put(h, lo, hi, len(piece), hotIDsValue(ids, i))
	return append(dst, ids...)
}

// encodeHot is encodePiece's most frequent case, small enough to be inlined into the scanning
// loops: a piece whose single token is in the hot cache.
func (m *bpe) encodeHot(dst []uint32, piece string, st *state) []uint32 {
	if n := len(piece); n <= maxShortKey {
		lo, hi := packKey(piece)
		e := &st.hot[hotHash(lo, hi, n)]
		if e.v&(hotLen|hotKind) == uint64(n)|hotToken && e.lo == lo && e.hi == hi {
			return append(dst, uint32(e.v>>hotPayload))
		}
	}
	return m.encodePiece(dst, piece, st)
}

// highBits has the high bit of every byte of a word: a packed key with any of them set holds a
// non-ASCII byte.
const highBits = 0x8080808080808080

// encodeLong is encodePiece for pieces longer than 16 bytes.
func (m *bpe) encodeLong(dst []uint32, piece string, st *state) []uint32 {
	if m.wholeWord && m.mayBeLongToken(piece) {
		if id, ok := m.long[piece]; ok {
			return append(dst, id)
		}
	}
	if m.split == nil {
		return m.encodeLongMerged(dst, piece, st)
	}
	// A word of an alphabet of two-byte characters (Cyrillic, Greek: it starts, after its
	// optional first character, with a non-ASCII byte below 0xE0) has few cuts and recurs, and
	// is looked up in the cache before its cuts are searched for, which costs more. Other pieces
	// (a sentence of Chinese or Japanese, of three-byte characters, seldom seen twice; a Latin
	// word with a few accented letters, which has cuts) are cut at once and not cached whole.
	k := firstNonASCII(piece)
	if k < 0 {
		return m.encodeLongMerged(dst, piece, st)
	}
	if k > 1 || piece[k] >= 0xE0 || len(piece) > maxCachedPiece {
		if out, ok := m.encodeSplit(dst, piece, st); ok {
			return out
		}
		return m.encodeLongMerged(dst, piece, st)
	}
	if ids, ok := st.cache.getLong(piece); ok {
		return append(dst, ids...)
	}
	start := len(dst)
	out, ok := m.encodeSplit(dst, piece, st)
	if !ok {
		out = append(dst, m.merge(st, piece)...)
	}
	if st.cache.full() {
		st.cache.reset()
		st.hot.reset()
	}
	st.cache.putLong(piece, out[start:])
	return out
}

// encodeLongWhole is encodeLong without splitting the piece: for the chunks of a split piece.
func (m *bpe) encodeLongWhole(dst []uint32, piece string, st *state) []uint32 {
	if m.wholeWord && m.mayBeLongToken(piece) {
		if id, ok := m.long[piece]; ok {
			if m.split.verify {
				dst, _ = m.chunkToken(dst, id, piece, st)
				return dst
			}
			return append(dst, id)
		}
	}
	return m.encodeLongMerged(dst, piece, st)
}

// encodeLongMerged encodes a long piece that is no token: from the long piece cache, or merged.
func (m *bpe) encodeLongMerged(dst []uint32, piece string, st *state) []uint32 {
	if len(piece) <= maxCachedPiece {
		if ids, ok := st.cache.getLong(piece); ok {
			return append(dst, ids...)
		}
	}
	ids := m.merge(st, piece)
	if len(piece) <= maxCachedPiece {
		if st.cache.full() {
			st.cache.reset()
			st.hot.reset()
		}
		st.cache.putLong(piece, ids)
	}
	return append(dst, ids...)
}

// merge runs BPE on a piece; the result is in st.ids until the next call.
func (m *bpe) merge(st *state, piece string) []uint32 {
	if m.concat && len(piece) <= smallPiece && len(piece) > 1 {
		st.ids = m.mergeSpans(piece, st, 0)
		return st.ids
	}
	if m.ordered && len(piece) <= smallPiece && len(piece) > 1 {
		st.ids = m.mergeSpans(piece, st, leftIDs)
		return st.ids
	}
	ids := m.initial(st.ids[:0], piece)
	if len(ids) > 1 {
		switch {
		case len(ids) <= smallPiece:
			ids = m.mergeSmall(ids, st)
		case len(ids) < hugePiece:
			ids = m.mergeTree(piece, ids, st)
		default:
			ids = m.mergeBuckets(piece, ids, st)
		}
	}
	st.ids = ids
	return ids
}

// initial returns the symbols a piece starts as: its bytes for byte-level models; for
// character-level ones, its characters (with the continuing-subword prefix and end-of-word
// suffix), falling back to <0xXX> byte tokens or the unknown token as Hugging Face's BPE does.
func (m *bpe) initial(ids []uint32, piece string) []uint32 {
	if m.byteLevel {
		ids = slices.Grow(ids, len(piece))
		for i := 0; i < len(piece); i++ {
			if m.hasByte[piece[i]] {
				ids = append(ids, m.byteIDs[piece[i]])
			}
		}
		return ids
	}
	unkPending := false
	for i := range piece {
		// An invalid byte is a character of its own (range steps over it alone).
		_, w := utf8.DecodeRuneInString(piece[i:])
		s := piece[i : i+w]
		end := i + w
		if i > 0 && m.contPrefix != "" {
			s = m.contPrefix + s
		}
		if end == len(piece) && m.eowSuffix != "" {
			s += m.eowSuffix
		}
		if id, ok := m.vocab[s]; ok {
			if unkPending {
				ids = append(ids, uint32(m.unk))
				unkPending = false
			}
			ids = append(ids, id)
			continue
		}
		if m.byteFallback && m.allBytes(s) {
			if unkPending {
				ids = append(ids, uint32(m.unk))
				unkPending = false
			}
			for j := 0; j < len(s); j++ {
				ids = append(ids, uint32(m.byteTokens[s[j]]))
			}
			continue
		}
		if m.unk >= 0 {
			if unkPending && !m.fuseUnk {
				ids = append(ids, uint32(m.unk))
			}
			unkPending = true
		}
	}
	if unkPending {
		ids = append(ids, uint32(m.unk))
	}
	return ids
}

func (m *bpe) allBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if m.byteTokens[s[i]] < 0 {
			return false
		}
	}
	return true
}

// mergeSpans is mergeSmall for tiktoken's rule: parts are byte ranges of the piece, and the
// rank of two adjacent parts is the rank of their concatenated bytes, looked up directly. vals
// holds rank<<32 | left id<<8 & left per pair (noRank for no merge): with left 0, the lowest rank
// and the leftmost among equal ranks merges first, as in tiktoken; with leftIDs, among equal
// ranks the pair with the lower left id first, as a tokenizer.json with ordered merges lists them
// (ordered.go), for pieces of fewer than 256 bytes (merge gives it those of up to smallPiece),
// whose positions fit below the left id (lowestKey).
func (m *bpe) mergeSpans(piece string, st *state, left uint64) []uint32 {
	ids, bounds, vals := st.ids[:0], st.bounds[:0], st.vals[:0]
	for i := 0; i < len(piece); {
		if piece[i] >= 0xC2 {
			if id, w := m.chars.part(piece, i); w > 0 {
				ids = append(ids, id)
				bounds = append(bounds, int32(i))
				i += w
				continue
			}
		}
		ids = append(ids, m.byteIDs[piece[i]])
		bounds = append(bounds, int32(i))
		i++
	}
	n := len(ids)
	bounds = append(bounds, int32(len(piece)))
	for i := 0; i+1 < n; i++ {
		var r uint64
		if a, b := bounds[i], bounds[i+2]; b-a == 2 {
			r = uint64(m.byteRank[uint16(piece[a])<<8|uint16(piece[a+1])])
		} else {
			r = min(m.rankHot(piece[a:b], st), uint64(noRank))
		}
		vals = append(vals, r<<32|uint64(ids[i])<<8&left)
	}
	for n > 1 {
		bi := lowestKey(vals[:n-1], left)
		if bi < 0 {
			break
		}
		ids[bi] = uint32(vals[bi] >> 32)
		// The parts after bi move down one place: a loop as short as the piece costs less than
		// three calls of memmove.
		for k := bi + 1; k < n-1; k++ {
			ids[k] = ids[k+1]
			bounds[k] = bounds[k+1]
			vals[k-1] = vals[k]
		}
		bounds[n-1] = bounds[n]
		n--
		if bi > 0 {
			vals[bi-1] = min(m.rankHot(piece[bounds[bi-1]:bounds[bi+1]], st), uint64(noRank))<<32 | uint64(ids[bi-1])<<8&left
		}
		if bi < n-1 {
			vals[bi] = min(m.rankHot(piece[bounds[bi]:bounds[bi+2]], st), uint64(noRank))<<32 | uint64(ids[bi])<<8&left
		}
	}
	st.bounds, st.vals = bounds, vals
	return ids[:n]
}

// leftIDs is mergeSpans' left for a model whose merges are ordered: the left id's 24 bits.
const leftIDs = 0xFFFFFF00

// lowestKey returns the position of the lowest of vals (as mergeSpans makes them with left),
// the leftmost among equal ones, or -1 when none merges; a branch-free minimum of each value |
// its position, which takes the low 32 bits with left 0 and the low byte with leftIDs.
func lowestKey(vals []uint64, left uint64) int {
	best := ^uint64(0)
	for i, v := range vals {
		best = min(best, v|uint64(i))
	}
	if best>>32 == uint64(noRank) {
		return -1
	}
	return int(uint32(best) &^ uint32(left))
}

// lowestPair returns the position of the adjacent pair to merge first in vals (rank<<32 |
// merged id, as pair gives them; noMerge for none): the lowest rank, the leftmost among equal
// ranks; or -1 when none merges. The minimum of rank<<32 | position is taken without a branch
// per pair.
func lowestPair(vals []uint64) int {
	best := ^uint64(0)
	for i, v := range vals {
		best = min(best, v&^(1<<32-1)|uint64(i))
	}
	if best>>32 == noMerge>>32 {
		return -1
	}
	return int(uint32(best))
}

// rankOf is the rank of the token spelled s, or noMerge; it serves tiktoken's rule, where the
// rank is the id. The merge loops ask for strings of 2 bytes (a dense table) and of 3 to 16,
// about half of which are no token: the filter answers most of those without touching the big
// table, whose lines are seldom in cache when the text is new.
func (m *bpe) rankOf(s string) uint64 {
	switch n := len(s); {
	case n == 2:
		if r := m.byteRank[uint16(s[0])<<8|uint16(s[1])]; r != noRank {
			return uint64(r)
		}
		return noMerge
	case n >= 3 && n <= maxShortKey:
		lo, hi := packKey(s)
		if !m.filter.mayHave(lo, hi, n) {
			return noMerge
		}
		if id, ok := m.short.getPacked(lo, hi, n); ok {
			return uint64(id)
		}
		return noMerge
	}
	if id, ok := m.lookup(s); ok {
		return uint64(id)
	}
	return noMerge
}

// rankHot is rankOf that looks a string of 3 to 16 bytes up in the state's hot cache first,
// where the frequent tokens are: their lines are in the core's cache, the big table's seldom.
// It writes out rankOf's filter and table lookup rather than share a function with it: such a
// function is not inlined, and the merge loop calls rankHot for nearly every merge.
func (m *bpe) rankHot(s string, st *state) uint64 {
	n := len(s)
	if n < 3 || n > maxShortKey {
		return m.rankOf(s)
	}
	lo, hi := packKey(s)
	h := hotHash(lo, hi, n)
	if v, ok := st.hot.get(h, lo, hi, n); ok && v&hotKind == hotToken {
		return v >> hotPayload
	}
	if !m.filter.mayHave(lo, hi, n) {
		return noMerge
	}
	if id, ok := m.short.getPacked(lo, hi, n); ok {
		st.hot.put(h, lo, hi, n, hotTokenValue(id))
		return uint64(id)
	}
	return noMerge
}

// mayBeLongToken is mayBeToken for a piece longer than 16 bytes: the filter holds the long
// tokens by their first 16 bytes and their length, so most long pieces, which are no token, are
// not hashed whole to look them up in the map of long tokens.
func (m *bpe) mayBeLongToken(piece string) bool {
	if m.filter == nil {
		return true
	}
	lo, hi := packKey(piece[:maxShortKey])
	return m.filter.mayHave(lo, hi, len(piece))
}

// mayBeToken reports whether the piece packed as (lo, hi) with length n may be a token: false
// means it certainly is not, and the lookup in the big table can be skipped. Pieces seen for the
// first time are looked up whole before they are merged.
func (m *bpe) mayBeToken(lo, hi uint64, n int) bool {
	return m.filter == nil || n < 3 || m.filter.mayHave(lo, hi, n)
}

// mergeSmall merges in place with a linear scan for the best pair: fastest for short pieces.
func (m *bpe) mergeSmall(ids []uint32, st *state) []uint32 {
	n := len(ids)
	vals := st.vals[:0]
	for i := 0; i+1 < n; i++ {
		vals = append(vals, m.pair(ids[i], ids[i+1]))
	}
	for n > 1 {
		bi := lowestPair(vals[:n-1])
		if bi < 0 {
			break
		}
		ids[bi] = uint32(vals[bi])
		copy(ids[bi+1:n-1], ids[bi+2:n])
		copy(vals[bi:n-2], vals[bi+1:n-1])
		n--
		if bi > 0 {
			vals[bi-1] = m.pair(ids[bi-1], ids[bi])
		}
		if bi < n-1 {
			vals[bi] = m.pair(ids[bi], ids[bi+1])
		}
	}
	st.vals = vals
	return ids[:n]
}

func (m *bpe) token(id uint32) (string, error) {
	if int(id) < m.tokens.len() {
		if s := m.tokens.at(id); s != "" {
			return s, nil
		}
	}
	return "", fmt.Errorf("tokenizer: token id %d is not in the vocabulary", id)
}
