package tokenizer

import (
	"strings"
	"unicode/utf8"
	"unsafe"
)

// SentencePiece-style BPE, read from the text as it is.
//
// The pipelines of SentencePiece-style tokenizer.json files (Mistral: Metaspace without split;
// OpenLLaMA, Llama 2: Prepend("▁") and Replace(" ", "▁") normalizers, no pre-tokenizer) turn the
// whole text into one piece, spaces replaced by "▁" and a "▁" put in front, and merge it with a
// character-level BPE whose characters missing from the vocabulary fall back to <0xXX> tokens.
// spEncoder gives the same ids without building that piece: it cuts the text itself where no
// merge can cross, into words that are looked up in the piece caches by their own bytes (a space
// standing for "▁"), and merges only the words it has not seen.
//
// Where it cuts (each cut is exact: no token of the vocabulary spans it, so no merge joins the
// two sides, and the ids of the text are those of the parts, one after the other):
//   - before a "▁" (a space or a literal U+2581) that follows another character: no token has a
//     "▁" after anything but "▁"s (checked at load). With Metaspace split=true, before every "▁",
//     as the pre-tokenizer does;
//   - on both sides of a character that is no token of its own: it starts as byte tokens, which
//     take part in no merge (the model's inertBytes), and an invalid byte likewise;
//   - between characters that are not both ASCII, where the model's boundary table (chunk.go)
//     says no token crosses: sentences of Chinese or Japanese fall apart into words there.
//
// A word's cache key is its text as it stands, spaces and all; its ids are those of the word
// with every space replaced, which its characters give directly (a space is the "▁" token). A
// word without a space is the same string in both forms, so the caches, shared with the general
// path, hold one answer per key.

// spPrefix is when a "▁" is put before a segment of text (a stretch without added tokens).
type spPrefix uint8

const (
	spPrefixNever  spPrefix = iota
	spPrefixFirst           // Metaspace prepend_scheme "first": the segment at offset 0, unless it starts with "▁" or a space
	spPrefixAlways          // Metaspace prepend_scheme "always": every segment, unless it starts with "▁" or a space
	spPrefixAll             // the Prepend normalizer: every non-empty segment
)

// spEncoder is the fast path of a SentencePiece-style model; it is immutable and shared.
type spEncoder struct {
	m        *bpe
	rep      string // the replacement of spaces, one character ("▁")
	repRune  rune
	repID    uint32
	prefix   spPrefix
	splitAll bool // cut before every "▁" (Metaspace split=true), not only after other characters
	// The id of each character as a token of its own, or -1 when it is none (it then falls
	// back to byte tokens): ASCII (also in bmp), the BMP, and the rest in a map.
	ascii [128]int32
	plain [256]bool // ASCII characters that are tokens, space excepted
	// asciiPairs has bit x<<7 | y set when some token has the ASCII characters x, y side by
	// side: between two others no merge crosses.
	asciiPairs [128 * 128 / 64]uint64
	bmp        []int32
	astral     map[rune]uint32
	// pairs is the model's merge table packed into 8-byte slots (half the size of pairTable's,
	// so more of it stays in cache), when ids and ranks fit in 16 bits; else nil.
	pairs      []uint64
	pairsShift uint
	// spm, when set, is the SentencePiece model (a .model file) this fast path serves: a word
	// missing from the caches is merged by its rule (spModel.encodeSegment), and a text that
	// is not valid UTF-8 is handed back (appendValid), as the library reads each invalid byte
	// as U+FFFD.
	spm *spModel
}

