package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
)

// want is what a test expects of an Inspection; empty fields are not checked.
type want struct {
	kind      string
	examples  int64
	malformed int64
	columns   string // columnsLine of Columns
	shape     string // pyShape of Shape
	dtype     string
	tokenCol  string
	tokens    int
	text      string // a prefix of Text
	textNote  string // a prefix of TextNote
	note      string // a substring of one of Notes
}

func (w want) check(t *testing.T, res *Inspection) {
	t.Helper()
	got := want{kind: res.Kind, examples: res.Examples, malformed: res.Malformed, columns: columnsLine(res.Columns),
		shape: pyShape(res.Shape), dtype: res.DType, tokenCol: res.TokenColumn, tokens: res.Tokens}
	if res.Shape == nil {
		got.shape = ""
	}
	if got.kind != w.kind || got.examples != w.examples || got.malformed != w.malformed || got.columns != w.columns ||
		got.shape != w.shape || got.dtype != w.dtype || got.tokenCol != w.tokenCol || got.tokens != w.tokens {
		t.Errorf("got  %+v\nwant %+v", got, w)
	}
	if !strings.HasPrefix(res.Text, w.text) || (w.text == "") != (res.Text == "") {
		t.Errorf("text %q, want it to begin with %q", res.Text, w.text)
	}
	if !strings.HasPrefix(res.TextNote, w.textNote) || (w.textNote == "") != (res.TextNote == "") {
		t.Errorf("text note %q, want it to begin with %q", res.TextNote, w.textNote)
	}
	if w.note != "" && !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, w.note) }) {
		t.Errorf("notes %q lack %q", res.Notes, w.note)
	}
}

