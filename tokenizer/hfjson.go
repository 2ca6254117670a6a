package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The two large parts of a tokenizer.json, the model's vocab (an object of token -> id) and
// its merges (an array of "a b" strings or of ["a", "b"] pairs), are read by the small scanner
// below instead of encoding/json: decoding them by reflection took 0.7 s of the 0.9 s that
// loading Llama 3's tokenizer took (the merges twice, once per spelling), every time a
// process started. The file has been through json.Unmarshal already (which validates all of
// it), so the scanner meets valid JSON; it still checks what it reads and decodes strings as
// encoding/json does, invalid UTF-8 and lone surrogates becoming U+FFFD. (formats has a JSON
// scanner of its own, tuned for records; the tokenizer depends on no package of the project
// but internal ones, so it keeps this small one.)

// jsonScan reads JSON values from b, at i.
type jsonScan struct {
	b   []byte
	i   int
	buf []byte // decoded bytes of a string with escapes
}

func (s *jsonScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, 0 at the end.
func (s *jsonScan) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *jsonScan) expect(c byte) error {
	if s.peek() != c {
		return s.errf("expected %q", c)
	}
	s.i++
	return nil
}

func (s *jsonScan) errf(format string, args ...any) error {
	return fmt.Errorf("byte %d: %s", s.i, fmt.Sprintf(format, args...))
}

// str reads a JSON string.
func (s *jsonScan) str() (string, error) { return s.string(false) }

// strAlias reads a JSON string that, when it has no escapes (nearly always), shares the bytes
// of b: for strings that are looked up and dropped, not kept.
func (s *jsonScan) strAlias() (string, error) { return s.string(true) }

func (s *jsonScan) string(alias bool) (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.i
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			if v := s.b[start:j]; utf8.Valid(v) {
				s.i = j + 1
				if alias && len(v) > 0 {
					return unsafe.String(&v[0], len(v)), nil
				}
				return string(v), nil
			}
			return s.escaped(start) // which replaces each invalid byte
		case c == '\\':
			return s.escaped(start)
		case c < 0x20:
			s.i = j
			return "", s.errf("control character in a string")
		}
	}
	s.i = len(s.b)
	return "", s.errf("unterminated string")
}

// escaped decodes a string with escapes that starts at start (after its quote).
func (s *jsonScan) escaped(start int) (string, error) {
	out := s.buf[:0]
	for j := start; j < len(s.b); {
		c := s.b[j]
		switch {
		case c == '"':
			s.i, s.buf = j+1, out
			return string(out), nil
		case c < 0x20:
			s.i = j
			return "", s.errf("control character in a string")
		case c == '\\':
			if j+1 >= len(s.b) {
				s.i = j
				return "", s.errf("unterminated escape")
			}
			e := s.b[j+1]
			j += 2
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, ok := hex4(s.b[j:])
				if !ok {
					s.i = j
					return "", s.errf("bad \\u escape")
				}
				j += 4
				if utf16.IsSurrogate(r) {
					// A pair makes one rune; a lone half is U+FFFD (encoding/json's rule).
					r2 := utf8.RuneError
					if j+6 <= len(s.b) && s.b[j] == '\\' && s.b[j+1] == 'u' {
						if lo, ok := hex4(s.b[j+2:]); ok {
							if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
								r2 = d
								j += 6
							}
						}
					}
					r = r2
				}
				out = utf8.AppendRune(out, r)
			default:
				s.i = j - 1
				return "", s.errf("bad escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			j++
		default:
			r, n := utf8.DecodeRune(s.b[j:])
			if r == utf8.RuneError && n == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, s.b[j:j+n]...)
			}
			j += n
		}
	}
	s.i = len(s.b)
	return "", s.errf("unterminated string")
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// id reads a token id: a JSON number that is a whole number in uint32's range.
func (s *jsonScan) id() (uint32, error) {
	s.ws()
	start := s.i
	var v uint64
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		v = v*10 + uint64(s.b[s.i]-'0')
		if v > 1<<32-1 {
			return 0, s.errf("id out of range")
		}
		s.i++
	}
	if s.i == start || s.i < len(s.b) && strings.IndexByte(".eE-+", s.b[s.i]) >= 0 {
		return 0, s.errf("an id must be a whole number from 0 to 4294967295")
	}
	return uint32(v), nil
}

// parseVocab reads the model's vocab: token -> id. A repeated token keeps its last id, as
// encoding/json leaves it. null gives a nil map.
func parseVocab(raw []byte) (map[string]uint32, error) {
	if isNull(raw) {
		return nil, nil
	}
	s := jsonScan{b: raw}
	if err := s.expect('{'); err != nil {
		return nil, fmt.Errorf("model: vocab: %w", err)
	}
	// About one entry per 14 bytes of the object in the files we know; room for them saves
	// the map's growth steps.
	v := make(map[string]uint32, len(raw)/16)
	if s.peek() == '}' {
		return v, nil
	}
	for {
		k, err := s.str()
		if err == nil {
			err = s.expect(':')
		}
		var id uint32
		if err == nil {
			id, err = s.id()
		}
		if err != nil {
			return nil, fmt.Errorf("model: vocab: %w", err)
		}
		v[k] = id
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			return v, nil
		default:
			return nil, fmt.Errorf("model: vocab: %w", s.errf("expected ',' or '}'"))
		}
	}
}

