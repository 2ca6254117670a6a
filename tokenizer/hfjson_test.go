package tokenizer

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// refVocab and refMerges read the vocab and merges as encoding/json does: the reference the
// scanner of hfjson.go must equal.
func refVocab(raw []byte) (map[string]uint32, error) {
	var v map[string]uint32
	err := json.Unmarshal(raw, &v)
	return v, err
}

func refMerges(raw []byte) ([][2]string, error) {
	var pairs [][2]string
	if err := json.Unmarshal(raw, &pairs); err == nil {
		return pairs, nil
	}
	var lines []string
	if err := json.Unmarshal(raw, &lines); err != nil {
		return nil, err
	}
	pairs = nil // the failed attempt may have filled some
	for _, l := range lines {
		a, b, _ := strings.Cut(l, " ")
		pairs = append(pairs, [2]string{a, b})
	}
	return pairs, nil
}

// TestHFJSON_RealFiles: the vocab and merges of Llama 3's and GPT-OSS's tokenizer.json (the
// two spellings of merges) read by the scanner equal what encoding/json reads.
func TestHFJSON_RealFiles(t *testing.T) {
	for _, name := range []string{"llama3", "gpt-oss"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(decompressTestJSON(t, name))
			if err != nil {
				t.Fatal(err)
			}
			var f struct {
				Model struct {
					Vocab  json.RawMessage `json:"vocab"`
					Merges json.RawMessage `json:"merges"`
				} `json:"model"`
			}
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatal(err)
			}
			want, err := refVocab(f.Model.Vocab)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseVocab(f.Model.Vocab)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Fatalf("vocab: %d entries, want %d, or different ids", len(got), len(want))
			}
			wantM, err := refMerges(f.Model.Merges)
			if err != nil {
				t.Fatal(err)
			}
			gotM, err := parseMerges(f.Model.Merges)
			if err != nil {
				t.Fatal(err)
			}
			if len(gotM) < 100000 || !slices.Equal(gotM, wantM) {
				t.Fatalf("merges: %d, want %d, or different", len(gotM), len(wantM))
			}
		})
	}
}

// TestHFJSON_Strings: every escape, surrogate pairs and lone halves, invalid UTF-8, white
// space between tokens; and what is refused.
func TestHFJSON_Strings(t *testing.T) {
	vocabs := []string{
		`{}`,
		` { "a" : 0 , "b":1,"a":7 } `,
		`{"\u0120the": 5, "\"q\"": 6, "back\\slash": 7, "\/\b\f\n\r\t": 8, "\u00e9t\u00C9": 9}`,
		`{"\ud83d\ude00": 1, "\ud83d": 2, "\ude00x": 3, "\ud83d\u0041": 4, "\ud83d\ud83d\ude00": 5}`,
		"{\"raw \xff\xfe bytes\": 1, \"é\xe9\": 2, \"\xe2\x82\": 3}",
		`{"big": 4294967295, "zero": 0}`,
		`null`,
	}
	for _, v := range vocabs {
		want, err := refVocab([]byte(v))
		if err != nil {
			t.Fatalf("%s: reference: %v", v, err)
		}
		got, err := parseVocab([]byte(v))
		if err != nil || !maps.Equal(got, want) || (got == nil) != (want == nil) {
			t.Errorf("%s: got %v (%v), want %v", v, got, err, want)
		}
	}
	for _, v := range []string{`{"a": -1}`, `{"a": 1.5}`, `{"a": 1e3}`, `{"a": 4294967296}`, `{"a" 1}`, `{"a": 1,}`, `[1]`, `{"a": "1"}`, `{"a\x01": 1}`, `{"\x": 1}`, `{"\u12": 1}`} {
		if _, err := parseVocab([]byte(v)); err == nil {
			t.Errorf("%s: accepted", v)
		}
	}
	merges := []string{
		`[]`,
		`["a b", "\u0120t he", "x\u0020y"]`,
		`[["a", "b"], ["with space", "x"], [ "\ud83d\ude00" , "\n" ]]`,
		`null`,
	}
	for _, m := range merges {
		want, err := refMerges([]byte(m))
		if err != nil {
			t.Fatalf("%s: reference: %v", m, err)
		}
		got, err := parseMerges([]byte(m))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: got %q (%v), want %q", m, got, err, want)
		}
	}
	for _, m := range []string{`["ab"]`, `["a b c"]`, `[["a"]]`, `[["a", "b", "c"]]`, `[1]`, `["a b",]`, `{"a": "b"}`} {
		if _, err := parseMerges([]byte(m)); err == nil {
			t.Errorf("%s: accepted", m)
		}
	}
}

