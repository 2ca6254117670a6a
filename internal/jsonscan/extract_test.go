package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestExtractString_Kinds(t *testing.T) {
	tests := []struct {
		name, in, want string
		kind           FieldKind
	}{
		{"plain", `{"text":"hello"}`, "hello", FieldOK},
		{"spaces", " \t\r\n{ \"id\" : 1 , \"text\" : \"a b\" } \n", "a b", FieldOK},
		{"escapes", `{"text":"a\"b\\c\/d\b\f\n\r\t"}`, "a\"b\\c/d\b\f\n\r\t", FieldOK},
		{"escape runs", `{"text":"\n\t\t\"x\"\\\n\t\u00e9\t"}`, "\n\t\t\"x\"\\\n\t\u00e9\t", FieldOK},
		{"bad escape in a run", `{"text":"a\n\t\q"}`, "", FieldMalformed},
		{"run to the end", `{"text":"a\n\t\t`, "", FieldMalformed},
		{"unicode", `{"text":"\u00e9\u4e2d"}`, "é中", FieldOK},
		{"surrogate pair", `{"text":"\ud83d\ude00!"}`, "😀!", FieldOK},
		{"lone surrogate", `{"text":"\ud83dx"}`, "\uFFFDx", FieldOK},
		{"high then non-low", `{"text":"\ud83d\u0041"}`, "\uFFFDA", FieldOK},
		{"raw utf8", `{"text":"día 😀"}`, "día 😀", FieldOK},
		{"invalid utf8 kept", "{\"text\":\"a\xffb\"}", "a\xffb", FieldOK},
		{"nested skipped", `{"meta":{"text":"no","a":[1,2,{"b":null}]},"text":"yes"}`, "yes", FieldOK},
		{"last wins", `{"text":"a","text":"b"}`, "b", FieldOK},
		{"escaped key", `{"te\u0078t":"k"}`, "k", FieldOK},
		{"empty string", `{"text":""}`, "", FieldOK},
		{"missing", `{"title":"x"}`, "", FieldMissing},
		{"empty object", `{}`, "", FieldMissing},
		{"case sensitive", `{"Text":"x"}`, "", FieldMissing},
		{"null", `{"text":null}`, "", FieldNull},
		{"number", `{"text":-1.5e3}`, "", FieldNotString},
		{"array", `{"text":["a"]}`, "", FieldNotString},
		{"bool", `{"text":true}`, "", FieldNotString},
		{"top array", `["text"]`, "", FieldNotObject},
		{"top string", `"text"`, "", FieldNotObject},
		{"empty", ``, "", FieldMalformed},
		{"truncated", `{"text":"abc`, "", FieldMalformed},
		{"trailing comma", `{"text":"a",}`, "", FieldMalformed},
		{"trailing data", `{"text":"a"} x`, "", FieldMalformed},
		{"two objects", `{"text":"a"}{"text":"b"}`, "", FieldMalformed},
		{"bad escape", `{"text":"\x"}`, "", FieldMalformed},
		{"control char", "{\"text\":\"a\tb\"}", "", FieldMalformed},
		{"bad number", `{"n":01,"text":"a"}`, "", FieldMalformed},
		{"bad literal", `{"n":nul,"text":"a"}`, "", FieldMalformed},
		{"single quotes", `{'text':'a'}`, "", FieldMalformed},
		{"malformed after hit", `{"text":"a","b":[}`, "", FieldMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind, err := ExtractString([]byte(tt.in), "text")
			if got != tt.want || kind != tt.kind {
				t.Fatalf("ExtractString(%q) = %q, %v, %v; want %q, %v", tt.in, got, kind, err, tt.want, tt.kind)
			}
			if (kind == FieldMalformed) != (err != nil) || err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("kind %v with err %v", kind, err)
			}
			b, kind2, _ := AppendString([]byte("x"), []byte(tt.in), "text")
			if kind2 != kind || kind == FieldOK && string(b) != "x"+tt.want {
				t.Fatalf("AppendString = %q, %v", b, kind2)
			}
			raw := []byte(tt.in)
			v, buf, kind3, _ := StringBytes(make([]byte, 0, 4), raw, "text")
			if kind3 != kind || kind == FieldOK && string(v) != tt.want {
				t.Fatalf("StringBytes = %q, %v", v, kind3)
			}
			// A value without escapes is raw's own bytes (overwriting raw shows through), one
			// with escapes is decoded into buf.
			escaped := !strings.Contains(tt.in, `"`+tt.want+`"`)
			if kind == FieldOK && len(v) > 0 {
				for i := range raw {
					raw[i] = 'Z'
				}
				if aliased := strings.Trim(string(v), "Z") == ""; aliased == escaped || escaped && &buf[0] != &v[0] {
					t.Fatalf("StringBytes(%q): value aliases raw %v, has escapes %v", tt.in, aliased, escaped)
				}
			}
		})
	}
}