// parseMerges accepts both spellings of the merges list: "a b" strings (older files) and
// ["a", "b"] pairs (tokenizers 0.20 and later, which allow spaces inside tokens). The
// strings share raw's bytes (see strAlias): the caller looks them up and keeps none.
func parseMerges(raw []byte) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	s := jsonScan{b: raw}
	if err := s.expect('['); err != nil {
		return nil, fmt.Errorf("model: merges: %w", err)
	}
	pairs := make([][2]string, 0, len(raw)/16+1) // a merge takes 16 to 20 bytes of JSON
	if s.peek() == ']' {
		return pairs, nil
	}
	for i := 0; ; i++ {
		var p [2]string
		var err error
		switch s.peek() {
		case '"':
			var l string
			if l, err = s.strAlias(); err == nil {
				a, b, ok := strings.Cut(l, " ")
				if !ok || strings.Contains(b, " ") {
					return nil, fmt.Errorf("model: merge %d: %q is not two tokens separated by a space", i, l)
				}
				p = [2]string{a, b}
			}
		case '[':
			s.i++
			if p[0], err = s.strAlias(); err == nil {
				if err = s.expect(','); err == nil {
					if p[1], err = s.strAlias(); err == nil {
						err = s.expect(']')
					}
				}
			}
		default:
			err = s.errf("a merge is a string or a pair of strings")
		}
		if err != nil {
			return nil, fmt.Errorf("model: merge %d: %w", i, err)
		}
		pairs = append(pairs, p)
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			return pairs, nil
		default:
			return nil, fmt.Errorf("model: merges: %w", s.errf("expected ',' or ']'"))
		}
	}
}

// skip moves past one JSON value without decoding it. It finds the value's end and no more:
// what it skips is validated by whoever decodes it (see splitModel).
func (s *jsonScan) skip() error {
	switch s.peek() {
	case '"':
		s.i++
		return s.skipString()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				s.i++
				if err := s.skipString(); err != nil {
					return err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return nil
				}
			}
			s.i++
		}
		return s.errf("unterminated object or array")
	case 0:
		return s.errf("unexpected end")
	default: // a number or a literal
		start := s.i
		for s.i < len(s.b) && strings.IndexByte(",}] \t\n\r", s.b[s.i]) < 0 {
			s.i++
		}
		if s.i == start {
			return s.errf("unexpected %q", s.b[s.i])
		}
		return nil
	}
}

// skipString moves past the rest of a string whose opening quote was read.
func (s *jsonScan) skipString() error {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return nil
		case '\\':
			s.i += 2
		default:
			s.i++
		}
	}
	return s.errf("unterminated string")
}

// splitModel finds the model's vocab and merges in a tokenizer.json and returns them with the
// rest of the document, in which both are null: encoding/json decodes (and validates) the rest,
// a few kilobytes, and parseVocab and parseMerges the two, nearly all of the file. Unmarshaled
// whole, even into json.RawMessage, the document was scanned twice by encoding/json (validated,
// then skipped), 0.25 s for GPT-OSS's 28 MB. ok is false when the document is not shaped as
// expected (not an object, a model that is not an object): the caller then decodes it whole.
func splitModel(raw []byte) (rest, vocab, merges []byte, ok bool) {
	s := jsonScan{b: raw}
	type span struct{ lo, hi int }
	var spans []span
	var vs, ms span
	object := func(each func(key string) error) error {
		if err := s.expect('{'); err != nil {
			return err
		}
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			k, err := s.str()
			if err == nil {
				err = s.expect(':')
			}
			if err == nil {
				err = each(k)
			}
			if err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return s.errf("expected ',' or '}'")
			}
		}
	}
	err := object(func(key string) error {
		if key != "model" || s.peek() != '{' {
			return s.skip()
		}
		return object(func(key string) error {
			s.ws()
			lo := s.i
			if err := s.skip(); err != nil {
				return err
			}
			switch key {
			case "vocab":
				vs = span{lo, s.i}
				spans = append(spans, vs)
			case "merges":
				ms = span{lo, s.i}
				spans = append(spans, ms)
			}
			return nil
		})
	})
	if err != nil || s.peek() != 0 || len(spans) == 0 {
		return nil, nil, nil, false
	}
	rest = make([]byte, 0, len(raw)-(vs.hi-vs.lo)-(ms.hi-ms.lo)+64)
	at := 0
	for _, sp := range spans {
		rest = append(append(rest, raw[at:sp.lo]...), "null"...)
		at = sp.hi
	}
	rest = append(rest, raw[at:]...)
	return rest, raw[vs.lo:vs.hi], raw[ms.lo:ms.hi], true
}
