package tokenizer

import (
	"encoding/binary"
	"math/bits"
	"sync"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"
)

// Splitting long pieces where no token can cross.
//
// With tiktoken's merge rule every part a merge makes is a token. So if no token of the
// vocabulary spans a position p of a piece (starts before p and ends after it), no merge ever
// joins the parts on the two sides of p, the merges on each side depend on that side alone, and
// the ids of the piece are those of the text before p followed by those of the text after it. A
// sentence of Chinese or Japanese, which the split patterns leave whole (it has no spaces), so
// falls apart into chunks of a word or two, which repeat and hit the piece caches, where the
// sentence itself is new text that has to be merged from its bytes.
//
// A chunk that is itself a token is encoded as that token (the whole-piece lookup), where the
// reference merges it from its bytes; the two agree when every token merges back to itself from
// its own bytes. That holds for the built-in vocabularies (TestChunkSplit_BuiltinsSelfMerge); a
// byte-level tokenizer.json with ignore_merges checks it token by token as chunks meet them
// (chunkToken), and one without takes no token whole.
//
// The boundary test is conservative, between two valid UTF-8 characters a and b that are not
// both ASCII: a token spanning the boundary either holds both characters whole, so the pair
// (a, b) is in bigrams, or starts or ends within one of them, so it is not valid UTF-8 on its own
// and holds the last byte of a next to the first byte of b, a byte pair in partial.
//
// With a character-level model (SentencePiece-style BPE from a tokenizer.json), whose pieces
// start as characters, a character missing from the vocabulary starts as byte-fallback or
// unknown tokens, whose spellings are not its text; so a cut also needs both characters to be
// tokens of their own (single). Its merges make tokens too (the merged token is spelled as the
// two parts joined), so the same argument holds, and the word chunks of a document that the
// pre-tokenizer leaves whole (Metaspace without split, or none) hit the piece caches. When the
// byte-fallback tokens take part in no merge (inertBytes), a character that is no token of its
// own starts as byte tokens that never merge, so no merge crosses either side of it: a cut needs
// no more there.
type boundaryTable struct {
	partial [1 << 16 / 64]uint64 // byte pairs adjacent in a token that is not valid UTF-8
	// single marks the BMP characters that are tokens of their own; nil for byte-level models,
	// where every byte is a token.
	single     []uint64
	inertBytes bool // character-level: every byte has a fallback token, and none is merged
	// bigrams is a Bloom filter (two bits of one word per pair) of the character pairs of valid
	// UTF-8 tokens that are not both ASCII. A false positive only keeps a possible cut: the
	// test stays exact, and the filter, a few tens of kilobytes, stays in cache.
	// It is read as little-endian words: a built-in's is its embedded table itself (cutsFile).
	bigrams []byte
	shift   uint
	// left and right mark the BMP characters that are the first, resp. the second, of a pair in
	// bigrams: a pair whose first is not in left or whose second is not in right is in no token,
	// and the filter is not asked (many characters of a vocabulary's scripts are in no pair).
	left, right []uint64
	// runes memoises the ids of single BMP characters encoded as a chunk of their own, for
	// byte-level models (see runeIDs); 0 is unknown. Shared by the states of a tokenizer: the
	// entries are written atomically, and writers that race write the same value.
	runes []atomic.Uint64
	// selfMerges marks the tokens found to merge back to themselves from their bytes, by id
	// (splitter.verify only).
	selfMerges []atomic.Uint64
}

// minSplitShort is the length from which a piece of up to 16 bytes that misses the piece caches
// is split (two characters of most scripts beyond Latin); its ids are then cached whole. Longer
// pieces are split before the caches are asked.
const minSplitShort = 6

// runePairKey packs two runes into a nonzero key.
func runePairKey(a, b rune) uint64 { return 1<<63 | uint64(a)<<32 | uint64(b) }