// newSPEncoder returns the fast path of model m for text whose spaces become rep, with a "▁"
// put in front per prefix, or nil when m does not allow it: a character-level BPE without
// affixes or ignore_merges, with inert byte fallback, whose replacement character is a token
// and which has no token with the replacement after another character (unless splitAll).
func newSPEncoder(m *bpe, rep string, prefix spPrefix, splitAll bool) *spEncoder {
	r, w := utf8.DecodeRuneInString(rep)
	if m.byteLevel || m.wholeWord || m.contPrefix != "" || m.eowSuffix != "" || !m.inertBytes || m.split == nil ||
		w != len(rep) || r == utf8.RuneError || r == ' ' {
		return nil
	}
	repID, ok := m.vocab[rep]
	if !ok {
		return nil
	}
	e := &spEncoder{m: m, rep: rep, repRune: r, repID: repID, prefix: prefix, splitAll: splitAll,
		bmp: make([]int32, 1<<16), astral: map[rune]uint32{}}
	e.packPairs()
	for i := range e.ascii {
		e.ascii[i] = -1
	}
	for i := range e.bmp {
		e.bmp[i] = -1
	}
	for id := range uint32(m.tokens.len()) {
		s := m.tokens.at(id)
		if !splitAll {
			// A token with the replacement after another character would let a merge cross a
			// cut before a "▁".
			for i := strings.Index(s, rep); i >= 0; {
				if strings.Trim(s[:i], rep) != "" {
					return nil
				}
				j := strings.Index(s[i+len(rep):], rep)
				if j < 0 {
					break
				}
				i += len(rep) + j
			}
		}
		for j := 0; j+1 < len(s); j++ {
			if x, y := uint(s[j]), uint(s[j+1]); x < utf8.RuneSelf && y < utf8.RuneSelf {
				e.asciiPairs[(x<<7|y)>>6] |= 1 << ((x<<7 | y) & 63)
			}
		}
		c, w := utf8.DecodeRuneInString(s)
		if w != len(s) || c == utf8.RuneError && w < 3 { // U+FFFD itself may be a token
			continue
		}
		// The vocab map decides between equal spellings, as initial does (a map that lacks
		// the token leaves its id: a SentencePiece model's spellings are unique).
		if v, ok := m.vocab[s]; ok {
			id = v
		}
		if c < utf8.RuneSelf {
			e.ascii[c] = int32(id)
			e.plain[c] = c != ' '
		}
		switch {
		case c < 1<<16:
			e.bmp[c] = int32(id)
		default:
			e.astral[c] = id
		}
	}
	return e
}

// packPairs builds pairs from the model's pair table when every id and rank fits in 16 bits. A
// slot holds (left<<16 | right) + 1 in its high half and rank<<16 | id in its low; 0 is empty.
func (e *spEncoder) packPairs() {
	pt := e.m.pairs
	if pt == nil || e.m.tokens.len() >= 1<<16 || pt.count > 1<<16 {
		return
	}
	bits := uint(4)
	for 1<<bits < 2*pt.count {
		bits++
	}
	e.pairs, e.pairsShift = make([]uint64, 1<<bits), 64-bits
	mask := uint64(len(e.pairs) - 1)
	for _, sl := range pt.slots {
		if sl.key == 0 {
			continue
		}
		l, r := uint32((sl.key-1)>>32), uint32(sl.key-1)
		rank, id := sl.val>>32, sl.val&0xFFFFFFFF
		if rank >= 1<<16 {
			e.pairs = nil
			return
		}
		k := uint64(l<<16|r) + 1
		i := (k * 0x9E3779B97F4A7C15) >> e.pairsShift
		for e.pairs[i] != 0 {
			i = (i + 1) & mask
		}
		e.pairs[i] = k<<32 | rank<<16 | id
	}
}

// pair returns rank<<32 | merged id for the adjacent ids (l, r), or noMerge.
func (e *spEncoder) pair(l, r uint32) uint64 {
	if e.pairs == nil {
		return e.m.pairs.get(l, r)
	}
	k := uint64(l<<16|r) + 1
	mask := uint64(len(e.pairs) - 1)
	for i := (k * 0x9E3779B97F4A7C15) >> e.pairsShift; ; i = (i + 1) & mask {
		s := e.pairs[i]
		if s>>32 == k {
			return (s>>16&0xFFFF)<<32 | s&0xFFFF
		}
		if s == 0 {
			return noMerge
		}
	}
}

// char returns the id of the character r as a token of its own, or -1.
func (e *spEncoder) char(r rune) int64 {
	if r < 1<<16 {
		return int64(e.bmp[r])
	}
	if id, ok := e.astral[r]; ok {
		return int64(id)
	}
	return -1
}

// appendSegment appends the ids of s, a segment of text without added tokens; first reports
// that it starts the text.
func (e *spEncoder) appendSegment(dst []uint32, s string, first bool, st *state) []uint32 {
	dst, _ = e.appendValid(dst, s, first, st)
	return dst
}