func TestExtractString_Depth(t *testing.T) {
	ok := `{"a":` + strings.Repeat("[", maxDepth-1) + strings.Repeat("]", maxDepth-1) + `,"text":"x"}`
	if s, k, err := ExtractString([]byte(ok), "text"); s != "x" || k != FieldOK {
		t.Fatalf("depth %d: %q %v %v", maxDepth, s, k, err)
	}
	deep := `{"a":` + strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth) + `}`
	if _, k, _ := ExtractString([]byte(deep), "text"); k != FieldMalformed {
		t.Fatalf("depth %d: kind %v, want malformed", maxDepth+1, k)
	}
	if json.Valid([]byte(deep)) {
		t.Fatal("encoding/json accepts the too-deep document; limit changed?")
	}
}

// replaceInvalid maps each invalid UTF-8 byte to U+FFFD, as encoding/json
// does when it decodes a string.
func replaceInvalid(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

func FuzzExtractString(f *testing.F) {
	for _, s := range []string{`{"text":"a"}`, `{"text":"\ud83d\ude00"}`, `{"a":[1,{"b":2}],"text":null}`,
		`[1,2]`, `{"text":1e5}`, "{\"text\":\"\xff\"}", `{"te\u0078t":"\u00e9"}`, `{"text":"a","text":"b"}`,
		`{"text":"0123456789abcdef\n\tfunc main() {\n\t\tx := \"y\"\n}\ud83d\ude00 tail of text"}`,
		`{"text":"abc\ud83dxyz\ud83d\u0041long enough\\ to cross words\/"}`,
		`{"text":"a\nb","text":"plain, no escapes at all"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, kind, err := ExtractString(raw, "text")
		valid := json.Valid(raw)
		if valid == (kind == FieldMalformed) || (err != nil) != (kind == FieldMalformed) {
			t.Fatalf("%q: valid=%v but kind=%v err=%v", raw, valid, kind, err)
		}
		if !valid {
			return
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber() // big numbers are valid JSON but overflow float64
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%q: Unmarshal: %v", raw, err)
		}
		m, isObj := v.(map[string]any)
		want := FieldNotObject
		var wantS string
		if isObj {
			switch x, ok := m["text"]; {
			case !ok:
				want = FieldMissing
			case x == nil:
				want = FieldNull
			default:
				want = FieldNotString
				if s, ok := x.(string); ok {
					want, wantS = FieldOK, s
				}
			}
		}
		if kind != want || replaceInvalid(got) != wantS {
			t.Fatalf("%q: got %q %v; encoding/json says %q %v", raw, got, kind, wantS, want)
		}
		if kind == FieldOK && utf8.Valid(raw) && !utf8.ValidString(got) {
			t.Fatalf("%q: valid input gave invalid output %q", raw, got)
		}
		// The other entry points decode the same value, whatever dst held before.
		if v, _, k, _ := StringBytes([]byte("previous value"), raw, "text"); k != kind || kind == FieldOK && string(v) != got {
			t.Fatalf("%q: StringBytes gave %q %v, ExtractString %q %v", raw, v, k, got, kind)
		}
		if a, k, _ := AppendString([]byte("prefix:"), raw, "text"); k != kind || kind == FieldOK && string(a) != "prefix:"+got {
			t.Fatalf("%q: AppendString gave %q %v, ExtractString %q %v", raw, a, k, got, kind)
		}
	})
}
