package shard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

// Reject reasons, in the words of the validate package and the data formats document where
// they exist ("Missing required field 'text'", "Field 'text' must be a string", "Field 'text'
// is empty after stripping", "Record must be an object").
func reasonMissing(f string) string   { return fmt.Sprintf("Missing required field '%s'", f) }
func reasonNotString(f string) string { return fmt.Sprintf("Field '%s' must be a string", f) }
func reasonEmpty(f string) string     { return fmt.Sprintf("Field '%s' is empty after stripping", f) }
func reasonBadUTF8(f string) string   { return fmt.Sprintf("Field '%s' is not valid UTF-8", f) }
func reasonTooLong(n, max int64) string {
	return fmt.Sprintf("Record of %d bytes exceeds max_record_bytes (%d bytes)", n, max)
}

const reasonNotObject = "Record must be an object"

// checkRecord applies the pretraining rules to one record and returns the document text or
// a reject reason. The text is the record's own bytes (valid until the reader's next record)
// unless the JSON string holds escapes: it is then decoded into buf, whose grown buffer is
// returned for the next record.
func checkRecord(rec *formats.Record, field string, maxRecord int64, buf []byte) (text, nbuf []byte, reason string) {
	if rec.TooLong {
		return nil, buf, reasonTooLong(rec.Size, maxRecord)
	}
	kind := rec.Kind
	if kind == jsonscan.FieldUnset {
		var err error
		text, buf, kind, err = jsonscan.StringBytes(buf, rec.Raw, field)
		if kind == jsonscan.FieldMalformed {
			// "Malformed JSON: byte 16: unterminated string", not the error's own
			// "formats: malformed JSON: ..." prefix after the document's message.
			return nil, buf, "Malformed JSON: " + strings.TrimPrefix(errString(err), jsonscan.ErrMalformed.Error()+": ")
		}
	} else {
		text = rec.Value
	}
	switch kind {
	case jsonscan.FieldOK:
	case jsonscan.FieldMissing:
		return nil, buf, reasonMissing(field)
	case jsonscan.FieldNull, jsonscan.FieldNotString:
		return nil, buf, reasonNotString(field)
	case jsonscan.FieldNotObject:
		return nil, buf, reasonNotObject
	default:
		return nil, buf, fmt.Sprintf("Field '%s': %v", field, kind)
	}
	if !utf8.Valid(text) {
		return nil, buf, reasonBadUTF8(field)
	}
	if len(pyStrip(text)) == 0 {
		return nil, buf, reasonEmpty(field)
	}
	return text, buf, ""
}

func errString(err error) string {
	if err == nil {
		return "invalid"
	}
	return err.Error()
}

// pyStrip trims white space as Python's str.strip() does (unicode.IsSpace plus U+001C..U+001F),
// the rule of the data formats document's "empty after stripping".
func pyStrip(b []byte) []byte {
	return bytes.TrimFunc(b, func(r rune) bool {
		return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
	})
}

// rejectLine is one line of rejects.jsonl.
type rejectLine struct {
	Source string `json:"source"`
	Line   int64  `json:"line,omitempty"`
	Row    *int64 `json:"row,omitempty"`
	Offset *int64 `json:"offset,omitempty"`
	Reason string `json:"reason"`
	// Record is the raw record: the JSON value itself when it is valid JSON, else a string.
	Record json.RawMessage `json:"record"`
	// RecordBase64 holds the exact bytes when they are not valid UTF-8 (Record then has
	// U+FFFD in their place).
	RecordBase64 string `json:"record_base64,omitempty"`
	// Truncated is set for an over-long record, of which Record holds only a prefix.
	Truncated bool  `json:"truncated,omitempty"`
	Size      int64 `json:"size,omitempty"`
}

// appendReject appends the rejects.jsonl line (with '\n') for rec.
func appendReject(dst []byte, rec *formats.Record, reason string) ([]byte, error) {
	l := rejectLine{Source: rec.Source, Reason: reason}
	if rec.Line > 0 {
		l.Line = rec.Line
	} else if rec.Row >= 0 {
		row := rec.Row
		l.Row = &row
	}
	if rec.Offset >= 0 && rec.Line == 0 {
		off := rec.Offset
		l.Offset = &off
	}
	raw := rec.JSON()
	if rec.TooLong {
		raw = rec.Raw
		l.Truncated, l.Size = true, rec.Size
	}
	if !rec.TooLong && json.Valid(raw) && utf8.Valid(raw) {
		var c bytes.Buffer
		if err := json.Compact(&c, raw); err != nil {
			return dst, err
		}
		l.Record = c.Bytes()
	} else {
		s, err := appendJSONLine(nil, string(raw)) // invalid UTF-8 becomes U+FFFD
		if err != nil {
			return dst, err
		}
		l.Record = bytes.TrimSuffix(s, []byte{'\n'})
		if !utf8.Valid(raw) {
			l.RecordBase64 = base64.StdEncoding.EncodeToString(raw)
		}
	}
	return appendJSONLine(dst, &l)
}

// appendJSONLine appends v as one line of JSON, without HTML escaping.
func appendJSONLine(dst []byte, v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return dst, err
	}
	return append(dst, b.Bytes()...), nil
}
