package jsonscan

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a validating, allocation-free JSON scanner over one document.
// Its grammar is encoding/json's: RFC 8259, raw bytes >= 0x80 allowed inside
// strings (valid UTF-8 or not), nesting up to maxDepth.
type scanner struct {
	b []byte
	i int
}

// strSafe[c] is true for bytes that need no attention inside a string.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("%w: byte %d: %s", ErrMalformed, s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end checks that only whitespace follows.
func (s *scanner) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.errf("unexpected data after top-level value")
	}
	return nil
}

// colon consumes whitespace, ':', whitespace.
func (s *scanner) colon() error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return s.errf("expected ':' after object key")
	}
	s.i++
	s.ws()
	return nil
}

// str scans a string at s.i and returns the span of its contents and
// whether it holds escapes.
func (s *scanner) str() (start, end int, esc bool, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, 0, false, s.errf("expected string")
	}
	s.i++
	start = s.i
	b := s.b
	for {
		i := skipSafe(b, s.i)
		s.i = i
		if i >= len(b) {
			return 0, 0, false, s.errf("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			s.i++
			return start, i, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, 0, false, s.errf("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i = i + 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					s.i = i + 1
					return 0, 0, false, s.errf("invalid \\u escape")
				}
				s.i = i + 6
			default:
				s.i = i + 1
				return 0, 0, false, s.errf("invalid escape")
			}
		default:
			return 0, 0, false, s.errf("control character in string")
		}
	}
}

