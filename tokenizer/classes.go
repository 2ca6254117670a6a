package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// Character classes used by the hand-written pre-tokenizers, as bits. They follow the Unicode
// properties of the split patterns: \p{L}, \p{N}, \s (White_Space), the CR/LF set, and the
// o200k case groups [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] ("upper") and [\p{Ll}\p{Lm}\p{Lo}\p{M}]
// ("lower"). A character in none of L, N and \s is "other" ([^\s\p{L}\p{N}]).
const (
	clLetter uint8 = 1 << iota
	clNumber
	clSpace
	clNewline // \r or \n
	clUpper   // Lu Lt Lm Lo M
	clLower   // Ll Lm Lo M
)

// classTable holds the classes of every rune of the Basic Multilingual Plane, computed once;
// runes above it (rare) are classified on the fly.
type classTable [0x10000]uint8

var bmpClasses = sync.OnceValue(newClassTable)

// newClassTable returns classifySlow of every BMP rune. It walks the Unicode range tables that
// classifySlow consults instead of calling it 65536 times: that took 8 ms, a fifth of the first
// Load in a process. TestClassTable checks that the two agree.
func newClassTable() *classTable {
	t := new(classTable)
	for _, c := range []struct {
		tab *unicode.RangeTable
		cl  uint8
	}{
		{unicode.Letter, clLetter},
		{unicode.Number, clNumber},
		{unicode.White_Space, clSpace},
		{unicode.Lu, clUpper},
		{unicode.Lt, clUpper},
		{unicode.Lm, clUpper | clLower},
		{unicode.Lo, clUpper | clLower},
		{unicode.M, clUpper | clLower},
		{unicode.Ll, clLower},
	} {
		t.mark(c.tab, c.cl)
	}
	t['\r'] |= clNewline
	t['\n'] |= clNewline
	return t
}

// mark adds cl to the classes of the BMP runes of tab.
func (t *classTable) mark(tab *unicode.RangeTable, cl uint8) {
	for _, r := range tab.R16 {
		for c := uint32(r.Lo); c <= uint32(r.Hi); c += uint32(r.Stride) {
			t[c] |= cl
		}
	}
	for _, r := range tab.R32 {
		for c := r.Lo; c <= r.Hi && c < uint32(len(t)); c += r.Stride {
			t[c] |= cl
		}
	}
}

func classifySlow(r rune) uint8 {
	var c uint8
	if unicode.IsLetter(r) {
		c |= clLetter
	}
	if unicode.IsNumber(r) {
		c |= clNumber
	}
	if unicode.Is(unicode.White_Space, r) {
		c |= clSpace
	}
	if r == '\r' || r == '\n' {
		c |= clNewline
	}
	if unicode.In(r, unicode.Lu, unicode.Lt, unicode.Lm, unicode.Lo, unicode.M) {
		c |= clUpper
	}
	if unicode.In(r, unicode.Ll, unicode.Lm, unicode.Lo, unicode.M) {
		c |= clLower
	}
	return c
}

// classAt returns the classes and byte width of the character at s[i] (i < len(s)). An invalid
// UTF-8 byte is a character of width 1 and class "other" (no bits set), like U+FFFD.
func (t *classTable) classAt(s string, i int) (uint8, int) {
	if b := s[i]; b < utf8.RuneSelf {
		return t[b], 1
	}
	return t.classAtSlow(s, i)
}

// classAtSlow is classAt for a non-ASCII lead byte. (classAt is just over the inlining budget
// all the same: the loops that run over many characters test for ASCII themselves.)
func (t *classTable) classAtSlow(s string, i int) (uint8, int) {
	r, w, ok := decodeChar(s, i)
	if !ok {
		return 0, 1
	}
	if r < 0x10000 {
		return t[r], w
	}
	return classifySlow(r), w
}
