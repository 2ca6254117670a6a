package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// componentType reads the "type" tag of a tokenizer.json component. null (or an empty message)
// reports isNull.
func componentType(raw json.RawMessage) (typ string, isNull bool, err error) {
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return "", true, nil
	}
	var head struct {
		Type *string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", false, err
	}
	if head.Type == nil {
		return "", false, fmt.Errorf("component has no \"type\"")
	}
	return *head.Type, false, nil
}

// hfPattern is Hugging Face's pattern enum, {"String": "..."} or {"Regex": "..."}, used by Split,
// Replace (normalizer and decoder).
type hfPattern struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

// parseReplace reads the configuration of a Replace normalizer or decoder (the same in both):
// the pattern to replace, compiled, and its replacement.
func parseReplace(raw json.RawMessage) (matcher, string, error) {
	var c struct {
		Pattern hfPattern `json:"pattern"`
		Content *string   `json:"content"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, "", err
	}
	if c.Content == nil {
		return nil, "", fmt.Errorf("missing \"content\"")
	}
	m, err := c.Pattern.compile()
	if err != nil {
		return nil, "", err
	}
	return m, *c.Content, nil
}

// compile returns the matcher: a literal for String, the regex engine for Regex.
func (p hfPattern) compile() (matcher, error) {
	switch {
	case p.String != nil && p.Regex == nil:
		return newStringMatcher(*p.String), nil
	case p.Regex != nil && p.String == nil:
		return compileRegex(*p.Regex)
	}
	return nil, fmt.Errorf("pattern must be {\"String\": ...} or {\"Regex\": ...}")
}

// replaceAll replaces every match of m in s (empty matches included, as Hugging Face's
// NormalizedString::replace and Replace decoder do) with content.
func replaceAll(m matcher, s, content string) string {
	var buf [16]span
	matches := appendSplitMatches(m, buf[:0], s)
	if len(matches) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(matches)*len(content))
	prev := 0
	for _, sp := range matches {
		b.WriteString(s[prev:sp.start])
		b.WriteString(content)
		prev = sp.end
	}
	b.WriteString(s[prev:])
	return b.String()
}

// newNormalizer builds a normalizer from its tokenizer.json description. null gives (nil, nil).
// Types this package cannot reproduce exactly are errors, never approximations.
func newNormalizer(raw json.RawMessage) (normalizer, error) {
	typ, isNull, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: normalizer: %w", err)
	}
	if isNull {
		return nil, nil
	}
	bad := func(err error) error {
		return fmt.Errorf("tokenizer.json: normalizer %q: %w", typ, err)
	}
	switch typ {
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Prepend":
		var c struct {
			Prepend *string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, bad(err)
		}
		if c.Prepend == nil {
			return nil, bad(fmt.Errorf("missing \"prepend\""))
		}
		return prependNormalizer{*c.Prepend}, nil
	case "Replace":
		m, content, err := parseReplace(raw)
		if err != nil {
			return nil, bad(err)
		}
		return replaceNormalizer{m: m, content: content}, nil
	case "Strip":
		var c struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, bad(err)
		}
		return stripNormalizer{left: c.Left, right: c.Right}, nil
	case "Sequence":
		seq, err := buildSequence(raw, "normalizers", newNormalizer)
		if err != nil {
			return nil, bad(err)
		}
		return sequenceNormalizer(seq), nil
	}
	// Precompiled (a SentencePiece charsmap), BertNormalizer, ByteLevel (which would feed the
	// byte alphabet to the pre-tokenizer) and anything newer.
	return nil, fmt.Errorf("tokenizer.json: normalizer %q is not supported", typ)
}

// unicodeNormalizer applies one of the four Unicode normalization forms.
type unicodeNormalizer struct{ form norm.Form }

func (n unicodeNormalizer) normalize(s string) string {
	if n.form.IsNormalString(s) {
		return s
	}
	return n.form.String(s)
}

// lowercaseNormalizer is Hugging Face's Lowercase: Rust's char::to_lowercase applied to each
// character, without context (no final-sigma rule). That is Go's simple lower-case mapping except
// for U+0130, whose unconditional full mapping is "i" + U+0307. Invalid bytes are kept.
type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				break
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if w > 1 && (r == 0x130 || unicode.ToLower(r) != r) {
			break
		}
		i += w
	}
	if i == len(s) {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	out = append(out, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			out = append(out, c)
		case r == 0x130:
			out = append(out, "i\u0307"...)
		default:
			out = utf8.AppendRune(out, unicode.ToLower(r))
		}
		i += w
	}
	return string(out)
}

// stripAccentsNormalizer is Hugging Face's StripAccents: it removes every combining mark
// (General_Category M). It does not decompose first; tokenizer files put NFD before it.
type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(s string) string {
	return filterRunes(s, func(r rune) bool { return !unicode.Is(unicode.M, r) })
}

// filterRunes keeps the characters for which keep is true; invalid bytes are always kept.
func filterRunes(s string, keep func(rune) bool) string {
	var b []byte
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		ok := (r == utf8.RuneError && w == 1) || keep(r)
		if !ok && b == nil {
			b = append(make([]byte, 0, len(s)), s[:i]...)
		} else if ok && b != nil {
			b = append(b, s[i:i+w]...)
		}
		i += w
	}
	if b == nil {
		return s
	}
	return string(b)
}

// prependNormalizer is Hugging Face's Prepend: it prepends to non-empty text only.
type prependNormalizer struct{ prefix string }

func (n prependNormalizer) normalize(s string) string {
	if s == "" {
		return s
	}
	return n.prefix + s
}

// replaceNormalizer is Hugging Face's Replace normalizer.
type replaceNormalizer struct {
	m       matcher
	content string
}

func (n replaceNormalizer) normalize(s string) string { return replaceAll(n.m, s, n.content) }

// stripNormalizer is Hugging Face's Strip normalizer: it trims characters with the Unicode
// White_Space property (Rust's char::is_whitespace, Go's unicode.IsSpace) from either end.
type stripNormalizer struct{ left, right bool }

func (n stripNormalizer) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, isWhiteSpaceRune)
	}
	if n.right {
		s = strings.TrimRightFunc(s, isWhiteSpaceRune)
	}
	return s
}

// isWhiteSpaceRune is Rust's char::is_whitespace. utf8.RuneError stands for an invalid byte in
// strings.Trim*Func, and U+FFFD is not white space either.
func isWhiteSpaceRune(r rune) bool { return unicode.IsSpace(r) }

// sequenceNormalizer applies normalizers in order.
type sequenceNormalizer []normalizer

func (seq sequenceNormalizer) normalize(s string) string {
	for _, n := range seq {
		s = n.normalize(s)
	}
	return s
}

// buildSequence builds the components listed under key of a Sequence normalizer or decoder,
// in order, dropping null ones (a null component does nothing). T is an interface type: the
// comparison with its nil value never compares two dynamic values, so it cannot panic.
func buildSequence[T comparable](raw json.RawMessage, key string, build func(json.RawMessage) (T, error)) ([]T, error) {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if list, ok := c[key]; ok && !isNull(list) {
		if err := json.Unmarshal(list, &items); err != nil {
			return nil, err
		}
	}
	var zero T
	seq := make([]T, 0, len(items))
	for _, r := range items {
		x, err := build(r)
		if err != nil {
			return nil, err
		}
		if x != zero {
			seq = append(seq, x)
		}
	}
	return seq, nil
}