// skipSafe returns the index of the first byte at or after i that ends or interrupts a
// string's plain run ('"', '\\' or a control character), or len(b). It tests eight bytes at
// a time (SWAR): documents are long runs of plain text, and a byte loop over them was a tenth
// of a pipeline run.
func skipSafe(b []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ (lo * '"')
		e := x ^ (lo * '\\')
		// Bytes < 0x20, == '"', == '\\' get their high bit set. A borrow can flag a byte
		// above a flagged one, never below it, so the lowest flag is exact.
		m := ((x-lo*0x20) & ^x | (q-lo)&^q | (e-lo)&^e) & hi
		if m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
	}
	for i < len(b) && strSafe[b[i]] {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		s.i = i
		return s.errf("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			s.i = i
			return s.errf("invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			s.i = i
			return s.errf("invalid number")
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	s.i = i
	return nil
}

func (s *scanner) literal(lit string) error {
	if len(s.b)-s.i < len(lit) || string(s.b[s.i:s.i+len(lit)]) != lit {
		return s.errf("invalid literal")
	}
	s.i += len(lit)
	return nil
}

// value scans one value starting at s.i (after whitespace), iteratively;
// depth is the nesting depth of the enclosing containers.
func (s *scanner) value(depth int) error {
	var small [2]uint64 // bit set: object, clear: array; grows past depth 128
	stack := small[:]
	d := 0
	push := func(obj bool) error {
		if depth+d+1 > maxDepth {
			return s.errf("exceeded max depth")
		}
		if d/64 == len(stack) {
			stack = append(stack, 0)
		}
		if obj {
			stack[d/64] |= 1 << (d % 64)
		} else {
			stack[d/64] &^= 1 << (d % 64)
		}
		d++
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) {
			return s.errf("unexpected end of input")
		}
		var err error
		switch c := s.b[s.i]; {
		case c == '{':
			if err = push(true); err != nil {
				return err
			}
			s.i++
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == '}' {
				s.i++
				d--
				break
			}
			if _, _, _, err = s.str(); err == nil {
				err = s.colon()
			}
			if err != nil {
				return err
			}
			continue
		case c == '[':
			if err = push(false); err != nil {
				return err
			}
			s.i++
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ']' {
				s.i++
				d--
				break
			}
			continue
		case c == '"':
			_, _, _, err = s.str()
		case c == 't':
			err = s.literal("true")
		case c == 'f':
			err = s.literal("false")
		case c == 'n':
			err = s.literal("null")
		case c == '-' || isDigit(c):
			err = s.number()
		default:
			err = s.errf("invalid character %q looking for value", c)
		}
		if err != nil {
			return err
		}
		// After a complete value: close containers or move to the next element.
		for {
			if d == 0 {
				return nil
			}
			s.ws()
			if s.i >= len(s.b) {
				return s.errf("unexpected end of input")
			}
			obj := stack[(d-1)/64]&(1<<((d-1)%64)) != 0
			c := s.b[s.i]
			if c == ',' {
				s.i++
				if obj {
					s.ws()
					if _, _, _, err := s.str(); err != nil {
						return err
					}
					if err := s.colon(); err != nil {
						return err
					}
				}
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				s.i++
				d--
				continue
			}
			return s.errf("invalid character %q after element", c)
		}
	}
}

// strDecode is str for the value a caller wants decoded: in the same pass it appends the
// string's decoded contents to dst when the string holds escapes (out is then the grown dst;
// otherwise out is dst unchanged and [start, end) is the contents, ready to use as is). One
// pass instead of str's scan and appendUnquoted's second one: in source code an escape (\n,
// \t) comes every dozen bytes, so the passes cost per escape, not per byte. Errors and their
// offsets are str's.
func (s *scanner) strDecode(dst []byte) (start, end int, out []byte, esc bool, err error) {
	return s.strDecodeWith(dst, unescapeBlocks)
}

// strDecodeWith is strDecode, decoding with kern between escapes unless kern is nil; the
// tests run it with each kernel the CPU has and without, the scalar loop being the reference
// for the assembly.
func (s *scanner) strDecodeWith(dst []byte, kern unescapeKernel) (start, end int, out []byte, esc bool, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return 0, 0, dst, false, s.errf("expected string")
	}
	b := s.b
	start = s.i + 1
	i := skipSafe(b, start)
	if i < len(b) && b[i] == '"' {
		s.i = i + 1
		return start, i, dst, false, nil
	}
	if i >= len(b) || b[i] != '\\' {
		s.i = i
		if i >= len(b) {
			return 0, 0, dst, false, s.errf("unterminated string")
		}
		return 0, 0, dst, false, s.errf("control character in string")
	}
	// Decoding never grows the contents, and they end before len(b): reserve that once, plus
	// a word of slack for the eight-byte stores below.
	base := len(dst)
	need := base + (i - start) + (len(b) - i) + 8
	dst = slices.Grow(dst, need-len(dst))
	d := dst[:cap(dst)]
	n := base + copy(d[base:], b[start:i])
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	simdAt := 0 // no unescapeBlocks before this
	for {
		// Here b[i] is '\\'.
		if i+1 >= len(b) {
			s.i = i
			return 0, 0, dst, false, s.errf("unterminated string")
		}
		// One table load decides the one-letter escapes, the common case.
		if c := unescapeByte[b[i+1]]; c != 0 {
			d[n] = c
			n, i = n+1, i+2
			// The blocks run from plain text after a one-letter escape; they stop at any
			// other escape, so text dense in \u escapes (escaped non-Latin scripts) stays
			// here, and a call that got under 16 bytes leaves the next 64 to this loop:
			// calls that find next to nothing cost more than the bytes they decode.
			if kern != nil && i >= simdAt && len(b)-i >= 64 && b[i] != '\\' {
				// d[n:] is at least as long as b[i:], as a kernel needs.
				ni, nn := kern(d[n:], b[i:])
				i, n = i+ni, n+nn
				if ni < 16 {
					simdAt = i + 64
				}
			}
		} else if b[i+1] == 'u' {
			if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
				s.i = i + 1
				return 0, 0, dst, false, s.errf("invalid \\u escape")
			}
			r := rune(hex4(b[i+2:]))
			i += 6
			if utf16.IsSurrogate(r) {
				// A pair is combined only when the next escape is a valid low half; the
				// scan then validates that escape as usual.
				if i+12-6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' &&
					isHex(b[i+2]) && isHex(b[i+3]) && isHex(b[i+4]) && isHex(b[i+5]) {
					if dr := utf16.DecodeRune(r, rune(hex4(b[i+2:]))); dr != utf8.RuneError {
						r = dr
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			n += utf8.EncodeRune(d[n:], r)
		} else {
			s.i = i + 1
			return 0, 0, dst, false, s.errf("invalid escape")
		}
		if i < len(b) && b[i] == '\\' {
			continue // escapes come in runs: a newline and the next line's indent
		}
		// The plain run after the escape, copied a word at a time: each word is stored
		// whole (the slack covers it) and n advances by its plain bytes only.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lo * '"')
			e := x ^ (lo * '\\')
			m := ((x-lo*0x20) & ^x | (q-lo)&^q | (e-lo)&^e) & hi
			binary.LittleEndian.PutUint64(d[n:], x)
			if m != 0 {
				k := bits.TrailingZeros64(m) >> 3
				i, n = i+k, n+k
				goto special
			}
			i, n = i+8, n+8
		}
		for i < len(b) && strSafe[b[i]] {
			d[n] = b[i]
			i, n = i+1, n+1
		}
	special:
		switch {
		case i >= len(b):
			s.i = i
			return 0, 0, dst, false, s.errf("unterminated string")
		case b[i] == '"':
			s.i = i + 1
			return start, i, d[:n], true, nil
		case b[i] != '\\':
			s.i = i
			return 0, 0, dst, false, s.errf("control character in string")
		}
	}
}

// unescapeByte maps the character after a backslash to the byte its one-letter escape
// stands for; 0 for 'u' and for characters that make no valid escape.
var unescapeByte = [256]byte{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\\': '\\', '/': '/'}
