package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/tokenmill/tokenmill/tokenizer"
)

// decodeFirst decodes the first example's token ids with Options.Tokenizer or the manifest's
// tokenizer. Not being able to decode is a note (TextNote), not an error: the data was read.
func (in *inspector) decodeFirst(res *Inspection, manifest string) {
	var ids []uint32
	var ok bool
	if res.Kind == "npy" {
		ids, ok = tokenIDs(res.First)
	} else if m, isMap := res.First.(map[string]any); isMap && res.TokenColumn != "" {
		ids, ok = tokenIDs(m[res.TokenColumn])
	} else {
		return // no token data
	}
	if !ok {
		res.TextNote = "not decoded: the first sequence holds values that are not token ids"
		return
	}
	tk, label, err := in.tokenizerFor(manifest)
	if err != nil {
		res.TextNote = "not decoded: " + err.Error()
		return
	}
	text, err := tk.Decode(ids)
	if err != nil {
		res.TextNote = fmt.Sprintf("not decoded with %s: %v", label, err)
		return
	}
	res.Tokenizer, res.Tokens = label, len(ids)
	res.Text = strings.ToValidUTF8(string(text), "\uFFFD")
}

// tokenIDs converts a list of non-negative integers (any integer type, or json.Number) to
// token ids; false when v is not such a list or a value does not fit a uint32.
func tokenIDs(v any) ([]uint32, bool) {
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	ids := make([]uint32, rv.Len())
	for i := range ids {
		n, ok := tokenID(rv.Index(i))
		if !ok {
			return nil, false
		}
		ids[i] = n
	}
	return ids, true
}

// tokenID converts one element of a list to a token id.
func tokenID(e reflect.Value) (uint32, bool) {
	if e.Kind() == reflect.Interface {
		e = e.Elem()
	}
	var n int64
	switch e.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n = e.Int()
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if e.Uint() > math.MaxUint32 {
			return 0, false
		}
		n = int64(e.Uint())
	case reflect.String: // json.Number
		var err error
		if n, err = strconv.ParseInt(e.String(), 10, 64); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if n < 0 || n > math.MaxUint32 {
		return 0, false
	}
	return uint32(n), true
}

// tokenizerFor picks the tokenizer: Options.Tokenizer, else the manifest's. The manifest names
// it twice: the job's "tokenizer" (a built-in name or the path the job was given) and
// tokenizer.name (the encoding or file name); the first that loads and whose vocabulary hash
// matches tokenizer.sha256 wins, so a different file under the same name is not used. The
// label returned says which tokenizer it is and where it was named.
func (in *inspector) tokenizerFor(manifest string) (*tokenizer.Tokenizer, string, error) {
	if in.opt.Tokenizer != "" {
		tk, err := in.load(in.opt.Tokenizer)
		if err != nil {
			return nil, "", err
		}
		return tk, in.opt.Tokenizer + " from --tokenizer", nil
	}
	if manifest == "" {
		return nil, "", errors.New("no manifest.json next to it or one directory up; pass --tokenizer NAME")
	}
	m, err := readManifest(manifest)
	if err != nil {
		return nil, "", err
	}
	var spec struct {
		Tokenizer string `json:"tokenizer"`
	}
	_ = json.Unmarshal(m.Job, &spec)
	var tried []string
	for _, name := range []string{spec.Tokenizer, m.Tokenizer.Name} {
		if name == "" || slices.Contains(tried, name) {
			continue
		}
		tried = append(tried, name)
		tk, err := in.load(name)
		if err != nil {
			continue
		}
		if m.Tokenizer.SHA256 != "" && tk.SHA256() != m.Tokenizer.SHA256 {
			continue
		}
		return tk, name + " from " + manifest, nil
	}
	return nil, "", fmt.Errorf("tokenizer %q of %s cannot be loaded here (or its sha256 differs); pass --tokenizer",
		strings.Join(tried, `" / "`), manifest)
}

// load loads a tokenizer once per Inspect call, remembering failures too.
func (in *inspector) load(name string) (*tokenizer.Tokenizer, error) {
	if tk, ok := in.loaded[name]; ok {
		return tk, nil
	}
	if err, ok := in.loadErrs[name]; ok {
		return nil, err
	}
	tk, err := tokenizer.Load(name)
	if err != nil {
		in.loadErrs[name] = err
		return nil, err
	}
	in.loaded[name] = tk
	return tk, nil
}
