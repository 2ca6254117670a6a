package validate

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Fixed messages. Those marked "document" are quoted verbatim from the data formats document
// (or its Python validators); the others follow the same style.
const (
	msgRecordNotObject   = "Record must be an object"
	msgMessagesOrText    = "Must have 'messages' or 'text' field" // document (SFT)
	msgResponsesIdentity = "Responses are identical"              // document (DPO)
	msgCodeIdentical     = "Buggy and fixed code are identical"
	msgNoToolCalls       = "Agent trajectory has no tool calls"
	msgNoTestFn          = "Field 'tests' has no #[test] function"
	msgTestAttrNoFn      = "Field 'tests' has a #[test] attribute not followed by a function"
	msgTestsUnbalanced   = "Field 'tests' has unbalanced delimiters"
	msgTestsUnterminated = "Field 'tests' has an unterminated string or comment"
)

// Parameterised messages; the first four are the document's "Common Issues".
func msgMissing(f string) string       { return fmt.Sprintf("Missing required field '%s'", f) }
func msgMustBeList(f string) string    { return fmt.Sprintf("Field '%s' must be a list", f) }
func msgEmptyStripped(f string) string { return fmt.Sprintf("Field '%s' is empty after stripping", f) }
func msgTokenRange(id int64) string    { return fmt.Sprintf("Token ID %d out of vocabulary range", id) }
func msgMustBeString(f string) string  { return fmt.Sprintf("Field '%s' must be a string", f) }
func msgMustBeObject(f string) string  { return fmt.Sprintf("Field '%s' must be an object", f) }
func msgEmptyList(f string) string     { return fmt.Sprintf("Field '%s' is empty", f) }
func msgMustBeIntegers(f string) string {
	return fmt.Sprintf("Field '%s' must be a list of integers", f)
}
func msgMustBeStrings(f string) string { return fmt.Sprintf("Field '%s' must be a list of strings", f) }
func msgSeqLen(got, want int) string {
	return fmt.Sprintf("Sequence length %d does not match expected %d", got, want)
}
func msgInvalidRole(role string) string {
	return fmt.Sprintf("Invalid role '%s' (must be one of: system, user, assistant)", role)
}

// issues collects a record's issues in rule order.
type issues []Issue

func (is *issues) add(field, msg string) { *is = append(*is, Issue{Field: field, Message: msg}) }

// addAll appends the issues of a sub-check of one field's value (CheckHarmony,
// CheckRustTests: their issues carry no field of their own) under field.
func (is *issues) addAll(field string, sub []Issue) {
	for _, s := range sub {
		is.add(field, s.Message)
	}
}

// requireString checks that rec[field] is present and a string and, if nonEmpty, that it is
// not empty after stripping. It returns the string and whether all checks passed.
func requireString(is *issues, rec map[string]any, field string, nonEmpty bool) (string, bool) {
	v, ok := rec[field]
	if !ok {
		is.add(field, msgMissing(field))
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		is.add(field, msgMustBeString(field))
		return "", false
	}
	if nonEmpty && pyStrip(s) == "" {
		is.add(field, msgEmptyStripped(field))
		return s, false
	}
	return s, true
}

// optionalString checks that rec[field], when present and not null, is a string.
func optionalString(is *issues, rec map[string]any, field string) {
	if v, ok := rec[field]; ok && v != nil {
		if _, ok := v.(string); !ok {
			is.add(field, msgMustBeString(field))
		}
	}
}

// pyStrip removes leading and trailing whitespace as Python's str.strip() does: Go's
// unicode.IsSpace plus the separators U+001C..U+001F, which Python counts as whitespace.
func pyStrip(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}

// asList returns v as a slice of generic values when it is a list of any element type the
// JSON decoder or a columnar reader produces.
func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []map[string]any:
		out := make([]any, len(l))
		for i, m := range l {
			out[i] = m
		}
		return out, true
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// asInt returns v as an integer when it is one: a json.Number without fraction or exponent
// part, any Go integer type, or an integral float64 (as encoding/json yields without UseNumber).
func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(n), 10, 64)
		return i, err == nil
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case int:
		return int64(n), true
	case int64:
		return n, true
	case int32:
		return int64(n), true
	case int16:
		return int64(n), true
	case int8:
		return int64(n), true
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		if n > math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	}
	return 0, false
}