// newBoundaryTable indexes the character pairs and partial byte pairs of a vocabulary's tokens;
// charLevel marks a model whose pieces start as characters.
func newBoundaryTable(tokens tokenList, charLevel, inertBytes bool) *boundaryTable {
	bt := &boundaryTable{inertBytes: charLevel && inertBytes}
	if charLevel {
		bt.single = make([]uint64, 1<<16/64)
	}
	keys := make([]uint64, 0, tokens.len()/4)
	data, off := tokens.data, tokens.off
	for id := 0; id+1 < len(off); id++ {
		s := data[off[id]:off[id+1]]
		if bt.single != nil {
			if r, w := utf8.DecodeRuneInString(s); w == len(s) && r < 1<<16 && (r != utf8.RuneError || w > 1) {
				bt.single[r>>6] |= 1 << (r & 63)
			}
		}
		i := 0
		for i < len(s) && s[i] < utf8.RuneSelf {
			i++
		}
		if i == len(s) || len(s) < 2 {
			continue // ASCII pairs are never cut
		}
		keys = bt.addToken(keys, s)
	}
	bits := uint(6)
	for 1<<bits < 16*len(keys) {
		bits++
	}
	bigrams := make([]uint64, 1<<(bits-6))
	bt.shift = 64 - (bits - 6)
	bt.left, bt.right = make([]uint64, 1<<16/64), make([]uint64, 1<<16/64)
	for _, k := range keys {
		w, m := bt.probe(k)
		bigrams[w] |= m
		setRuneBit(bt.left, rune(k>>32&0x7FFFFFFF))
		setRuneBit(bt.right, rune(k&0xFFFFFFFF))
	}
	bt.bigrams = make([]byte, 8*len(bigrams))
	for i, w := range bigrams {
		binary.LittleEndian.PutUint64(bt.bigrams[8*i:], w)
	}
	if !charLevel {
		bt.runes = make([]atomic.Uint64, 1<<16)
	}
	return bt
}

// The cuts file format: a byte-level boundaryTable as the built-ins embed it (assets/*.cuts),
// so that a tokenizer does not build it from 200 thousand tokens at its first long non-ASCII
// pieces (milliseconds, many of them page faults of the memory it fills), and its bigram
// filter is read from the binary's pages.
//
//	magic    8 bytes, cutsMagic
//	words    uint32, little-endian: the number of words of the bigram filter, a power of two
//	partial  8192 bytes, then left and right, 8192 bytes each: bitsets as little-endian words
//	bigrams  8*words bytes
const cutsMagic = "tmcuts01"

const bitsetBytes = 1 << 16 / 8

// encodeCuts returns the cuts file of a byte-level table.
func encodeCuts(bt *boundaryTable) []byte {
	out := []byte(cutsMagic)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(bt.bigrams)/8))
	for _, set := range [][]uint64{bt.partial[:], bt.left, bt.right} {
		for _, w := range set {
			out = binary.LittleEndian.AppendUint64(out, w)
		}
	}
	return append(out, bt.bigrams...)
}

// decodeCuts returns the byte-level table of a cuts file; its bigram filter is data itself.
func decodeCuts(data string) (*boundaryTable, error) {
	head := len(cutsMagic) + 4
	if len(data) < head+3*bitsetBytes || data[:len(cutsMagic)] != cutsMagic {
		return nil, errVocab
	}
	words := int(binary.LittleEndian.Uint32([]byte(data[len(cutsMagic):head])))
	body := data[head+3*bitsetBytes:]
	if words < 1 || words&(words-1) != 0 || len(body) != 8*words {
		return nil, errVocab
	}
	bt := &boundaryTable{left: make([]uint64, 1<<16/64), right: make([]uint64, 1<<16/64)}
	for k, set := range [][]uint64{bt.partial[:], bt.left, bt.right} {
		b := data[head+k*bitsetBytes:]
		for i := range set {
			set[i] = binary.LittleEndian.Uint64([]byte(b[8*i : 8*i+8]))
		}
	}
	bt.bigrams = unsafe.Slice(unsafe.StringData(body), len(body))
	bt.shift = uint(64 - bits.TrailingZeros(uint(words)))
	bt.runes = make([]atomic.Uint64, 1<<16)
	return bt, nil
}

// setRuneBit marks r in a bitset of the BMP; a character beyond it marks nothing (the
// bitsets are consulted for BMP characters only).
func setRuneBit(set []uint64, r rune) {
	if r < 1<<16 {
		set[r>>6] |= 1 << (r & 63)
	}
}

// inPairs reports whether the characters a, b may be a pair of bigrams: false when the BMP
// character a is first of no pair or the BMP character b second of none.
func (bt *boundaryTable) inPairs(a, b rune) bool {
	if a < 1<<16 && bt.left[a>>6]>>(a&63)&1 == 0 {
		return false
	}
	if b < 1<<16 && bt.right[b>>6]>>(b&63)&1 == 0 {
		return false
	}
	return true
}