// appendValid is appendSegment; for a SentencePiece model (spm set) it appends nothing and
// reports false when s is not valid UTF-8.
func (e *spEncoder) appendValid(dst []uint32, s string, first bool, st *state) ([]uint32, bool) {
	if s == "" {
		return dst, true
	}
	var prefix bool
	switch e.prefix {
	case spPrefixAll:
		prefix = true
	case spPrefixAlways, spPrefixFirst:
		prefix = (e.prefix == spPrefixAlways || first) && s[0] != ' ' && !strings.HasPrefix(s, e.rep)
	}
	w := &st.spWords
	*w = spWords{e: e, s: s, st: st, dst: dst, prefix: prefix, items: w.items[:0]}
	var bt *boundaryTable
	var tableAsked bool
	// prev is the character before s[i] when it is a candidate for a cut by the boundary table
	// (a valid character, no "▁", not cut off already), else -1; prevSpace: it is a "▁".
	prev, prevSpace := rune(-1), prefix
	invalid := false
scan:
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ':
				if !prevSpace || e.splitAll {
					w.cut(i)
				}
				prev, prevSpace = -1, true
			case e.ascii[c] < 0:
				w.cut(i)
				w.fallback(i, i+1)
				prev, prevSpace = -1, false
			default:
				if prev >= utf8.RuneSelf && bt != nil && bt.cutBetween(s[i-1], c, prev, rune(c)) {
					w.cut(i)
				}
				// The rest of a run of ASCII characters that are tokens, cut where no token
				// has the two characters side by side.
				for i+1 < len(s) && e.plain[s[i+1]] {
					if k := uint(s[i])<<7 | uint(s[i+1]); e.asciiPairs[k>>6]&(1<<(k&63)) == 0 {
						w.cut(i + 1)
					}
					i++
				}
				prev, prevSpace = rune(s[i]), false
			}
			i++
			continue
		}
		if !tableAsked && e.m.split != nil {
			// Built at once (a few milliseconds), not after 32 KiB as on the general path.
			bt, tableAsked = e.m.split.get(e.m.tokens, splitAfter), true
		}
		var r rune
		var n int
		var ok bool
		// Two- and three-byte characters (the scripts of the BMP) decoded inline; others by
		// decodeChar.
		c1, c2 := byteAt(s, i+1), byteAt(s, i+2)
		switch {
		case c&0xF0 == 0xE0 && c1&0xC0 == 0x80 && c2&0xC0 == 0x80:
			r, n = rune(c&0x0F)<<12|rune(c1&0x3F)<<6|rune(c2&0x3F), 3
			ok = r >= 0x800 && (r < 0xD800 || r > 0xDFFF)
		case c&0xE0 == 0xC0 && c >= 0xC2 && c1&0xC0 == 0x80:
			r, n, ok = rune(c&0x1F)<<6|rune(c1&0x3F), 2, true
		}
		if !ok {
			r, n, ok = decodeChar(s, i)
		}
		switch {
		case !ok && e.spm != nil:
			invalid = true
			break scan
		case !ok || e.char(r) < 0:
			// A character that is no token (or an invalid byte) starts as byte tokens, which
			// never merge: its ids are those bytes, with cuts on both sides.
			w.cut(i)
			w.fallback(i, i+n)
			prev, prevSpace = -1, false
		case r == e.repRune:
			if !prevSpace || e.splitAll {
				w.cut(i)
			}
			prev, prevSpace = -1, true
		default:
			if prev >= 0 && bt != nil && bt.cutBetween(s[i-1], c, prev, r) {
				w.cut(i)
			}
			prev, prevSpace = r, false
		}
		i += n
	}
	if !invalid { // else dst, as passed in, holds nothing of s
		w.cut(len(s))
		w.drain()
		dst = w.dst
	}
	*w = spWords{items: w.items[:0]} // no references to the text or dst stay behind
	return dst, !invalid
}

// spWords is the state of appendSegment's cutting: the word under way starts at start, and
// prefix says it still owes the segment's leading "▁". Cut words wait in items, up to spBatch of
// them, and are then looked up together: the loads of their cache slots, which mostly miss the
// CPU caches on new text, are made side by side instead of one after the other.
type spWords struct {
	e      *spEncoder
	s      string
	st     *state
	dst    []uint32
	start  int
	prefix bool
	items  []spItem
}

// spItem is a word of the text, or a run of bytes that fall back to byte tokens (fallback).
type spItem struct {
	start, end int32
	fallback   bool
	single     bool   // a word of one character, whose id is slot
	slot       uint32 // the word's slot in the state's spHot, for words of up to 16 bytes
	lo, hi     uint64 // its packed key
}

// spBatch is the number of words looked up together.
const spBatch = 32

// cut ends the word under way at end; the next one starts there.
func (w *spWords) cut(end int) {
	start := w.start
	w.start = end
	if w.prefix {
		// The segment's first word, with its "▁": encoded at once (the batch is empty).
		w.prefix = false
		buf := append(append(w.st.norm[:0], w.e.rep...), w.s[start:end]...)
		w.st.norm = buf
		w.dst = w.e.encodeWord(w.dst, unsafe.String(unsafe.SliceData(buf), len(buf)), w.st)
		return
	}
	if start == end {
		return
	}
	w.items = append(w.items, spItem{start: int32(start), end: int32(end)})
	if len(w.items) == spBatch {
		w.drain()
	}
}

