package formats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// KeyOrder records the key order of the JSON objects of one record, which a map[string]any
// loses: object path -> keys in first-seen order. The path of the top-level object is "",
// of an object under key k of it "k", of objects inside a list under k "k[]", and so on
// ("messages[].tool_calls[]"). Conversions use it to write columns and struct fields in the
// order the input had them, as datasets' from_list would.
type KeyOrder map[string][]string

// DecodeJSON decodes one JSON document with numbers as json.Number (as encoding/json does
// with UseNumber: objects become map[string]any, arrays []any) and returns the key order of
// its objects. A repeated key keeps its first place and its last value, as encoding/json.
func DecodeJSON(raw []byte) (v any, order KeyOrder, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	order = KeyOrder{}
	v, err = decodeOrdered(dec, "", order, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errors.New("malformed JSON: data after the value")
	}
	return v, order, nil
}

// maxJSONDepth bounds nesting so that a hostile record cannot exhaust the stack.
const maxJSONDepth = 10000

func decodeOrdered(dec *json.Decoder, path string, order KeyOrder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("nested too deeply")
	}
	t, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t {
	case json.Delim('{'):
		m := map[string]any{}
		keys := order[path]
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, ok := kt.(string)
			if !ok {
				return nil, errors.New("object key is not a string")
			}
			sub := k
			if path != "" {
				sub = path + "." + k
			}
			val, err := decodeOrdered(dec, sub, order, depth+1)
			if err != nil {
				return nil, err
			}
			if _, seen := m[k]; !seen && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
			m[k] = val
		}
		order[path] = keys
		if _, err := dec.Token(); err != nil { // }
			return nil, err
		}
		return m, nil
	case json.Delim('['):
		list := []any{}
		for dec.More() {
			val, err := decodeOrdered(dec, path+"[]", order, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, val)
		}
		if _, err := dec.Token(); err != nil { // ]
			return nil, err
		}
		return list, nil
	case json.Delim('}'), json.Delim(']'):
		return nil, fmt.Errorf("unexpected %v", t)
	}
	return t, nil
}
