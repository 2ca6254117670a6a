package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// spModel is a SentencePiece BPE model read from its ModelProto (a tokenizer.model file). It
// encodes as the SentencePiece library does (normalizer.cc, then bpe_model.cc, then the
// processor's byte fallback), so its ids are the library's:
//
//   - Normalization: the identity normalizer only (name "identity", or any spec without a
//     precompiled charsmap or rule table; Llama 2 and Mistral ship it); add_dummy_prefix,
//     remove_extra_whitespaces, escape_whitespaces and treat_whitespace_as_suffix as the spec
//     says; a byte that is not valid UTF-8 becomes U+FFFD, as in the library.
//   - Symbols: one character each, or a user-defined piece (longest match), which never merges.
//   - Merges: the adjacent pair whose joined text is a piece (NORMAL, USER_DEFINED or UNUSED) with
//     the highest score, leftmost among equal scores; a final symbol that is an UNUSED piece is
//     split back into the two parts it was made of.
//   - Output: a symbol that is no piece is the unknown token, or with byte_fallback its UTF-8
//     bytes as <0xXX> tokens; without byte_fallback a run of unknown tokens is one.
//
// Scores, not ranks, decide the merges, and equal scores (Mistral's runs of ▁ all score -1e9)
// fall back to the position in the text, which a table of merge ranks cannot express: so the
// model runs its own merge loop (a heap, O(n log n) on a piece of n characters) rather than the
// rank-based loops of bpe. The text is cut where no piece can cross (between two characters
// that are adjacent in no piece) and the parts are memoised in the state's piece cache.
type spModel struct {
	pieces   map[string]int32 // NORMAL, USER_DEFINED and UNUSED pieces: what merges may make
	reserved map[string]int32 // CONTROL, UNKNOWN and BYTE pieces
	spelled  []string         // id -> piece
	score    []float32
	typ      []spPieceType
	unk      int32
	// byteIDs holds the <0xXX> ids for byte_fallback.
	byteFallback bool
	byteIDs      [256]int32
	user         *spUserSymbols // nil without user-defined pieces
	norm         spNormalizerSpec
	suffix       bool   // treat_whitespace_as_suffix
	ws           string // "▁" with escape_whitespaces, else " "
	unkSurface   string
	hasUnused    bool
	// short holds the merge-able pieces of up to 16 bytes; pairs maps every two of them whose
	// text joined is a merge-able piece to that piece's id.
	short *shortTable
	pairs *pairTable
	// shadowed marks the merge-able pieces whose text is also a reserved piece: the library's
	// PieceToId gives the reserved id for that text.
	shadowed []bool
	// bigrams holds every two adjacent characters of a merge-able piece (ASCII pairs in
	// asciiBigrams): the text is cut between two characters that are not one of them, where no
	// merge can join the two sides (see appendText).
	asciiBigrams [128 * 128 / 64]uint64
	bigrams      *pairTable
	scratch      sync.Pool // *spScratch
}

// spaceSymbol is U+2581, which SentencePiece writes for a space.
const spaceSymbol = "\u2581"

func loadSPM(path string) (*Tokenizer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := parseSPM(raw)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	t.name = strings.TrimSuffix(filepath.Base(path), ".model")
	if t.name == "tokenizer" {
		t.name = filepath.Base(filepath.Dir(path))
	}
	return t, nil
}