// fallback ends the word under way at start and appends the byte tokens of s[start:end].
func (w *spWords) fallback(start, end int) {
	w.cut(start)
	w.items = append(w.items, spItem{start: int32(start), end: int32(end), fallback: true})
	w.start = end
	if len(w.items) == spBatch {
		w.drain()
	}
}

// drain encodes the items waiting.
func (w *spWords) drain() {
	st, s := w.st, w.s
	if st.spHot == nil {
		st.spHot = make([]memoSlot, 1<<spHotBits)
	}
	// First the loads of every word's spHot slot, which do not depend on each other, then of
	// the piece cache's first slot for the words spHot does not hold.
	var sink uint32
	for k := range w.items {
		it := &w.items[k]
		if n := it.end - it.start; !it.fallback && n <= maxShortKey {
			if n <= utf8.UTFMax && s[it.start] != ' ' {
				// A word of one character is the token of that character: no cache.
				if r, cw := validRune(s, int(it.start)); cw == int(n) {
					it.single, it.slot = true, uint32(w.e.char(r))
					continue
				}
			}
			it.lo, it.hi = packKey(s[it.start:it.end])
			it.slot = uint32(spHotSlot(it.lo, it.hi, int(n)))
			sink += st.spHot[it.slot].meta
		}
	}
	for k := range w.items {
		it := &w.items[k]
		if n := it.end - it.start; !it.fallback && !it.single && n <= maxShortKey {
			if h := &st.spHot[it.slot]; h.meta&0xFF != uint32(n) || h.lo != it.lo || h.hi != it.hi {
				sink += st.cache.slots[st.cache.home(it.lo, it.hi, int(n))].meta
			}
		}
	}
	st.sink = sink
	dst, e := w.dst, w.e
	for _, it := range w.items {
		switch {
		case it.fallback:
			for k := it.start; k < it.end; k++ {
				dst = append(dst, uint32(e.m.byteTokens[s[k]]))
			}
		case it.single:
			dst = append(dst, it.slot)
		case it.end-it.start <= maxShortKey:
			dst = e.encodeShort(dst, s[it.start:it.end], it.lo, it.hi, &st.spHot[it.slot], st)
		default:
			dst = e.encodeWord(dst, s[it.start:it.end], st)
		}
	}
	w.dst = dst
	w.items = w.items[:0]
}

// spHotBits sizes the state's spHot: 32768 slots of 32 bytes.
const spHotBits = 15

// spHotSlot is the slot of spHot for the packed key (lo, hi) of length n.
func spHotSlot(lo, hi uint64, n int) uint64 {
	return ((lo ^ (hi * 0xC2B2AE3D27D4EB4F) ^ uint64(n)) * 0x9E3779B97F4A7C15) >> (64 - spHotBits)
}

// encodeWord appends the ids of one word: from the state's spHot, the piece cache, or merged.
func (e *spEncoder) encodeWord(dst []uint32, word string, st *state) []uint32 {
	n := len(word)
	if n <= maxShortKey {
		if st.spHot == nil {
			st.spHot = make([]memoSlot, 1<<spHotBits)
		}
		lo, hi := packKey(word)
		return e.encodeShort(dst, word, lo, hi, &st.spHot[spHotSlot(lo, hi, n)], st)
	}
	if n > maxCachedPiece {
		return append(dst, e.merge(st, word)...)
	}
	if ids, ok := st.cache.getLong(word); ok {
		return append(dst, ids...)
	}
	ids := e.merge(st, word)
	if st.cache.full() {
		st.cache.reset()
		clear(st.spHot)
	}
	st.cache.putLong(word, ids)
	return append(dst, ids...)
}

// encodeShort is encodeWord for a word of up to 16 bytes packed as (lo, hi), whose slot in
// spHot is hot.
func (e *spEncoder) encodeShort(dst []uint32, word string, lo, hi uint64, hot *memoSlot, st *state) []uint32 {
	n := len(word)
	if hot.meta&0xFF == uint32(n) && hot.lo == lo && hot.hi == hi {
		if k := hot.meta >> 8; k <= memoInline {
			return append(dst, hot.ids[:k]...)
		}
		return append(dst, st.cache.arena[hot.ids[0]:hot.ids[0]+hot.meta>>8]...)
	}
	if i, ok := st.cache.lookup(lo, hi, n); ok {
		*hot = st.cache.slots[i]
		return st.cache.appendIDs(dst, i)
	}
	ids := e.merge(st, word)
	if st.cache.full() {
		st.cache.reset()
		clear(st.spHot) // it holds offsets into the cache's arena
	}
	*hot = st.cache.slots[st.cache.putShort(lo, hi, n, ids)]
	return append(dst, ids...)
}