// TestInspect_Kinds inspects one file or directory of each kind.
func TestInspect_Kinds(t *testing.T) {
	dir := t.TempDir()
	f := func(name, content string) string { return writeFile(t, filepath.Join(dir, name), content) }
	pq := writeParquet(t, filepath.Join(dir, "a.parquet"), map[string]any{"text": "hello", "label": 0.5},
		map[string]any{"text": "bye", "label": 2.0})
	pqBytes, err := os.ReadFile(pq)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		opt  Options
		want want
	}{
		{"HF token dir, tokenizer given", rickDir, Options{Tokenizer: "gpt2"}, want{kind: "hf", examples: 308,
			columns: "input_ids: list<int32>, attention_mask: list<int8>", tokenCol: "input_ids", tokens: 45,
			text: "Rick Sanchez: : I understand you're upset Mr. President."}},
		{"HF token dir, no manifest", rickDir, Options{}, want{kind: "hf", examples: 308,
			columns: "input_ids: list<int32>, attention_mask: list<int8>", tokenCol: "input_ids",
			textNote: "not decoded: no manifest.json next to it or one directory up; pass --tokenizer NAME"}},
		{"HF text dir", xturing, Options{}, want{kind: "hf", examples: 2, columns: "text: string, target: string, instruction: string"}},
		{"DatasetDict", dictDir, Options{}, want{kind: "hf_dict", examples: 2384 + 331 + 685}},
		{"npy 2-D", writeNpy(t, filepath.Join(dir, "hello.npy"), formats.Int32, 4, []int64{9906, 11, 1917, 0}, abcd),
			Options{Tokenizer: "cl100k_base"}, want{kind: "npy", examples: 2, shape: "(2, 4)", dtype: "int32", tokens: 4, text: "Hello, world!"}},
		{"npy 1-D", writeNpy(t, filepath.Join(dir, "flat.npy"), formats.Uint16, 0, abcd),
			Options{Tokenizer: "gpt2"}, want{kind: "npy", examples: 4, shape: "(4,)", dtype: "uint16", tokens: 4, text: "abcd",
				note: "a 1-D array: the sample is its first elements"}},
		{"JSONL with a bad line", f("sft.jsonl", `{"messages": [{"role": "user", "content": "hi"}], "score": 0.5}`+"\n{bad\n"+`{"messages": [], "score": 2}`+"\n"),
			Options{}, want{kind: "jsonl", examples: 2, malformed: 1, columns: "messages: list<struct<role: string, content: string>>, score: float64",
				note: "first malformed record: " + filepath.Join(dir, "sft.jsonl") + ":2: malformed JSON"}},
		{"JSONL token ids", f("ids.jsonl", `{"ids": [64, 65], "n": null}`+"\n"), Options{Tokenizer: "gpt2"},
			want{kind: "jsonl", examples: 1, columns: "ids: list<int64>, n: null", tokenCol: "ids", tokens: 2, text: "ab"}},
		{"JSONL negative ids", f("neg.jsonl", `{"input_ids": [64, -1]}`+"\n"), Options{Tokenizer: "gpt2"},
			want{kind: "jsonl", examples: 1, columns: "input_ids: list<int64>", tokenCol: "input_ids",
				textNote: "not decoded: the first sequence holds values that are not token ids"}},
		{"JSONL types that do not unify", f("mixed.jsonl", `{"a": 1}`+"\n"+`{"a": "x"}`+"\n"), Options{},
			want{kind: "jsonl", examples: 2, columns: "a: int64", note: "column types: "}},
		{"JSON array", f("arr.json", `[{"a": 1}, {"a": 2}, {"a": 3}]`), Options{}, want{kind: "json", examples: 3, columns: "a: int64"}},
		{"CSV", f("a.csv", "text,label\nhello,1\n\"bye, now\",2\n"), Options{},
			want{kind: "csv", examples: 2, columns: "text: string, label: string"}},
		{"Parquet", pq, Options{}, want{kind: "parquet", examples: 2, columns: "text: string, label: float64"}},
		{"Parquet named .jsonl", f("misnamed.jsonl", string(pqBytes)), Options{}, want{kind: "parquet", examples: 2,
			columns: "text: string, label: float64", note: "read by its content: the content is Parquet, not what its name's .jsonl says"}},
		{"Arrow stream", filepath.Join(xturing, "data-00000-of-00001.arrow"), Options{},
			want{kind: "arrow", examples: 2, columns: "text: string, target: string, instruction: string"}},
		{"text", f("a.txt", "one doc\nline two\n"), Options{}, want{kind: "text", examples: 1, columns: "text: string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Inspect(tt.path, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Path != tt.path {
				t.Errorf("path %q, want %q", res.Path, tt.path)
			}
			tt.want.check(t, res)
		})
	}
}

// TestInspect_DatasetDict reads every split in detail and sums their counts.
func TestInspect_DatasetDict(t *testing.T) {
	res, err := Inspect(dictDir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Parts {
		got = append(got, fmt.Sprintf("%s %s %d %s detailed=%v first=%v", filepath.Base(p.Path), p.Kind, p.Examples,
			columnsLine(p.Columns), p.Detailed, p.First != nil))
	}
	want := []string{
		"train hf 2384 label: int64, text: string detailed=true first=true",
		"validation hf 331 label: int64, text: string detailed=true first=true",
		"test hf 685 label: int64, text: string detailed=true first=true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("parts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if v := res.Parts[1].First.(map[string]any)["text"]; v != "QUA TUYỆT VỜI" {
		t.Errorf("first text of validation %q", v)
	}
}

// TestInspect_Errors returns an error for a path that is not readable as any kind.
func TestInspect_Errors(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "nope.jsonl"), "no such file"},
		{"directory of nothing known", filepath.Join(dir, "empty"), "a directory without manifest.json"},
		{"bad npy header", writeFile(t, filepath.Join(dir, "bad.npy"), "\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'}"), "bad.npy"},
		{"bad manifest", filepath.Dir(writeFile(t, filepath.Join(dir, "job", "manifest.json"), "{")), filepath.Join(dir, "job", "manifest.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Inspect(tt.path, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Inspect = %+v, %v; want an error with %q", res, err, tt.want)
			}
		})
	}
}
