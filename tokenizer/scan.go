package tokenizer

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// The split patterns that have hand-written scanners. The scanners below follow the semantics
// of these regular expressions under a backtracking, leftmost-first engine (fancy-regex in
// tiktoken, Oniguruma-compatible in Hugging Face tokenizers) exactly; scan_test.go checks them
// against the general regex engine on generated and real text.
const (
	patternGPT2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

	patternCL100K = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`

	patternO200K = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// scanner is a pre-tokenizer whose pieces tile the text: next returns the end of the piece
// that starts at i (i < len(s)); the result is always > i.
type scanner interface {
	matcher
	next(s string, i int) int
}

// knownMatcher returns a hand-written scanner for a split pattern it recognizes (GPT-2/r50k,
// cl100k/Llama-3, o200k/GPT-OSS), or nil for any other pattern.
func knownMatcher(pattern string) matcher {
	if s := knownScanner(pattern); s != nil {
		return s
	}
	return nil
}

func knownScanner(pattern string) scanner {
	switch pattern {
	case patternGPT2:
		return gpt2Scanner{bmpClasses()}
	case patternCL100K:
		return cl100kScanner{bmpClasses()}
	case patternO200K:
		return o200kScanner{bmpClasses()}
	}
	return nil
}

// tile turns a scanner into a matcher.
func tile(sc scanner, dst []span, s string) []span {
	for i := 0; i < len(s); {
		j := sc.next(s, i)
		dst = append(dst, span{i, j})
		i = j
	}
	return dst
}

// contraction returns the length of the contraction suffix ('s 't 're 've 'm 'll 'd) that
// starts at s[i] == '\”, or 0. foldCase applies Unicode simple case folding, as (?i:...) does:
// s matches S and U+017F LATIN SMALL LETTER LONG S; the other letters have only ASCII case pairs.
func contraction(s string, i int, foldCase bool) int {
	if i+1 >= len(s) || s[i] != '\'' {
		return 0
	}
	c := s[i+1]
	if foldCase && c >= 'A' && c <= 'Z' {
		c += 'a' - 'A'
	}
	switch c {
	case 's', 't', 'm', 'd':
		return 2
	case 'r', 'v', 'l':
		if i+2 >= len(s) {
			return 0
		}
		c2 := s[i+2]
		if foldCase && c2 >= 'A' && c2 <= 'Z' {
			c2 += 'a' - 'A'
		}
		if (c == 'r' || c == 'v') && c2 == 'e' || c == 'l' && c2 == 'l' {
			return 3
		}
	case 0xC5: // U+017F is C5 BF in UTF-8
		if foldCase && i+2 < len(s) && s[i+2] == 0xBF {
			return 3
		}
	}
	return 0
}

// spaceRun handles the whitespace alternatives shared by all three patterns, for a whitespace
// character at s[i]. withNewline enables \s*[\r\n]+ (cl100k, o200k), which ends the piece after
// the last CR/LF of the run. Otherwise \s+(?!\S) takes the run but its last character when a
// non-space follows (so that the space can prefix the next word), and \s+ takes a single one.
func spaceRun(t *classTable, s string, i int, withNewline bool) int {
	j, last, lastNL := i, i, -1
	for j < len(s) {
		c, w := t[s[j]&0x7F], 1 // classAt, inlined by hand
		if s[j] >= 0x80 {
			c, w = t.classAtSlow(s, j)
		}
		if c&clSpace == 0 {
			break
		}
		if c&clNewline != 0 {
			lastNL = j
		}
		last = j
		j += w
	}
	if withNewline && lastNL >= 0 {
		return lastNL + 1
	}
	if j == len(s) || last == i {
		return j
	}
	return last
}

// run returns the end of the run of characters that have any of the class bits in mask.
// Characters of two and three bytes (the alphabets beyond Latin, Chinese and Japanese) are
// decoded inline: a run is a word, or a whole sentence without spaces.
func run(t *classTable, s string, i int, mask uint8) int {
	for i < len(s) {
		b := s[i]
		if b < 0x80 {
			if t[b]&mask == 0 {
				return i
			}
			i++
			continue
		}
		var c uint8
		var w int
		if r, ok := decode3(s, i); ok {
			c, w = t[r], 3
		} else if r, ok := decode2(s, i); ok {
			c, w = t[r], 2
		} else {
			c, w = t.classAtSlow(s, i)
		}
		if c&mask == 0 {
			return i
		}
		i += w
	}
	return i
}

// letterRun is run(t, s, i, clLetter), eight bytes at a time while they are ASCII: words are
// the most frequent pieces, and one word-wide test with a count of trailing zeros replaces a
// table lookup and a hard-to-predict loop exit per byte.
func letterRun(t *classTable, s string, i int) int {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	for i+8 <= len(s) {
		nl := nonLetters(binary.LittleEndian.Uint64(b[i:]))
		if nl == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(nl) >> 3
		if b[i] < 0x80 {
			return i
		}
		break // a non-ASCII character: it may be a letter
	}
	return run(t, s, i, clLetter)
}

// nonLetters returns the bytes of w (eight characters, little-endian) that are not ASCII
// letters, as their high bits (0x80 per such byte). Folding case with |0x20 maps the letters
// onto a-z and nothing else onto a-z; with the high bit cleared, adding 0x1F (0x05) sets it
// exactly for the bytes >= 'a' (> 'z') without carrying into the next byte.
func nonLetters(w uint64) uint64 {
	const ones = 0x0101010101010101
	x := (w | 0x20*ones) &^ (0x80 * ones)
	letter := (x + 0x1F*ones) &^ (x + 0x05*ones) &^ w
	return ^letter & (0x80 * ones)
}

// otherRun returns the end of the run of characters in [^\s\p{L}\p{N}].
func otherRun(t *classTable, s string, i int) int {
	for i < len(s) {
		if b := s[i]; b < 0x80 {
			if t[b]&(clLetter|clNumber|clSpace) != 0 {
				return i
			}
			i++
			continue
		}
		var c uint8
		var w int
		if r, ok := decode3(s, i); ok { // CJK punctuation, Japanese brackets
			c, w = t[r], 3
		} else {
			c, w = t.classAtSlow(s, i)
		}
		if c&(clLetter|clNumber|clSpace) != 0 {
			return i
		}
		i += w
	}
	return i
}

// newlineRun returns the end of the run of bytes in set (CR, LF and, for o200k, '/').
func newlineRun(s string, i int, slash bool) int {
	for i < len(s) && (s[i] == '\r' || s[i] == '\n' || slash && s[i] == '/') {
		i++
	}
	return i
}

// gpt2Scanner: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
type gpt2Scanner struct{ t *classTable }

func (g gpt2Scanner) appendMatches(dst []span, s string) []span { return tile(g, dst, s) }

func (g gpt2Scanner) next(s string, i int) int {
	t := g.t
	if s[i] == '\'' {
		if n := contraction(s, i, false); n > 0 {
			return i + n
		}
	}
	c0, w0 := t.classAt(s, i)
	start := i
	if s[i] == ' ' && i+1 < len(s) {
		c1, _ := t.classAt(s, i+1)
		if c1&(clLetter|clNumber|clSpace) == 0 {
			return otherRun(t, s, i+1)
		}
		c0, start = c1, i+1
	}
	switch {
	case c0&clLetter != 0:
		return run(t, s, start, clLetter)
	case c0&clNumber != 0:
		return run(t, s, start, clNumber)
	case c0&clSpace == 0:
		return otherRun(t, s, i+w0)
	}
	return spaceRun(t, s, i, false)
}

// cl100kScanner: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ (also Llama 3's pattern).
type cl100kScanner struct{ t *classTable }

func (c cl100kScanner) appendMatches(dst []span, s string) []span { return tile(c, dst, s) }

func (c cl100kScanner) next(s string, i int) int {
	t := c.t
	b := s[i]
	if b < 0x80 {
		return c.nextASCII(s, i)
	}
	c0, w0 := t.classAt(s, i)
	if c0&clLetter != 0 {
		return letterRun(t, s, i+w0)
	}
	if c0&(clNewline|clNumber) == 0 && i+w0 < len(s) {
		if c1, w1 := t.classAt(s, i+w0); c1&clLetter != 0 {
			return letterRun(t, s, i+w0+w1)
		}
	}
	return nonWord(t, s, i, c0, w0, false)
}

// nextASCII is next for an ASCII first character: the alternatives in order, with the
// character classes of the next character looked up only when they decide the outcome.
func (c cl100kScanner) nextASCII(s string, i int) int {
	t := c.t
	b := s[i]
	cb := t[b]
	if cb&clLetter != 0 {
		return letterRun(t, s, i+1)
	}
	if b == '\'' {
		if n := contraction(s, i, true); n > 0 {
			return i + n
		}
	}
	if cb&clNumber != 0 {
		return nonWord(t, s, i, cb, 1, false)
	}
	if cb&clNewline == 0 && i+1 < len(s) {
		// b may be the optional character before a word.
		c1, w1 := t[s[i+1]&0x7F], 1 // classAt, inlined by hand
		if s[i+1] >= 0x80 {
			c1, w1 = t.classAtSlow(s, i+1)
		}
		if c1&clLetter != 0 {
			return letterRun(t, s, i+1+w1)
		}
		if cb&clSpace == 0 {
			return newlineRun(s, otherRun(t, s, i+1), false)
		}
		if b == ' ' && c1&(clLetter|clNumber|clSpace) == 0 {
			return newlineRun(s, otherRun(t, s, i+1), false)
		}
		return spaceRun(t, s, i, true)
	}
	if cb&clSpace != 0 {
		return spaceRun(t, s, i, true)
	}
	return newlineRun(s, otherRun(t, s, i+1), false)
}

// nonWord finishes a piece for a character (classes c0, width w0) at s[i] that starts no word,
// with the alternatives the cl100k and o200k patterns share after their word alternatives:
// \p{N}{1,3}, then " ?[^\s\p{L}\p{N}]+" followed by [\r\n]* (or [\r\n/]* for o200k: slash),
// then the whitespace alternatives.
func nonWord(t *classTable, s string, i int, c0 uint8, w0 int, slash bool) int {
	if c0&clNumber != 0 {
		j := i + w0
		for k := 0; k < 2 && j < len(s); k++ {
			c, w := t.classAt(s, j)
			if c&clNumber == 0 {
				break
			}
			j += w
		}
		return j
	}
	if s[i] == ' ' && i+1 < len(s) {
		if c1, _ := t.classAt(s, i+1); c1&(clLetter|clNumber|clSpace) == 0 {
			return newlineRun(s, otherRun(t, s, i+1), slash)
		}
	}
	if c0&clSpace == 0 {
		return newlineRun(s, otherRun(t, s, i+w0), slash)
	}
	return spaceRun(t, s, i, true)
}