// addToken appends the character pairs of a valid UTF-8 token s that are not both ASCII to keys,
// or marks the byte pairs of an invalid one in partial.
func (bt *boundaryTable) addToken(keys []uint64, s string) []uint64 {
	n := len(keys)
	prev := rune(-1)
	for i := 0; i < len(s); {
		r, w := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && w == 1 {
				for j := 0; j+1 < len(s); j++ {
					k := uint16(s[j])<<8 | uint16(s[j+1])
					bt.partial[k>>6] |= 1 << (k & 63)
				}
				return keys[:n]
			}
		}
		if prev >= 0 && (prev >= utf8.RuneSelf || r >= utf8.RuneSelf) {
			keys = append(keys, runePairKey(prev, r))
		}
		prev = r
		i += w
	}
	return keys
}

// probe returns the word and the two bits of the pair key k in the bigram filter.
func (bt *boundaryTable) probe(k uint64) (uint64, uint64) {
	// The word comes from the top bits of a multiplicative hash, the two bits from the twelve
	// below them (bit j of a product depends on the key's bits 0 to j only, so the key is
	// folded first to bring the first character down).
	h := (k ^ k>>29) * 0x9E3779B97F4A7C15
	return h >> bt.shift, 1<<(h>>(bt.shift-6)&63) | 1<<(h>>(bt.shift-12)&63)
}

// hasBigram reports whether the characters a, b may be adjacent in some valid UTF-8 token;
// false means they certainly are not.
func (bt *boundaryTable) hasBigram(a, b rune) bool {
	w, m := bt.probe(runePairKey(a, b))
	return binary.LittleEndian.Uint64(bt.bigrams[8*w:])&m == m
}

// hasPartial reports whether the bytes x, y are adjacent in some token that is not valid UTF-8.
func (bt *boundaryTable) hasPartial(x, y byte) bool {
	k := uint16(x)<<8 | uint16(y)
	return bt.partial[k>>6]&(1<<(k&63)) != 0
}

// canCut reports whether no token can cross between the valid characters a and b, of which x
// is the last byte and y the first.
func (bt *boundaryTable) canCut(x, y byte, a, b rune) bool {
	if bt.single != nil {
		sa, sb := bt.isSingle(a), bt.isSingle(b)
		if sa < 0 || sb < 0 {
			return false
		}
		if sa == 0 || sb == 0 {
			return bt.inertBytes
		}
	}
	return !bt.hasPartial(x, y) && (!bt.inPairs(a, b) || !bt.hasBigram(a, b))
}

// cutBetween is canCut for characters a and b that are both tokens of their own: no token
// crosses between them. Beyond the BMP the table does not know, and gives no cut.
func (bt *boundaryTable) cutBetween(x, y byte, a, b rune) bool {
	return a < 1<<16 && b < 1<<16 && !bt.hasPartial(x, y) && !bt.hasBigram(a, b)
}

// isSingle returns 1 when r is a token of its own, 0 when it is not, and -1 when the table
// does not know (beyond the BMP).
func (bt *boundaryTable) isSingle(r rune) int {
	if r >= 1<<16 {
		return -1
	}
	return int(bt.single[r>>6] >> (r & 63) & 1)
}

// appendCuts appends to dst the positions of piece where no token can cross, in order.
func (bt *boundaryTable) appendCuts(dst []int32, piece string) []int32 {
	prev, w := utf8.DecodeRuneInString(piece)
	prevOK := prev != utf8.RuneError || w > 1
	for i := w; i < len(piece); i += w {
		c := piece[i]
		if c < utf8.RuneSelf && prev < utf8.RuneSelf {
			prev, w, prevOK = rune(c), 1, true
			continue
		}
		var r rune
		var ok bool
		r, w, ok = decodeChar(piece, i)
		if ok && prevOK && bt.canCut(piece[i-1], c, prev, r) {
			dst = append(dst, int32(i))
		}
		prev, prevOK = r, ok
	}
	return dst
}

