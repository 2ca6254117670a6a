package tokenizer

import (
	"encoding/binary"
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
// its own bytes. That holds for the built-in vocabularies (TestChunkSplit_BuiltinsSelfMerge), and
// only they split pieces.
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
	bigrams []uint64
	shift   uint
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
	bt.bigrams = make([]uint64, 1<<(bits-6))
	bt.shift = 64 - (bits - 6)
	for _, k := range keys {
		w, m := bt.probe(k)
		bt.bigrams[w] |= m
	}
	return bt
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
	return bt.bigrams[w]&m == m
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
	return !bt.hasPartial(x, y) && !bt.hasBigram(a, b)
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
	switch c := s[i]; {
	case c&0xF0 == 0xE0 && i+2 < len(s):
		c1, c2 := s[i+1], s[i+2]
		r := rune(c&0x0F)<<12 | rune(c1&0x3F)<<6 | rune(c2&0x3F)
		if c1&0xC0 == 0x80 && c2&0xC0 == 0x80 && r >= 0x800 && (r < 0xD800 || r > 0xDFFF) {
			return r, 3, true
		}
	case c&0xE0 == 0xC0 && c >= 0xC2 && i+1 < len(s):
		if c1 := s[i+1]; c1&0xC0 == 0x80 {
			return rune(c&0x1F)<<6 | rune(c1&0x3F), 2, true
		}
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return r, w, r != utf8.RuneError || w > 1
}

// splitter is the boundary table of a model that splits long pieces. It is built once the
// long non-ASCII pieces seen add up to splitAfter bytes: building it takes milliseconds, which a
// text with few such pieces (English prose, source code) would not earn back.
type splitter struct {
	charLevel  bool // the model's pieces start as characters (see boundaryTable)
	inertBytes bool // and its byte-fallback tokens are all there and never merged
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
	if s.seen.Add(int64(n)) < splitAfter {
		return nil
	}
	s.once.Do(func() { s.table.Store(newBoundaryTable(tokens, s.charLevel, s.inertBytes)) })
	return s.table.Load()
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
		chunk := piece[start:end]
		if len(chunk) > maxShortKey {
			dst = m.encodeLongWhole(dst, chunk, st)
		} else {
			dst = m.encodePiece(dst, chunk, st)
		}
		start = end
	}
	st.splitting = false
	return dst, true
}
