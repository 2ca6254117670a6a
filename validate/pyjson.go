package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// pyDumps re-serialises the JSON value raw exactly as Python's json.dumps(json.loads(raw))
// would with default arguments: ", " and ": " separators, object keys in their original order
// (a repeated key keeps its first position and its last value, as a Python dict does),
// non-ASCII escaped as \uXXXX (ensure_ascii), integers verbatim, floats as Python's repr, and
// floats too large for a double as Infinity.
func pyDumps(raw []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b strings.Builder
	if err := pyValue(dec, &b); err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("trailing data after JSON value")
	}
	return b.String(), nil
}

func pyValue(dec *json.Decoder, b *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return pyArray(dec, b)
		}
		return pyObject(dec, b)
	case string:
		b.WriteString(pyQuote(t))
	case json.Number:
		b.WriteString(pyNumber(t))
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case nil:
		b.WriteString("null")
	default:
		return fmt.Errorf("unexpected JSON token %v", tok)
	}
	return nil
}

func pyArray(dec *json.Decoder, b *strings.Builder) error {
	b.WriteByte('[')
	for first := true; dec.More(); first = false {
		if !first {
			b.WriteString(", ")
		}
		if err := pyValue(dec, b); err != nil {
			return err
		}
	}
	_, err := dec.Token() // ']'
	b.WriteByte(']')
	return err
}

func pyObject(dec *json.Decoder, b *strings.Builder) error {
	var keys, vals []string
	index := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v strings.Builder
		if err := pyValue(dec, &v); err != nil {
			return err
		}
		if k, ok := index[key]; ok {
			vals[k] = v.String()
			continue
		}
		index[key] = len(keys)
		keys = append(keys, key)
		vals = append(vals, v.String())
	}
	if _, err := dec.Token(); err != nil { // '}'
		return err
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyQuote(k))
		b.WriteString(": ")
		b.WriteString(vals[i])
	}
	b.WriteByte('}')
	return nil
}

// pyNumber renders a JSON number as Python does after json.loads: an integer literal as the
// integer (arbitrary precision, so verbatim, "-0" as "0"), anything else as repr(float).
func pyNumber(n json.Number) string {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if s == "-0" {
			return "0"
		}
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return s
	}
	return pyFloat(f)
}

// pyFloat is Python's repr(float) (and json.dumps of a float): the shortest round-tripping
// digits, in positional form with at least one decimal when the decimal exponent is in
// [-4, 16), in exponent form ("1e+16", "1.5e-07") otherwise.
func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyQuote is json.dumps of a string with ensure_ascii: \" \\ \n \r \t \b \f, every other
// character outside printable ASCII as a lowercase \uXXXX (astral ones as surrogate pairs).
func pyQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsonMinimal quotes s as a JSON string escaping only what JSON requires (quote, backslash,
// control characters), so that plain identifiers come out as Python's f-string leaves them.
func jsonMinimal(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
