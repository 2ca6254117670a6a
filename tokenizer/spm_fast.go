package tokenizer

import (
	"unicode/utf8"
	"unsafe"
)

// The fast path of a SentencePiece model (a .model file) is spEncoder (sp.go), the fast path of
// SentencePiece-style tokenizer.json files: it reads the text as it is, cuts it into words where
// no piece can cross, and looks the words up in the piece caches; a word it has not seen is
// merged by the library's rule (encodeSegment: highest score first, leftmost among equal
// scores), on its own. Cutting keeps the library's ids for that rule too: merges make pieces, so
// none joins the two sides of a position that no piece spans, the merges on each side depend on
// that side alone, and their order within a side (score, then position) is the same as in the
// whole text.
//
// newSPMEncoder checks at load what the cuts rest on, and the model keeps its general path
// (appendText: normalize, cut by bigrams, merge) when one does not hold:
//   - the normalization is the identity with escape_whitespaces, without
//     remove_extra_whitespaces or treat_whitespace_as_suffix: the normalized text is the text
//     with every space a "▁" and, with add_dummy_prefix, a "▁" in front (spPrefixAll);
//   - no user-defined pieces (they are symbols of their own, found by longest match);
//   - byte_fallback: a character that is no piece ends as its bytes' <0xXX> pieces;
//   - every character of a merge-able piece is a piece of its own: a character that is none
//     then takes part in no merge, and the text is cut on both sides of it;
//   - "▁" is a piece and no piece has a "▁" after another character: a word starts at each "▁"
//     that follows another character;
//   - no UNUSED pieces (the library splits those back by the merges of the whole text) and no
//     merge-able piece spelled like a reserved one (the library gives the reserved id).
//
// A text that is not valid UTF-8 is first made valid as the library reads it (each invalid byte
// U+FFFD).

// newSPMEncoder returns the fast path of m, or nil when m does not allow it.
func newSPMEncoder(m *spModel) *spEncoder {
	n := &m.norm
	if m.user != nil || m.hasUnused || !m.byteFallback || m.suffix || !n.escapeWhitespaces ||
		n.removeExtraWhitespaces {
		return nil
	}
	for _, sh := range m.shadowed {
		if sh {
			return nil
		}
	}
	// A character-level model of the merge-able pieces, for spEncoder's cutting: its tokens
	// are the pieces by id ("" for the reserved ones), its bytes fall back to the <0xXX> pieces.
	tokens := make([]string, len(m.spelled))
	for id, s := range m.spelled {
		if t := m.typ[id]; t == spNormal || t == spUserDefined || t == spUnused {
			tokens[id] = s
		}
	}
	repID, ok := m.pieces[spaceSymbol]
	if !ok {
		return nil
	}
	// The spellings are unique: vocab needs only the replacement (see newSPEncoder).
	b := &bpe{tokens: newTokenList(tokens), vocab: map[string]uint32{spaceSymbol: uint32(repID)}, pairs: m.pairs, unk: int64(m.unk), byteFallback: true,
		inertBytes: true, split: &splitter{charLevel: true, inertBytes: true}}
	for i, id := range m.byteIDs {
		b.byteTokens[i] = int64(id)
	}
	prefix := spPrefixNever
	if n.addDummyPrefix {
		prefix = spPrefixAll
	}
	e := newSPEncoder(b, spaceSymbol, prefix, false)
	if e == nil {
		return nil
	}
	for _, s := range tokens {
		if !utf8.ValidString(s) {
			continue // merges join whole characters: they never make such a piece
		}
		for _, r := range s {
			if e.char(r) < 0 {
				return nil
			}
		}
	}
	e.spm = m
	return e
}

// appendFast is appendText through the fast path.
func (m *spModel) appendFast(dst []uint32, text string, st *state) []uint32 {
	if out, ok := m.fast.appendValid(dst, text, true, st); ok {
		return out
	}
	// Not valid UTF-8: each invalid byte is U+FFFD, as the library's normalizer reads it.
	buf := make([]byte, 0, len(text)+16)
	for i := 0; i < len(text); {
		r, w := utf8.DecodeRuneInString(text[i:])
		if r == utf8.RuneError && w <= 1 {
			buf = append(buf, "\uFFFD"...)
			i++
			continue
		}
		buf = append(buf, text[i:i+w]...)
		i += w
	}
	out, _ := m.fast.appendValid(dst, unsafe.String(unsafe.SliceData(buf), len(buf)), true, st)
	return out
}

// spmMerge merges a word of a SentencePiece model whose characters are all pieces (a space
// standing for "▁") by the library's rule; the result is in st.ids until the next call.
func (e *spEncoder) spmMerge(st *state, word string) []uint32 {
	ids := e.charIDs(st, word)
	if len(ids) <= smallPiece {
		st.ids = e.spmMergeSmall(ids, st)
		return st.ids
	}
	sc := st.spm
	if sc == nil {
		sc = &spScratch{}
		st.spm = sc
	}
	norm := sc.norm[:0]
	for i := 0; i < len(word); i++ {
		if word[i] == ' ' {
			norm = append(norm, spaceSymbol...)
		} else {
			norm = append(norm, word[i])
		}
	}
	sc.norm = norm
	st.ids = e.spm.encodeSegment(ids[:0], unsafe.String(unsafe.SliceData(norm), len(norm)), sc)
	return st.ids
}

// spmMergeSmall is encodeSegment on a word of a few symbols, all pieces, without the heap: each
// round takes the adjacent pair whose merge has the lowest rank (the highest score), the
// leftmost among equal ranks.
func (e *spEncoder) spmMergeSmall(ids []uint32, st *state) []uint32 {
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
