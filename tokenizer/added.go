package tokenizer

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// addedToken is a token matched in the raw text before pre-tokenization: a tiktoken special
// token, or a Hugging Face added token (special or not) with its matching options.
type addedToken struct {
	content    string
	id         uint32
	special    bool
	lstrip     bool // also take the whitespace on its left
	rstrip     bool // also take the whitespace on its right
	singleWord bool // only match when not inside a word
	normalized bool // Hugging Face: match against the normalized text
}

// addedSet finds added tokens in text, leftmost first and longest among those that start at the
// same place (Hugging Face's LeftmostLongest matching).
type addedSet struct {
	first  [256]bool
	byByte [256][]addedToken // tokens by first byte, longest first
}

func newAddedSet(tokens []addedToken) *addedSet {
	if len(tokens) == 0 {
		return nil
	}
	a := &addedSet{}
	for _, t := range tokens {
		if t.content == "" {
			continue
		}
		b := t.content[0]
		a.first[b] = true
		a.byByte[b] = append(a.byByte[b], t)
	}
	for b := range a.byByte {
		list := a.byByte[b]
		sort.SliceStable(list, func(i, j int) bool {
			if len(list[i].content) != len(list[j].content) {
				return len(list[i].content) > len(list[j].content)
			}
			return list[i].content < list[j].content
		})
	}
	return a
}

// find returns the next match at or after from: the span it covers (including stripped
// whitespace) and the token; ok is false when there is none.
func (a *addedSet) find(s string, from int) (start, end int, tok addedToken, ok bool) {
	for i := from; i < len(s); i++ {
		if !a.first[s[i]] {
			continue
		}
		for _, t := range a.byByte[s[i]] {
			if !strings.HasPrefix(s[i:], t.content) {
				continue
			}
			st, en := i, i+len(t.content)
			if t.singleWord && (isWordBefore(s, st) || isWordAfter(s, en)) {
				continue
			}
			if t.lstrip {
				for st > from {
					r, w := utf8.DecodeLastRuneInString(s[from:st])
					if !unicode.IsSpace(r) {
						break
					}
					st -= w
				}
			}
			if t.rstrip {
				for en < len(s) {
					r, w := utf8.DecodeRuneInString(s[en:])
					if !unicode.IsSpace(r) {
						break
					}
					en += w
				}
			}
			return st, en, t, true
		}
	}
	return 0, 0, addedToken{}, false
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

func isWordBefore(s string, i int) bool {
	if i == 0 {
		return false
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return isWordRune(r)
}

func isWordAfter(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return isWordRune(r)
}