// FuzzHFJSONString: any bytes as the content of a JSON string (a vocab key) decode as
// encoding/json decodes them, or both refuse them.
func FuzzHFJSONString(f *testing.F) {
	for _, s := range []string{`a`, `\u0120x`, `\ud83d\ude00`, `\ud83d`, "\xff", `\"`, `\\`, `\/`, `\u00`, "é\xe9", `\ud83d\u0041`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		doc := []byte(`{"` + content + `": 3}`)
		want, werr := refVocab(doc)
		got, gerr := parseVocab(doc)
		if (werr == nil) != (gerr == nil) {
			// Only what encoding/json validates reaches the scanner (parseHF unmarshals the
			// whole file first); past that, both must agree.
			if werr != nil {
				return
			}
			t.Fatalf("%q: scanner error %v, encoding/json accepts it", content, gerr)
		}
		if werr == nil && !maps.Equal(got, want) {
			t.Fatalf("%q: got %v, want %v", content, got, want)
		}
	})
}

// TestHFJSON_SplitModel: splitting a tokenizer.json into its vocab, its merges and the rest
// loses nothing: the rest decodes as the whole document does (but for the two, which are
// null in it), and the two are the values encoding/json finds, whatever surrounds them
// (strings holding braces and escaped quotes, nested objects, repeated keys: the last wins).
func TestHFJSON_SplitModel(t *testing.T) {
	docs := []string{
		`{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}`,
		` { "added_tokens": [{"id": 5, "content": "{\"}[]"}], "normalizer": null,
		   "model" : { "vocab" : { "x}" : 0 , "\"y\"": 1 } , "dropout": null, "merges" : [ ["x}", "\"y\""] ] ,
		   "extra": {"nested": [1, {"vocab": 3}]} }, "decoder": {"type": "ByteLevel"} } `,
		`{"model": {"vocab": {"a": 0}, "vocab": {"b": 1}, "merges": []}}`,
		`{"model": {"vocab": {"a": 0}}}`,
		`{"model": {"merges": ["a b"], "vocab": {"a": 0, "b": 1, "ab": 2}}, "post_processor": {"type": "x", "s": "]"}}`,
	}
	for _, d := range docs {
		var whole hfFile
		if err := json.Unmarshal([]byte(d), &whole); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		rest, vocab, merges, ok := splitModel([]byte(d))
		if !ok {
			t.Fatalf("%s: not split", d)
		}
		var split hfFile
		if err := json.Unmarshal(rest, &split); err != nil {
			t.Fatalf("%s: the rest %s: %v", d, rest, err)
		}
		if !isNull(split.Model.VocabRaw) || !isNull(split.Model.Merges) {
			t.Errorf("%s: the rest keeps vocab %s or merges %s", d, split.Model.VocabRaw, split.Model.Merges)
		}
		if !jsonEqual(t, vocab, whole.Model.VocabRaw) || !jsonEqual(t, merges, whole.Model.Merges) {
			t.Errorf("%s: vocab %s merges %s, want %s and %s", d, vocab, merges, whole.Model.VocabRaw, whole.Model.Merges)
		}
		split.Model.VocabRaw, split.Model.Merges = whole.Model.VocabRaw, whole.Model.Merges
		a, _ := json.Marshal(split)
		b, _ := json.Marshal(whole)
		if string(a) != string(b) {
			t.Errorf("%s: the rest decodes as %s, the whole as %s", d, a, b)
		}
	}
	// Not shaped as a tokenizer.json: decoded whole, as before.
	for _, d := range []string{`[1]`, `{"model": [1]}`, `{"model": "BPE"}`, `{"a": 1}`, `{"model": {"vocab": {"a": 0}}`, `{"model": {}} x`} {
		if _, _, _, ok := splitModel([]byte(d)); ok {
			t.Errorf("%s: split", d)
		}
	}
}

// jsonEqual reports whether a and b are the same JSON value (absent and null alike).
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	if isNull(a) || isNull(b) {
		return isNull(a) == isNull(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	p, _ := json.Marshal(x)
	q, _ := json.Marshal(y)
	return string(p) == string(q)
}
