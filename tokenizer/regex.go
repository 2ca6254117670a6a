package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// compileRegex returns a matcher for a split pattern: the hand-written scanner when the pattern
// is one of the known ones (exact and fast), the general backtracking engine otherwise.
func compileRegex(pattern string) (matcher, error) {
	if m := knownMatcher(pattern); m != nil {
		return m, nil
	}
	return newRegexp2Matcher(pattern)
}

// allMatcher is implemented by matchers that can also report empty matches, with the iteration
// rule of Oniguruma's and Rust regex's find_iter: an empty match that starts where the previous
// match ended is skipped and the search resumes one character later. Hugging Face's Split,
// Replace and the Replace decoder see those empty matches (an empty match still cuts the text
// into pieces), so they need this; the plain matcher interface drops them.
type allMatcher interface {
	appendAllMatches(dst []span, s string) []span
}

// appendSplitMatches returns the matches of m in s, empty ones included where m can report them.
// Matchers that cannot (the hand-written scanners) only serve patterns that never match empty.
func appendSplitMatches(m matcher, dst []span, s string) []span {
	if am, ok := m.(allMatcher); ok {
		return am.appendAllMatches(dst, s)
	}
	return m.appendMatches(dst, s)
}

// regexp2Matcher runs a pattern through github.com/dlclark/regexp2, a port of the .NET engine: a
// backtracking engine with lookaround, like fancy-regex (tiktoken) and Oniguruma (Hugging Face).
//
// Options: none (the .NET default), on purpose. In that mode \s is unicode.IsSpace, which is
// exactly the Unicode White_Space property that Rust regex and Oniguruma use for \s; \d is \p{Nd}
// as in both; \p{L}, \p{N}, \p{Lu}, scripts etc. are Go's Unicode tables. The RE2 option would
// make \s and \d ASCII-only, and ECMAScript would narrow \s and \w, so both would be wrong here.
//
// Remaining differences, none of which occur in the patterns of known tokenizer files:
//   - \w: .NET means [\p{L}\p{Mn}\p{Nd}\p{Pc}] plus ZWJ/ZWNJ; Hugging Face compiles its patterns
//     with Oniguruma, whose \w is [\p{L}\p{M}\p{N}\p{Pc}], so translatePattern rewrites \w (and
//     \W outside a character class) to that. A \W inside a character class keeps .NET's meaning.
//   - (?i): .NET compares lower-cased characters, Rust and Oniguruma use simple case folding, so
//     e.g. (?i)s does not match U+017F LATIN SMALL LETTER LONG S here.
//   - ^ and $ follow .NET (start of text; end of text or before a final \n), not Oniguruma's
//     line anchors.
//   - Possessive quantifiers (a++) and \x{...} escapes beyond the BMP are not .NET syntax; \x{...}
//     is translated, possessive quantifiers fail to compile (an error, never a silent difference).
//
// regexp2 works on runes and reports rune indices; each match is mapped back to byte offsets
// through a rune-to-byte table built once per call, so the cost stays linear in the input. Every
// byte that is not part of valid UTF-8 becomes one U+FFFD rune of width one, so offsets map back
// exactly and such a byte is of the class "other" (neither letter, number nor space).
type regexp2Matcher struct {
	re *regexp2.Regexp
}

// newRegexp2Matcher compiles pattern for the general engine, with no match timeout: the patterns
// are the tokenizer's own, and a timeout would make tokenization depend on machine load.
func newRegexp2Matcher(pattern string) (matcher, error) {
	translated, err := translatePattern(pattern)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pattern, err)
	}
	re, err := regexp2.Compile(translated, regexp2.None)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pattern, err)
	}
	re.MatchTimeout = regexp2.DefaultMatchTimeout
	return &regexp2Matcher{re: re}, nil
}

func (m *regexp2Matcher) appendMatches(dst []span, s string) []span {
	return m.find(dst, s, false)
}

func (m *regexp2Matcher) appendAllMatches(dst []span, s string) []span {
	return m.find(dst, s, true)
}

