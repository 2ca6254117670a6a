package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// newDecoder builds a decoder from its tokenizer.json description. null gives (nil, nil).
func newDecoder(raw json.RawMessage) (decoder, error) {
	typ, isNull, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: decoder: %w", err)
	}
	if isNull {
		return nil, nil
	}
	bad := func(err error) error {
		return fmt.Errorf("tokenizer.json: decoder %q: %w", typ, err)
	}
	switch typ {
	case "ByteLevel":
		return byteLevelTokenDecoder{dec: newByteLevelDecoder()}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Metaspace":
		rep, scheme, _, err := metaspaceConfig(raw)
		if err != nil {
			return nil, bad(err)
		}
		return metaspaceDecoder{replacement: rep, scheme: scheme}, nil
	case "Strip":
		var c struct {
			Content string `json:"content"`
			Start   int    `json:"start"`
			Stop    int    `json:"stop"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, bad(err)
		}
		if utf8.RuneCountInString(c.Content) != 1 {
			return nil, bad(fmt.Errorf("content must be exactly one character"))
		}
		if c.Start < 0 || c.Stop < 0 {
			return nil, bad(fmt.Errorf("start and stop must not be negative"))
		}
		r, _ := utf8.DecodeRuneInString(c.Content)
		return stripDecoder{content: r, start: c.Start, stop: c.Stop}, nil
	case "Replace":
		m, content, err := parseReplace(raw)
		if err != nil {
			return nil, bad(err)
		}
		return replaceDecoder{m: m, content: content}, nil
	case "BPEDecoder":
		c := struct {
			Suffix *string `json:"suffix"`
		}{}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, bad(err)
		}
		suffix := "</w>"
		if c.Suffix != nil {
			suffix = *c.Suffix
		}
		return bpeDecoder{suffix: suffix}, nil
	case "Sequence":
		seq, err := buildSequence(raw, "decoders", newDecoder)
		if err != nil {
			return nil, bad(err)
		}
		return sequenceDecoder(seq), nil
	}
	// WordPiece, CTC and anything newer.
	return nil, fmt.Errorf("tokenizer.json: decoder %q is not supported", typ)
}

// decodeChain runs the decoder over the token strings and joins the result, as Hugging Face's
// Decoder::decode does. A nil decoder just concatenates the tokens.
func decodeChain(d decoder, tokens []string) []byte {
	if d != nil {
		tokens = d.decode(tokens)
	}
	n := 0
	for _, t := range tokens {
		n += len(t)
	}
	out := make([]byte, 0, n)
	for _, t := range tokens {
		out = append(out, t...)
	}
	return out
}

// byteLevelTokenDecoder is Hugging Face's ByteLevel decoder: every token spelled entirely in the
// byte-level alphabet becomes its bytes, any other token stays as it is, and all of it becomes one
// token. Hugging Face then makes that one string with from_utf8_lossy; here the bytes are kept
// raw, so that decode(encode(b)) == b for any bytes (the public API may apply the lossy step).
type byteLevelTokenDecoder struct {
	dec byteLevelDecoder
}

func (d byteLevelTokenDecoder) decode(tokens []string) []string {
	var out []byte
	for _, t := range tokens {
		if b, ok := d.dec.bytes(t); ok {
			out = append(out, b...)
		} else {
			out = append(out, t...)
		}
	}
	return []string{string(out)}
}

// byteFallbackDecoder is Hugging Face's ByteFallback decoder: runs of tokens spelled <0xHH>
// become the bytes they name, as one token when the run is valid UTF-8, else one U+FFFD token per
// byte of the run.
type byteFallbackDecoder struct{}

// parseByteToken recognizes <0xHH>, with Rust's u8::from_str_radix rules for the two characters
// (which also accept a leading '+', as in <0x+A>).
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	h := t[3:5]
	if h[0] == '+' {
		d := hexDigit(h[1])
		return byte(d), d >= 0
	}
	hi, lo := hexDigit(h[0]), hexDigit(h[1])
	if hi < 0 || lo < 0 {
		return 0, false
	}
	return byte(hi<<4 | lo), true
}

func (byteFallbackDecoder) decode(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var run []byte
	flush := func() {
		if len(run) == 0 {
			return
		}
		if utf8.Valid(run) {
			out = append(out, string(run))
		} else {
			for range run {
				out = append(out, "\uFFFD")
			}
		}
		run = run[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			run = append(run, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// fuseDecoder is Hugging Face's Fuse: all tokens become one.
type fuseDecoder struct{}

func (fuseDecoder) decode(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}

// metaspaceDecoder is Hugging Face's Metaspace decoder: the replacement character becomes a
// space, except in the first token, where (unless the scheme is "never") every replacement
// character is dropped.
type metaspaceDecoder struct {
	replacement rune
	scheme      prependScheme
}

func (d metaspaceDecoder) decode(tokens []string) []string {
	out := make([]string, len(tokens))
	rep := string(d.replacement)
	for i, t := range tokens {
		with := " "
		if i == 0 && d.scheme != prependNever {
			with = ""
		}
		out[i] = strings.ReplaceAll(t, rep, with)
	}
	return out
}

// stripDecoder is Hugging Face's Strip decoder: it removes up to start leading and up to stop
// trailing occurrences of content from every token. Where the two cuts cross (Rust would panic
// slicing) the token becomes empty.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decode(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		chars := []rune(t)
		startCut := 0
		for j := 0; j < d.start && j < len(chars) && chars[j] == d.content; j++ {
			startCut = j + 1
		}
		stopCut := len(chars)
		for j := 0; j < d.stop && j < len(chars); j++ {
			k := len(chars) - j - 1
			if chars[k] != d.content {
				break
			}
			stopCut = k
		}
		if stopCut < startCut {
			out[i] = ""
			continue
		}
		// Invalid bytes became U+FFFD in chars; keep the original bytes by cutting t itself.
		out[i] = cutRunes(t, startCut, stopCut)
	}
	return out
}

// cutRunes returns the characters [from, to) of s (from <= to), counting characters as []rune(s)
// does: an invalid byte is one character.
func cutRunes(s string, from, to int) string {
	a, b, n := len(s), len(s), 0
	for i := range s {
		if n == from {
			a = i
		}
		if n == to {
			b = i
			break
		}
		n++
	}
	return s[a:b]
}

// replaceDecoder is Hugging Face's Replace decoder: each token has every match replaced.
type replaceDecoder struct {
	m       matcher
	content string
}

func (d replaceDecoder) decode(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = replaceAll(d.m, t, d.content)
	}
	return out
}

// bpeDecoder is Hugging Face's BPEDecoder: the end-of-word suffix becomes a space, except in the
// last token, where it is removed. (An empty suffix inserts between all characters, in Go's
// strings.ReplaceAll as in Rust's str::replace.)
type bpeDecoder struct{ suffix string }

func (d bpeDecoder) decode(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		with := " "
		if i == len(tokens)-1 {
			with = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, with)
	}
	return out
}

// sequenceDecoder chains decoders.
type sequenceDecoder []decoder

func (seq sequenceDecoder) decode(tokens []string) []string {
	for _, d := range seq {
		tokens = d.decode(tokens)
	}
	return tokens
}