// parseSPM builds a tokenizer from a serialized SentencePiece ModelProto.
func parseSPM(raw []byte) (*Tokenizer, error) {
	p, err := parseSPProto(raw)
	if err != nil {
		return nil, fmt.Errorf("not a SentencePiece model: %w", err)
	}
	if len(p.pieces) == 0 {
		return nil, fmt.Errorf("not a SentencePiece model: no pieces")
	}
	if p.modelType != spBPE {
		return nil, fmt.Errorf("SentencePiece %s model is not supported (only BPE)", p.modelType)
	}
	n := p.normalizer
	if len(n.precompiledCharsmap) > 0 || n.ruleTSV != "" {
		return nil, fmt.Errorf("SentencePiece normalizer %q is not supported (only identity, without a precompiled charsmap or rules)", n.name)
	}
	if p.hasDenormalizer {
		return nil, fmt.Errorf("SentencePiece denormalizer is not supported")
	}
	m, err := newSPModel(p)
	if err != nil {
		return nil, err
	}
	t := &Tokenizer{kind: "sentencepiece", sp: m, specials: map[string]uint32{}, eos: -1, bos: -1,
		vocabSize: len(p.pieces)}
	var added []addedToken
	for id, pc := range p.pieces {
		if pc.typ == spControl || pc.typ == spUnknown {
			t.specials[pc.piece] = uint32(id)
			added = append(added, addedToken{content: pc.piece, id: uint32(id), special: true})
		}
	}
	t.setAdded(added)
	if id, ok := m.reserved[p.bosPiece]; ok && m.typ[id] == spControl {
		t.bos = int64(id)
	}
	if id, ok := m.reserved[p.eosPiece]; ok && m.typ[id] == spControl {
		t.eos = int64(id)
	}
	name := n.name
	if name == "" {
		name = "identity"
	}
	t.pattern = fmt.Sprintf("SentencePiece BPE (normalizer %s, add_dummy_prefix %v, remove_extra_whitespaces %v, "+
		"escape_whitespaces %v, treat_whitespace_as_suffix %v, byte_fallback %v)",
		name, n.addDummyPrefix, n.removeExtraWhitespaces, n.escapeWhitespaces, p.treatWhitespaceAsSuffix, p.byteFallback)
	sum := sha256.Sum256(raw)
	t.sha256 = hex.EncodeToString(sum[:])
	return t, nil
}

// newSPModel indexes the pieces as the library's ModelInterface does, with its checks.
func newSPModel(p *spProto) (*spModel, error) {
	m := &spModel{pieces: make(map[string]int32, len(p.pieces)), reserved: map[string]int32{},
		spelled: make([]string, len(p.pieces)), score: make([]float32, len(p.pieces)),
		typ: make([]spPieceType, len(p.pieces)), unk: -1, byteFallback: p.byteFallback,
		norm: p.normalizer, suffix: p.treatWhitespaceAsSuffix, ws: " ", unkSurface: p.unkSurface}
	if m.norm.escapeWhitespaces {
		m.ws = spaceSymbol
	}
	for b := range m.byteIDs {
		m.byteIDs[b] = -1
	}
	var user []string
	for i, pc := range p.pieces {
		id := int32(i)
		if pc.piece == "" {
			return nil, fmt.Errorf("piece %d is empty", i)
		}
		m.spelled[i], m.score[i], m.typ[i] = pc.piece, pc.score, pc.typ
		table := m.reserved
		switch pc.typ {
		case spNormal, spUserDefined, spUnused:
			table = m.pieces
		case spUnknown:
			if m.unk >= 0 {
				return nil, fmt.Errorf("piece %d %q: a second unknown piece", i, pc.piece)
			}
			m.unk = id
		case spControl:
		case spByte:
			if !p.byteFallback {
				return nil, fmt.Errorf("piece %d: byte piece %q without byte_fallback", i, pc.piece)
			}
			b, ok := parseBytePiece(pc.piece)
			if !ok {
				return nil, fmt.Errorf("piece %d: byte piece %q is invalid", i, pc.piece)
			}
			m.byteIDs[b] = id
		default:
			return nil, fmt.Errorf("piece %d %q: unknown type %d", i, pc.piece, pc.typ)
		}
		if _, dup := table[pc.piece]; dup {
			return nil, fmt.Errorf("piece %d %q is defined twice", i, pc.piece)
		}
		table[pc.piece] = id
		switch pc.typ {
		case spUserDefined:
			user = append(user, pc.piece)
		case spUnused:
			m.hasUnused = true
		}
	}
	if m.unk < 0 {
		return nil, fmt.Errorf("no unknown piece")
	}
	if p.byteFallback {
		for b, id := range m.byteIDs {
			if id < 0 {
				return nil, fmt.Errorf("byte_fallback without the byte piece <0x%02X>", b)
			}
		}
	}
	m.user = newSPUserSymbols(user)
	m.short = newShortTable(len(m.pieces))
	m.short.prefault()
	m.shadowed = make([]bool, len(p.pieces))
	for s, id := range m.pieces {
		if len(s) <= maxShortKey {
			lo, hi := packKey(s)
			m.short.putPacked(lo, hi, len(s), uint32(id))
		}
		if _, ok := m.reserved[s]; ok {
			m.shadowed[id] = true
		}
	}
	// Every split of a piece into two pieces, at every byte: the symbols of the merge loop
	// start at character boundaries, but a piece need not be valid UTF-8.
	m.pairs = newPairTable(4 * len(m.pieces))
	for s, id := range m.pieces {
		for i := 1; i < len(s); i++ {
			a, b := m.pieceID(s[:i]), m.pieceID(s[i:])
			if a >= 0 && b >= 0 {
				m.pairs.put(uint32(a), uint32(b), 0, uint32(id))
			}
		}
	}
	m.bigrams = newPairTable(len(m.pieces))
	for s := range m.pieces {
		if !utf8.ValidString(s) {
			continue // merges join whole characters: they never make such a piece
		}
		prev := rune(-1)
		for _, r := range s {
			if prev >= 0 {
				m.addBigram(prev, r)
			}
			prev = r
		}
	}
	m.scratch.New = func() any { return &spScratch{} }
	return m, nil
}