// charIDs appends the ids of word's characters (a space standing for the "▁" token) to st.ids[:0]:
// the symbols a merge starts from.
func (e *spEncoder) charIDs(st *state, word string) []uint32 {
	ids := st.ids[:0]
	for i := 0; i < len(word); {
		c := word[i]
		if c < utf8.RuneSelf {
			if c == ' ' {
				ids = append(ids, e.repID)
			} else {
				ids = append(ids, uint32(e.ascii[c]))
			}
			i++
			continue
		}
		r, n := validRune(word, i)
		ids = append(ids, uint32(e.char(r)))
		i += n
	}
	return ids
}

// merge runs BPE on a word whose characters are all tokens (spaces and "▁" standing for the
// "▁" token); the result is in st.ids until the next call.
func (e *spEncoder) merge(st *state, word string) []uint32 {
	if e.spm != nil {
		return e.spmMerge(st, word)
	}
	ids := e.charIDs(st, word)
	if len(ids) > 1 {
		m := e.m
		switch {
		case len(ids) <= smallPiece:
			ids = e.mergeSmall(ids, st)
		case len(ids) < hugePiece:
			ids = m.mergeTree(word, ids, st)
		default:
			ids = m.mergeBuckets(word, ids, st)
		}
	}
	st.ids = ids
	return ids
}

// spFastPath returns the fast path of a tokenizer.json pipeline of one of the two
// SentencePiece-style shapes, or nil: no normalizer and a Metaspace pre-tokenizer alone; or no
// pre-tokenizer and the normalizers Prepend(c) then Replace(" ", c), c one character.
func spFastPath(p *hfPipeline, m *bpe) *spEncoder {
	switch {
	case p.norm == nil && p.pre != nil:
		pt, ok := p.pre.(*pipelinePreTokenizer)
		if !ok || len(pt.steps) != 1 {
			return nil
		}
		ms, ok := pt.steps[0].(metaspaceSplitter)
		if !ok {
			return nil
		}
		prefix := map[prependScheme]spPrefix{prependAlways: spPrefixAlways, prependFirst: spPrefixFirst,
			prependNever: spPrefixNever}[ms.scheme]
		return newSPEncoder(m, ms.rep, prefix, ms.split)
	case p.norm != nil && p.pre == nil:
		seq, ok := p.norm.(sequenceNormalizer)
		if !ok || len(seq) != 2 {
			return nil
		}
		pre, ok1 := seq[0].(prependNormalizer)
		rep, ok2 := seq[1].(replaceNormalizer)
		if !ok1 || !ok2 {
			return nil
		}
		if lit, ok := rep.m.(stringMatcher); !ok || lit.lit != " " || rep.content != pre.prefix {
			return nil
		}
		return newSPEncoder(m, pre.prefix, spPrefixAll, false)
	}
	return nil
}

// mergeSmall is bpe.mergeSmall with the packed pair table.
func (e *spEncoder) mergeSmall(ids []uint32, st *state) []uint32 {
	n := len(ids)
	vals := st.vals[:0]
	for i := 0; i+1 < n; i++ {
		vals = append(vals, e.pair(ids[i], ids[i+1]))
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
			vals[bi-1] = e.pair(ids[bi-1], ids[bi])
		}
		if bi < n-1 {
			vals[bi] = e.pair(ids[bi], ids[bi+1])
		}
	}
	st.vals = vals
	return ids[:n]
}

// byteAt is s[i], or 0 past its end.
func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// validRune decodes the character at s[i], which is valid UTF-8 (the words of spEncoder are),
// and returns it with its width.
func validRune(s string, i int) (rune, int) {
	switch c := s[i]; {
	case c < 0x80:
		return rune(c), 1
	case c < 0xE0:
		return rune(c&0x1F)<<6 | rune(s[i+1]&0x3F), 2
	case c < 0xF0:
		return rune(c&0x0F)<<12 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	}
	return rune(s[i]&0x07)<<18 | rune(s[i+1]&0x3F)<<12 | rune(s[i+2]&0x3F)<<6 | rune(s[i+3]&0x3F), 4
}