// decodeChar returns the character at s[i], its width and whether it is valid UTF-8 (an invalid
// byte has width 1). Two- and three-byte characters (the scripts of the BMP: Cyrillic, Greek,
// CJK, ...) are decoded inline.
func decodeChar(s string, i int) (rune, int, bool) {
	if r, ok := decode3(s, i); ok {
		return r, 3, true
	}
	if r, ok := decode2(s, i); ok {
		return r, 2, true
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return r, w, r != utf8.RuneError || w > 1
}

// decode2 returns the two-byte character at s[i] and true, or false where there is none (a
// lead byte outside 0xC2-0xDF, too few bytes or a bad continuation byte). It is small enough to
// be inlined into the scanning loops.
func decode2(s string, i int) (r rune, ok bool) {
	if i+1 < len(s) && s[i]-0xC2 < 0xE0-0xC2 && s[i+1]&0xC0 == 0x80 {
		r, ok = rune(s[i]&0x1F)<<6|rune(s[i+1]&0x3F), true
	}
	return r, ok
}

// decode3 returns the three-byte character at s[i] and true, or false where there is none (a
// lead byte outside 0xE0-0xEF, too few bytes, a bad continuation byte, an overlong form or a
// surrogate). It is small enough to be inlined into the scanning loops.
func decode3(s string, i int) (r rune, ok bool) {
	if i+2 < len(s) && s[i]&0xF0 == 0xE0 {
		c1, c2 := s[i+1], s[i+2]
		r = rune(s[i]&0x0F)<<12 | rune(c1&0x3F)<<6 | rune(c2&0x3F)
		ok = c1&0xC0|c2>>6 == 0x82 && r >= 0x800 && uint32(r-0xD800) >= 0x800
	}
	return r, ok
}

// splitter is the boundary table of a model that splits long pieces. It is built once the
// long non-ASCII pieces seen add up to splitAfter bytes: building it takes milliseconds, which a
// text with few such pieces (English prose, source code) would not earn back.
type splitter struct {
	charLevel  bool // the model's pieces start as characters (see boundaryTable)
	inertBytes bool // and its byte-fallback tokens are all there and never merged
	// verify is set for a model that takes a piece that is a token whole (ignore_merges) and
	// whose tokens are not known to merge back to themselves: a chunk that is a token is then
	// checked (chunkToken).
	verify bool
	// embedded is a built-in's cuts file (see cutsMagic), decoded instead of building the table.
	embedded string
	// selfMerges, when known beforehand (a tokenizer.json's load cache), marks every token
	// that merges back to itself from its bytes, by id: the table's selfMerges start from it.
	selfMerges []uint64
	seen       atomic.Int64
	once       sync.Once
	table      atomic.Pointer[boundaryTable]
}

// splitAfter is the number of bytes of long non-ASCII pieces after which the table is built.
const splitAfter = 32 << 10

// get returns the table of tokens, or nil while it is not worth building; n is the length of
// the piece at hand.
func (s *splitter) get(tokens tokenList, n int) *boundaryTable {
	if t := s.table.Load(); t != nil {
		return t
	}
	if s.embedded == "" && s.seen.Add(int64(n)) < splitAfter {
		return nil
	}
	s.once.Do(func() {
		var bt *boundaryTable
		if s.embedded != "" {
			bt, _ = decodeCuts(s.embedded) // TestBuiltinCuts checks every embedded file
		}
		if bt == nil {
			bt = newBoundaryTable(tokens, s.charLevel, s.inertBytes)
		}
		if s.verify {
			bt.selfMerges = make([]atomic.Uint64, (tokens.len()+63)/64)
			if len(s.selfMerges) == len(bt.selfMerges) {
				for i, w := range s.selfMerges {
					bt.selfMerges[i].Store(w)
				}
			}
		}
		s.table.Store(bt)
	})
	return s.table.Load()
}

// chunkToken returns dst with the ids of the chunk s, which is the token id, and whether they are
// that token. For a model that takes a piece that is a token whole, the ids of a chunk are its
// merges (a chunk is part of a piece), which are the token itself when the token merges back to
// itself from its bytes. A token is merged the first time it is a chunk, and marked when it
// merges back to itself; one that does not is merged every time, and its ids, right for the
// chunk only, are cached nowhere.
func (m *bpe) chunkToken(dst []uint32, id uint32, s string, st *state) ([]uint32, bool) {
	bt := m.split.table.Load()
	w, bit := id/64, uint64(1)<<(id%64)
	if bt.selfMerges[w].Load()&bit != 0 {
		return append(dst, id), true
	}
	ids := m.merge(st, s)
	if len(ids) == 1 && ids[0] == id {
		bt.selfMerges[w].Or(bit)
		return append(dst, id), true
	}
	return append(dst, ids...), false
}

// selfMerging returns the bitset, by id, of the tokens that merge back to themselves from their
// bytes: what chunkToken finds out one token at a time.
func (m *bpe) selfMerging() []uint64 {
	n := m.tokens.len()
	set := make([]uint64, (n+63)/64)
	st := newState()
	for id := range uint32(n) {
		if s := m.tokens.at(id); s != "" {
			if ids := m.merge(st, s); len(ids) == 1 && ids[0] == id {
				set[id/64] |= 1 << (id % 64)
			}
		}
	}
	return set
}

// hasNonASCII reports whether s has a byte >= 0x80, testing eight bytes at a time.
func hasNonASCII(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&highBits != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// firstNonASCII returns the index of the first byte >= 0x80 of s, or -1, testing eight bytes at
// a time.
func firstNonASCII(s string) int {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if w := binary.LittleEndian.Uint64(b[i:]) & highBits; w != 0 {
			return i + bits.TrailingZeros64(w)>>3
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return i
		}
	}
	return -1
}

// encodeSplit encodes a long piece chunk by chunk when it has positions no token can cross, and
// reports whether it did.
func (m *bpe) encodeSplit(dst []uint32, piece string, st *state) ([]uint32, bool) {
	if !hasNonASCII(piece) {
		return dst, false
	}
	bt := m.split.get(m.tokens, len(piece))
	if bt == nil {
		return dst, false
	}
	if bt.runes != nil {
		return m.encodeCut(dst, piece, st, bt)
	}
	cuts := bt.appendCuts(st.cuts[:0], piece)
	st.cuts = cuts
	if len(cuts) == 0 {
		return dst, false
	}
	st.splitting = true
	start := 0
	for k := 0; k <= len(cuts); k++ {
		end := len(piece)
		if k < len(cuts) {
			end = int(cuts[k])
		}
		dst = m.encodeChunk(dst, piece[start:end], st)
		start = end
	}
	st.splitting = false
	return dst, true
}

// encodeChunk encodes a chunk of a split piece.
func (m *bpe) encodeChunk(dst []uint32, chunk string, st *state) []uint32 {
	if len(chunk) > maxShortKey {
		return m.encodeLongWhole(dst, chunk, st)
	}
	return m.encodePiece(dst, chunk, st)
}

// encodeCut is encodeSplit for byte-level models: it looks for the cuts as appendCuts does and
// encodes each chunk as soon as its end is known; a chunk of one BMP character, the most
// frequent chunk of Chinese and Japanese text, takes its ids from the table of characters.
func (m *bpe) encodeCut(dst []uint32, piece string, st *state, bt *boundaryTable) ([]uint32, bool) {
	prev, w := utf8.DecodeRuneInString(piece)
	prevOK := prev != utf8.RuneError || w > 1
	start, prevAt := 0, 0 // the current chunk's start and the previous character's
	for i := w; i < len(piece); i += w {
		c := piece[i]
		if c < utf8.RuneSelf && prev < utf8.RuneSelf {
			prev, w, prevOK, prevAt = rune(c), 1, true, i
			continue
		}
		// decodeChar and canCut for a byte-level table, written out: neither is inlined, and
		// a sentence of Chinese or Japanese passes here once per character.
		r, ok := decode3(piece, i)
		if ok {
			w = 3
		} else {
			r, w, ok = decodeChar(piece, i)
		}
		if ok && prevOK && !bt.hasPartial(piece[i-1], c) && (!bt.inPairs(prev, r) || !bt.hasBigram(prev, r)) {
			st.splitting = true
			if prevAt == start {
				dst = m.encodeRune(dst, piece[start:i], prev, st, bt)
			} else {
				dst = m.encodeChunk(dst, piece[start:i], st)
			}
			start = i
		}
		prev, prevOK, prevAt = r, ok, i
	}
	if start == 0 {
		return dst, false
	}
	if prevAt == start && prevOK {
		dst = m.encodeRune(dst, piece[start:], prev, st, bt)
	} else {
		dst = m.encodeChunk(dst, piece[start:], st)
	}
	st.splitting = false
	return dst, true
}

// runeIDBits is the width of an id in a bt.runes entry: three ids and their count fit a word.
const runeIDBits = 20

// encodeRune encodes the chunk ch, the valid character r, from the table of characters, or
// encodes it as a chunk and records its ids there.
func (m *bpe) encodeRune(dst []uint32, ch string, r rune, st *state, bt *boundaryTable) []uint32 {
	if r < utf8.RuneSelf || r >= 1<<16 {
		return m.encodeChunk(dst, ch, st)
	}
	const mask = 1<<runeIDBits - 1
	if v := bt.runes[r].Load(); v != 0 {
		dst = append(dst, uint32(v&mask))
		if n := v >> 62; n > 1 {
			dst = append(dst, uint32(v>>runeIDBits&mask))
			if n > 2 {
				dst = append(dst, uint32(v>>(2*runeIDBits)&mask))
			}
		}
		return dst
	}
	start := len(dst)
	dst = m.encodePiece(dst, ch, st)
	if ids := dst[start:]; len(ids) <= 3 {
		v := uint64(len(ids)) << 62
		for k, id := range ids {
			if id > mask {
				return dst
			}
			v |= uint64(id) << (k * runeIDBits)
		}
		bt.runes[r].Store(v)
	}
	return dst
}
