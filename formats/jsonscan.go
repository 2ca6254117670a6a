package formats

import "fmt"

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
		i := s.i
		for i < len(b) && strSafe[b[i]] {
			i++
		}
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
