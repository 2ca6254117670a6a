package inspect

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
)

// repr prints the first example as Python prints ds[0]: a dict in column order, struct fields
// in schema order, long lists and strings shortened unless tw.full.
func (tw textWriter) repr(res *Inspection) string {
	var b strings.Builder
	m, ok := res.First.(map[string]any)
	if !ok {
		tw.pyRepr(&b, res.First, nil)
		return b.String()
	}
	keys := res.firstKeys
	if len(keys) == 0 {
		keys = sortedKeys(m)
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		var t arrow.DataType
		if res.schema != nil {
			if idx := res.schema.FieldIndices(k); len(idx) > 0 {
				t = res.schema.Field(idx[0]).Type
			}
		}
		b.WriteString(pyString(k, -1))
		b.WriteString(": ")
		tw.pyRepr(&b, m[k], t)
	}
	b.WriteByte('}')
	return b.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pyRepr writes v as Python's repr does; t is v's Arrow type when known (nil otherwise), which
// orders the fields of a struct.
func (tw textWriter) pyRepr(b *strings.Builder, v any, t arrow.DataType) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(pyString(x, tw.limit(maxStr)))
	case json.Number:
		b.WriteString(x.String())
	case float64:
		b.WriteString(pyFloat(x))
	case float32:
		b.WriteString(pyFloat(float64(x)))
	case []byte:
		b.WriteString("b")
		b.WriteString(pyString(string(x), tw.limit(maxStr)))
	case map[string]any:
		tw.pyDict(b, x, t)
	default:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
			tw.pyList(b, rv, t)
		} else {
			fmt.Fprint(b, v) // the integer types
		}
	}
}

// pyDict writes a struct value: its fields in the order of struct type t, or sorted when t
// does not name them all.
func (tw textWriter) pyDict(b *strings.Builder, x map[string]any, t arrow.DataType) {
	st, _ := t.(*arrow.StructType)
	var keys []string
	if st != nil {
		for _, f := range st.Fields() {
			if _, ok := x[f.Name]; ok {
				keys = append(keys, f.Name)
			}
		}
	}
	if len(keys) != len(x) {
		keys = sortedKeys(x)
	}
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		var ft arrow.DataType
		if st != nil {
			if f, ok := st.FieldByName(k); ok {
				ft = f.Type
			}
		}
		b.WriteString(pyString(k, -1))
		b.WriteString(": ")
		tw.pyRepr(b, x[k], ft)
	}
	b.WriteByte('}')
}

// pyList writes a list, cut to maxItems elements unless tw.full.
func (tw textWriter) pyList(b *strings.Builder, rv reflect.Value, t arrow.DataType) {
	var elem arrow.DataType
	if l, ok := t.(arrow.ListLikeType); ok {
		elem = l.Elem()
	}
	n, limit := rv.Len(), tw.limit(maxItems)
	shown := n
	if limit >= 0 && n > limit {
		shown = limit
	}
	b.WriteByte('[')
	for i := 0; i < shown; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		tw.pyRepr(b, rv.Index(i).Interface(), elem)
	}
	if shown < n {
		fmt.Fprintf(b, ", ... +%d more", n-shown)
	}
	b.WriteByte(']')
}

// pyString quotes s as Python's repr does (single quotes unless s holds one and no double
// quote; \n, \t, \\ and control characters escaped), cut to limit characters (limit < 0: all).
func pyString(s string, limit int) string {
	s, cut := truncRunes(s, limit)
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	if cut > 0 {
		fmt.Fprintf(&b, "... +%d more characters", cut)
	}
	return b.String()
}

// pyFloat prints a float as Python's repr: 1.0, 0.25, 1e-05, 1e+16, nan, inf.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyShape prints a shape as NumPy does: (3,), (659, 512), ().
func pyShape(s []int64) string {
	parts := make([]string, len(s))
	for i, n := range s {
		parts[i] = strconv.FormatInt(n, 10)
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// truncRunes cuts s to n characters (n < 0: no limit) and returns how many were cut.
func truncRunes(s string, n int) (string, int) {
	if n < 0 || utf8.RuneCountInString(s) <= n {
		return s, 0
	}
	i, k := 0, 0
	for k < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		k++
	}
	return s[:i], utf8.RuneCountInString(s[i:])
}