func (m *regexp2Matcher) find(dst []span, s string, withEmpty bool) []span {
	if s == "" {
		// Hugging Face's find_matches does not search an empty string at all.
		return dst
	}
	runes, offs := decodeRunes(s)
	pos, lastEnd := 0, -1
	for pos <= len(runes) {
		mt, err := m.re.FindRunesMatchStartingAt(runes, pos)
		if err != nil || mt == nil {
			// err can only be a timeout, and there is none.
			break
		}
		start, end := mt.Index, mt.Index+mt.Length
		if start == end {
			// An empty match right after the previous match is not a match (find_iter rule);
			// either way the next search starts one character further on, since searching
			// again at end would find this same empty match.
			if end != lastEnd && withEmpty {
				dst = append(dst, span{offs[start], offs[end]})
			}
			lastEnd = end
			pos = end + 1
			continue
		}
		dst = append(dst, span{offs[start], offs[end]})
		lastEnd = end
		pos = end
	}
	return dst
}

// decodeRunes converts s to runes for regexp2, with the byte offset of every rune and, last,
// len(s). An invalid byte becomes one U+FFFD of width one.
func decodeRunes(s string) ([]rune, []int) {
	runes := make([]rune, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			runes = append(runes, rune(c))
			offs = append(offs, i)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		runes = append(runes, r)
		offs = append(offs, i)
		i += w
	}
	return runes, append(offs, len(s))
}

// onigWord is Oniguruma's Unicode \w: General_Category Letter, Mark, Number or
// Connector_Punctuation, spelled as the inside of a .NET character class.
const onigWord = `\p{L}\p{M}\p{N}\p{Pc}`

// translatePattern rewrites the few escapes whose meaning differs between Oniguruma/Rust and .NET
// (see regexp2Matcher). It tracks character classes only as far as needed to know whether an
// escape stands inside one.
func translatePattern(p string) (string, error) {
	if !strings.Contains(p, `\`) {
		return p, nil
	}
	var b strings.Builder
	b.Grow(len(p) + 16)
	inClass := false
	classStart := -1 // index in p just after '[' or '[^', where ']' is still literal
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			switch {
			case n == 'w' && inClass:
				b.WriteString(onigWord)
			case n == 'w':
				b.WriteString("[" + onigWord + "]")
			case n == 'W' && !inClass:
				b.WriteString("[^" + onigWord + "]")
			case n == 'x' && i+2 < len(p) && p[i+2] == '{':
				j := strings.IndexByte(p[i+3:], '}')
				if j < 0 {
					return "", fmt.Errorf("unterminated \\x{ escape")
				}
				hex := p[i+3 : i+3+j]
				var r rune
				if hex == "" || len(hex) > 8 {
					return "", fmt.Errorf("bad \\x{%s} escape", hex)
				}
				for k := 0; k < len(hex); k++ {
					d := hexDigit(hex[k])
					if d < 0 {
						return "", fmt.Errorf("bad \\x{%s} escape", hex)
					}
					r = r<<4 | rune(d)
				}
				if r > utf8.MaxRune {
					return "", fmt.Errorf("bad \\x{%s} escape", hex)
				}
				if r <= 0xFFFF {
					fmt.Fprintf(&b, `\u%04X`, r)
				} else {
					// Outside the BMP no character is special to the parser.
					b.WriteRune(r)
				}
				i += 3 + j
				continue
			default:
				b.WriteByte(c)
				b.WriteByte(n)
			}
			i++
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			if i+1 < len(p) && p[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			classStart = i + 1
		case c == ']' && inClass && i != classStart:
			inClass = false
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// stringMatcher finds a literal: Hugging Face's {"String": "..."} patterns, which it compiles as
// the escaped literal, so matches are the leftmost non-overlapping occurrences.
type stringMatcher struct {
	lit string
}

// newStringMatcher returns a matcher for the literal lit.
func newStringMatcher(lit string) matcher {
	return stringMatcher{lit: lit}
}

func (m stringMatcher) appendMatches(dst []span, s string) []span {
	if m.lit == "" {
		return dst
	}
	for off := 0; off <= len(s)-len(m.lit); {
		i := strings.Index(s[off:], m.lit)
		if i < 0 {
			break
		}
		dst = append(dst, span{off + i, off + i + len(m.lit)})
		off += i + len(m.lit)
	}
	return dst
}

// appendAllMatches also reports the empty matches of an empty literal: one at every character
// boundary, as the empty regex does in Oniguruma (an invalid byte counts as one character).
func (m stringMatcher) appendAllMatches(dst []span, s string) []span {
	if m.lit != "" || s == "" {
		return m.appendMatches(dst, s)
	}
	for i := 0; i < len(s); {
		dst = append(dst, span{i, i})
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
	return append(dst, span{len(s), len(s)})
}
