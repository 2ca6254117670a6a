package jsonscan

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// FieldKind says what a lookup of a text field found.
type FieldKind uint8

// The outcomes of a field lookup.
const (
	// FieldUnset means not looked up yet: a JSON record whose Raw the caller
	// extracts from (see Record.Extract).
	FieldUnset     FieldKind = iota
	FieldOK                  // the field is a string
	FieldMissing             // the object has no such key (or the CSV row no such column)
	FieldNull                // the value is null
	FieldNotString           // the value is a number, bool, array or object
	FieldNotObject           // valid JSON, but not an object
	FieldMalformed           // not valid JSON
)

var fieldKindNames = [...]string{"unset", "ok", "missing", "null", "not a string", "not an object", "malformed JSON"}

func (k FieldKind) String() string {
	if int(k) < len(fieldKindNames) {
		return fieldKindNames[k]
	}
	return fmt.Sprintf("FieldKind(%d)", k)
}

// ErrMalformed is wrapped by the error ExtractString returns for input that
// is not valid JSON.
var ErrMalformed = errors.New("formats: malformed JSON")

// maxDepth is encoding/json's nesting limit; deeper input is malformed there.
const maxDepth = 10000

// ExtractString returns the decoded value of the top-level string field
// named field (exact, case-sensitive key match; the last occurrence wins, as
// in encoding/json) of the JSON document raw, and what it found. The whole
// document is validated: kind is FieldMalformed, with a non-nil error
// wrapping ErrMalformed and giving the byte offset, exactly when
// encoding/json would reject raw; otherwise err is nil.
//
// Escapes are decoded (\uXXXX surrogate pairs combined; a lone surrogate
// escape becomes U+FFFD, as in encoding/json). Bytes that are not valid
// UTF-8 are returned unchanged, never replaced, so the caller can detect
// them with utf8.ValidString.
func ExtractString(raw []byte, field string) (string, FieldKind, error) {
	s := scanner{b: raw}
	start, end, b, esc, kind, err := s.findField(field, nil)
	if kind != FieldOK {
		return "", kind, err
	}
	if !esc {
		return string(raw[start:end]), FieldOK, nil
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), FieldOK, nil // b is not used again
}

// AppendString is ExtractString that appends the value to dst instead of
// allocating a string; it returns dst unchanged unless kind is FieldOK.
func AppendString(dst, raw []byte, field string) ([]byte, FieldKind, error) {
	s := scanner{b: raw}
	start, end, out, esc, kind, err := s.findField(field, dst)
	if kind != FieldOK {
		return dst, kind, err
	}
	if !esc {
		return append(dst, raw[start:end]...), FieldOK, nil
	}
	return out, FieldOK, nil
}

// StringBytes is AppendString without a copy when it can: a value without escapes is
// returned as raw's own bytes (valid while raw is), one with escapes is decoded into dst[:0],
// whose grown buffer is returned as buf for the next call. A tokenizing pipeline reads each
// document once this way instead of copying it out of the reader's buffer first.
func StringBytes(dst, raw []byte, field string) (value, buf []byte, kind FieldKind, err error) {
	s := scanner{b: raw}
	start, end, out, esc, kind, err := s.findField(field, dst[:0])
	if kind != FieldOK {
		return nil, dst, kind, err
	}
	if !esc {
		return raw[start:end:end], dst, FieldOK, nil
	}
	return out, out, FieldOK, nil
}

// findField scans the document; for a string hit it returns the span of the
// string's contents (without quotes) and whether it holds escapes, and then, in out, dst with
// the decoded contents appended (else out is dst).
func (s *scanner) findField(field string, dst []byte) (start, end int, out []byte, esc bool, kind FieldKind, err error) {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		if err := s.value(0); err != nil {
			return 0, 0, dst, false, FieldMalformed, err
		}
		if err := s.end(); err != nil {
			return 0, 0, dst, false, FieldMalformed, err
		}
		return 0, 0, dst, false, FieldNotObject, nil
	}
	s.i++
	kind = FieldMissing
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			ks, ke, kesc, err := s.str()
			if err != nil {
				return 0, 0, dst, false, FieldMalformed, err
			}
			if err := s.colon(); err != nil {
				return 0, 0, dst, false, FieldMalformed, err
			}
			if keyEqual(s.b[ks:ke], kesc, field) {
				switch {
				case s.i < len(s.b) && s.b[s.i] == '"':
					// The last occurrence wins: each decodes over the ones before.
					start, end, out, esc, err = s.strDecode(dst)
					kind = FieldOK
				case s.i+4 <= len(s.b) && string(s.b[s.i:s.i+4]) == "null":
					s.i += 4
					esc = false
					kind = FieldNull
				default:
					err = s.value(1)
					kind = FieldNotString
					esc = false
				}
			} else {
				err = s.value(1)
			}
			if err != nil {
				return 0, 0, dst, false, FieldMalformed, err
			}
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				s.ws()
				continue
			}
			if s.i < len(s.b) && s.b[s.i] == '}' {
				s.i++
				break
			}
			return 0, 0, dst, false, FieldMalformed, s.errf("expected ',' or '}' in object")
		}
	}
	if err := s.end(); err != nil {
		return 0, 0, dst, false, FieldMalformed, err
	}
	return start, end, out, esc, kind, nil
}

// keyEqual compares a raw key (contents between the quotes) with field.
func keyEqual(key []byte, esc bool, field string) bool {
	if !esc {
		return string(key) == field
	}
	if len(key) < len(field) {
		return false // escapes only ever shrink
	}
	var buf [64]byte
	return string(appendUnquoted(buf[:0], key)) == field
}

// appendUnquoted decodes the contents of a JSON string already validated by
// scanner.str.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			// The run up to the next escape, found with IndexByte's vector loop: documents
			// are mostly runs of plain text between \n escapes.
			j := len(s)
			if k := bytes.IndexByte(s[i+1:], '\\'); k >= 0 {
				j = i + 1 + k
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(s[i:]))
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if d := utf16.DecodeRune(r, rune(hex4(s[i+2:]))); d != utf8.RuneError {
						dst = utf8.AppendRune(dst, d)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst
}

func hex4(b []byte) uint32 {
	var v uint32
	for _, c := range b[:4] {
		v <<= 4
		switch {
		case c <= '9':
			v |= uint32(c - '0')
		case c >= 'a':
			v |= uint32(c - 'a' + 10)
		default:
			v |= uint32(c - 'A' + 10)
		}
	}
	return v
}