// parseBytePiece reads a byte piece, spelled <0xXX>.
func parseBytePiece(s string) (byte, bool) {
	if len(s) != 6 || !strings.HasPrefix(s, "<0x") || s[5] != '>' {
		return 0, false
	}
	var b byte
	for _, c := range []byte(s[3:5]) {
		switch {
		case c >= '0' && c <= '9':
			b = b<<4 | (c - '0')
		case c >= 'A' && c <= 'F':
			b = b<<4 | (c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return b, true
}

// spUserSymbols finds the longest user-defined piece at the start of a text, as the library's
// PrefixMatcher does.
type spUserSymbols struct {
	byByte [256][]string // longest first
}

func newSPUserSymbols(user []string) *spUserSymbols {
	if len(user) == 0 {
		return nil
	}
	u := &spUserSymbols{}
	for _, s := range user {
		u.byByte[s[0]] = append(u.byByte[s[0]], s)
	}
	for b := range u.byByte {
		sort.Slice(u.byByte[b], func(i, j int) bool { return len(u.byByte[b][i]) > len(u.byByte[b][j]) })
	}
	return u
}

// match returns the length of the longest user-defined piece that s starts with, or 0.
func (u *spUserSymbols) match(s string) int {
	if u == nil || s == "" {
		return 0
	}
	for _, p := range u.byByte[s[0]] {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// prefix returns the length of the first symbol of s: a user-defined piece, or one character
// by its lead byte (the library's OneCharLen; s is valid UTF-8 after normalization).
func (m *spModel) prefix(s string) (n int, frozen bool) {
	if n := m.user.match(s); n > 0 {
		return n, true
	}
	return min(len(s), utf8LenByLead(s[0])), false
}

// utf8LenByLead is the length of a UTF-8 sequence by its first byte, as the library counts it.
func utf8LenByLead(b byte) int {
	return int("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x02\x02\x03\x04"[b>>4])
}

// normalize is the library's Normalizer::Normalize with the identity charsmap.
func (m *spModel) normalize(dst []byte, s string) []byte {
	spec := &m.norm
	// nextChar is NormalizePrefix: a user-defined piece whole, else one character; a byte that
	// is not valid UTF-8 is U+FFFD.
	nextChar := func(s string) (string, int) {
		if n := m.user.match(s); n > 0 {
			return s[:n], n
		}
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n <= 1 {
			return "\uFFFD", 1
		}
		return s[:n], n
	}
	if spec.removeExtraWhitespaces {
		for s != "" {
			c, n := nextChar(s)
			if c != " " {
				break
			}
			s = s[n:]
		}
	}
	if s == "" {
		return dst
	}
	start := len(dst)
	addWS := func() {
		if spec.escapeWhitespaces {
			dst = append(dst, spaceSymbol...)
		} else {
			dst = append(dst, ' ')
		}
	}
	if !m.suffix && spec.addDummyPrefix {
		addWS()
	}
	prevSpace := spec.removeExtraWhitespaces
	for s != "" {
		c, n := nextChar(s)
		for prevSpace && strings.HasPrefix(c, " ") {
			c = c[1:]
		}
		if c != "" {
			for i := 0; i < len(c); i++ {
				if spec.escapeWhitespaces && c[i] == ' ' {
					dst = append(dst, spaceSymbol...)
				} else {
					dst = append(dst, c[i])
				}
			}
			prevSpace = strings.HasSuffix(c, " ")
		}
		s = s[n:]
		if !spec.removeExtraWhitespaces {
			prevSpace = false
		}
	}
	if spec.removeExtraWhitespaces {
		space := " "
		if spec.escapeWhitespaces {
			space = spaceSymbol
		}
		for len(dst)-start >= len(space) && string(dst[len(dst)-len(space):]) == space {
			dst = dst[:len(dst)-len(space)]
		}
	}
	if m.suffix && spec.addDummyPrefix {
		addWS()
	}
	return dst
}

// appendText appends the ids of text, which holds no special token that is to be matched.
//
// The normalized text is cut between two symbols whose last and first characters are adjacent
// in no merge-able piece: every merge makes a piece, so none can join the two sides, the merges
// on each side depend on that side alone, and the order in which the library takes merges of
// equal score (leftmost first) is the same within each side. The parts (a word with its ▁, or a
// few characters of a script without spaces) repeat, and are memoised in the piece cache.
func (m *spModel) appendText(dst []uint32, text string, st *state) []uint32 {
	sc := m.scratch.Get().(*spScratch)
	sc.norm = m.normalize(sc.norm[:0], text)
	s := string(sc.norm) // one copy: segments are cached by their text
	start := len(dst)
	segStart := 0
	prev, prevFrozen := rune(-1), false
	for i := 0; i < len(s); {
		n, frozen := m.prefix(s[i:])
		first, k := rune(s[i]), 1
		if first >= utf8.RuneSelf {
			first, k = utf8.DecodeRuneInString(s[i:])
		}
		if i > segStart && (frozen || prevFrozen || !m.joinable(prev, first)) {
			dst = m.appendSegment(dst, start, s[segStart:i], st, sc)
			segStart = i
		}
		prev, prevFrozen = first, frozen
		if k != n {
			prev, _ = utf8.DecodeLastRuneInString(s[i : i+n])
		}
		i += n
	}
	if segStart < len(s) {
		dst = m.appendSegment(dst, start, s[segStart:], st, sc)
	}
	m.scratch.Put(sc)
	return dst
}

func (m *spModel) addBigram(a, b rune) {
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		k := a<<7 | b
		m.asciiBigrams[k>>6] |= 1 << (k & 63)
		return
	}
	m.bigrams.put(uint32(a), uint32(b), 0, 0)
}

// joinable reports whether the characters a, b are adjacent in some merge-able piece.
func (m *spModel) joinable(a, b rune) bool {
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		k := a<<7 | b
		return m.asciiBigrams[k>>6]&(1<<(k&63)) != 0
	}
	return m.bigrams.get(uint32(a), uint32(b)) != noMerge
}

// appendSegment appends the ids of a part of the normalized text that no merge crosses, from
// the piece cache or merged. start is where this call's output began in dst: a run of unknown
// tokens across two segments is fused there.
func (m *spModel) appendSegment(dst []uint32, start int, seg string, st *state, sc *spScratch) []uint32 {
	var ids []uint32
	if len(seg) <= maxShortKey {
		lo, hi := packKey(seg)
		if i, ok := st.cache.lookup(lo, hi, len(seg)); ok {
			return m.appendFused(dst, start, st.cache.appendIDs(sc.ids[:0], i))
		}
		ids = m.encodeSegment(sc.ids[:0], seg, sc)
		if st.cache.full() {
			st.cache.reset()
			st.hot.reset()
		}
		st.cache.putShort(lo, hi, len(seg), ids)
	} else if len(seg) <= maxCachedPiece {
		if cached, ok := st.cache.getLong(seg); ok {
			return m.appendFused(dst, start, cached)
		}
		ids = m.encodeSegment(sc.ids[:0], seg, sc)
		if st.cache.full() {
			st.cache.reset()
			st.hot.reset()
		}
		st.cache.putLong(seg, ids)
	} else {
		ids = m.encodeSegment(sc.ids[:0], seg, sc)
	}
	sc.ids = ids[:0]
	return m.appendFused(dst, start, ids)
}

// appendFused appends ids, dropping an unknown token that follows another (without
// byte_fallback the library emits a run of unknown symbols as one).
func (m *spModel) appendFused(dst []uint32, start int, ids []uint32) []uint32 {
	if len(ids) > 0 && !m.byteFallback && ids[0] == uint32(m.unk) && len(dst) > start && dst[len(dst)-1] == uint32(m.unk) {
		ids = ids[1:]
	}
	return append(dst, ids...)
}

// spScratch is the scratch space of one appendText call.
type spScratch struct {
	norm []byte
	ids  []uint32
	syms []spSymbol
	heap spHeap
	// rev is the library's rev_merge: how an UNUSED piece was last made, to split it back.
	rev map[string][2]string
}

// spSymbol is a symbol of the merge loop: a byte range of the text in a doubly linked list.
type spSymbol struct {
	start, size int32
	prev, next  int32
	id          int32 // the piece the symbol is, or -1
	frozen      bool
}

// spPair is a candidate merge of the adjacent symbols left and right.
type spPair struct {
	score       float32
	left, right int32
	size        int32
	id          int32 // the piece the merge makes
}

// spHeap is a binary heap of candidate merges, the best (highest score, then leftmost) on top.
type spHeap []spPair

func (h spHeap) better(a, b spPair) bool {
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func (h *spHeap) push(p spPair) {
	*h = append(*h, p)
	q := *h
	i := len(q) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.better(q[i], q[parent]) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *spHeap) pop() spPair {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		l, best := 2*i+1, i
		if l < len(q) && q.better(q[l], q[best]) {
			best = l
		}
		if r := l + 1; r < len(q) && q.better(q[r], q[best]) {
			best = r
		}
		if best == i {
			break
		}
		q[i], q[best] = q[best], q[i]
		i = best
	}
	*h = q
	return top
}

// encodeSegment is bpe_model.cc's Model::Encode followed by the processor's mapping of the
// resulting pieces to ids. A symbol that is a piece carries its id, and two such symbols merge
// through the pair table; a character that is no piece is looked up by its text.
func (m *spModel) encodeSegment(ids []uint32, s string, sc *spScratch) []uint32 {
	syms := sc.syms[:0]
	for i := 0; i < len(s); {
		n, frozen := m.prefix(s[i:])
		k := int32(len(syms))
		syms = append(syms, spSymbol{start: int32(i), size: int32(n), prev: k - 1, next: k + 1,
			id: m.pieceID(s[i : i+n]), frozen: frozen})
		i += n
	}
	if len(syms) == 0 {
		return ids
	}
	syms[len(syms)-1].next = -1
	h := sc.heap[:0]
	if m.hasUnused {
		if sc.rev == nil {
			sc.rev = map[string][2]string{}
		}
		clear(sc.rev)
	}
	maybeAdd := func(l, r int32) {
		if l < 0 || r < 0 {
			return
		}
		a, b := &syms[l], &syms[r]
		if a.frozen || b.frozen {
			return
		}
		var id int32
		if a.id >= 0 && b.id >= 0 {
			v := m.pairs.get(uint32(a.id), uint32(b.id))
			if v == noMerge {
				return
			}
			id = int32(uint32(v))
		} else {
			var ok bool
			if id, ok = m.pieces[s[a.start:a.start+a.size+b.size]]; !ok {
				return
			}
		}
		h.push(spPair{score: m.score[id], left: l, right: r, size: a.size + b.size, id: id})
		if m.typ[id] == spUnused {
			sc.rev[s[a.start:a.start+a.size+b.size]] = [2]string{s[a.start : a.start+a.size], s[b.start : b.start+b.size]}
		}
	}
	for i := int32(1); i < int32(len(syms)); i++ {
		maybeAdd(i-1, i)
	}
	for len(h) > 0 {
		top := h.pop()
		l, r := &syms[top.left], &syms[top.right]
		if l.size == 0 || r.size == 0 || l.size+r.size != top.size {
			continue
		}
		l.size += r.size
		l.id = top.id
		l.next = r.next
		if r.next >= 0 {
			syms[r.next].prev = top.left
		}
		r.size = 0
		maybeAdd(l.prev, top.left)
		maybeAdd(top.left, l.next)
	}
	sc.heap, sc.syms = h[:0], syms
	for i := int32(0); i >= 0; i = syms[i].next {
		y := &syms[i]
		if id := y.id; id >= 0 && m.typ[id] != spUnused && !m.shadowed[id] {
			ids = append(ids, uint32(id))
			continue
		}
		ids = m.appendPiece(ids, s[y.start:y.start+y.size], sc)
	}
	return ids
}

// pieceID returns the id of a merge-able piece (NORMAL, USER_DEFINED or UNUSED), or -1.
func (m *spModel) pieceID(s string) int32 {
	if len(s) <= maxShortKey {
		if id, ok := m.short.get(s); ok {
			return int32(id)
		}
		return -1
	}
	if id, ok := m.pieces[s]; ok {
		return id
	}
	return -1
}

// appendPiece appends the ids of one final symbol: its piece, the two parts an UNUSED piece
// was made of, its bytes (byte_fallback) or the unknown token.
func (m *spModel) appendPiece(ids []uint32, piece string, sc *spScratch) []uint32 {
	id, ok := m.reserved[piece]
	if !ok {
		if id, ok = m.pieces[piece]; !ok {
			id = m.unk
		}
	}
	if m.typ[id] == spUnused {
		if parts, ok := sc.rev[piece]; ok {
			ids = m.appendPiece(ids, parts[0], sc)
			return m.appendPiece(ids, parts[1], sc)
		}
	}
	if id == m.unk {
		if m.byteFallback {
			for i := 0; i < len(piece); i++ {
				ids = append(ids, uint32(m.byteIDs[piece[i]]))
			}
			return ids
		}
		if len(ids) > 0 && ids[len(ids)-1] == uint32(m.unk) {
			return ids
		}
	}
	return append(ids, uint32(id))
}

// decode is the library's DecodeIds: control pieces are invisible, the unknown piece is
// unk_surface, runs of byte pieces are their bytes (U+FFFD for each byte that is not part of a
// valid UTF-8 character), ws is a space, and the dummy prefix of the first piece is dropped.
func (m *spModel) decode(ids []uint32) ([]byte, error) {
	var out, bytes []byte
	bosWS := true
	flush := func() {
		for len(bytes) > 0 {
			r, n := utf8.DecodeRune(bytes)
			if r == utf8.RuneError && n <= 1 {
				out = append(out, "\uFFFD"...)
				n = 1
			} else {
				out = append(out, bytes[:n]...)
			}
			bytes = bytes[n:]
			bosWS = false
		}
	}
	for _, id := range ids {
		if int(id) >= len(m.spelled) {
			return out, fmt.Errorf("tokenizer: token id %d is not in the vocabulary", id)
		}
		piece := m.spelled[id]
		switch m.typ[id] {
		case spByte:
			b, _ := parseBytePiece(piece)
			bytes = append(bytes, b)
			continue
		case spControl:
			flush()
			continue
		case spUnknown:
			flush()
			out = append(out, m.unkSurface...)
			bosWS = false
			continue
		}
		flush()
		if bosWS && (m.norm.addDummyPrefix || m.norm.removeExtraWhitespaces) {
			piece = strings.TrimPrefix(piece, spaceSymbol)
		}
		out = append(out, strings.ReplaceAll(piece, spaceSymbol, " ")...)
		bosWS = false
	}
	flush()
	return out, nil
}
