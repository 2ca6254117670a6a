package job

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestSpec_RelativePaths(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Spec)
		want []string
	}{
		{"all absolute", func(s *Spec) {}, nil},
		{"relative input", func(s *Spec) { s.Inputs[0].Path = "in/*.jsonl" }, []string{`inputs[0].path "in/*.jsonl"`}},
		{"relative output", func(s *Spec) { s.Output.Dir = "out" }, []string{`output.dir "out"`}},
		{"tokenizer name", func(s *Spec) { s.Tokenizer = "cl100k_base" }, nil},
		{"relative tokenizer file", func(s *Spec) { s.Tokenizer = "tok/tokenizer.json" }, []string{`tokenizer "tok/tokenizer.json"`}},
		{"relative rank file with a built-in", func(s *Spec) { s.Tokenizer = "r.tiktoken:cl100k_base" }, []string{`tokenizer "r.tiktoken:cl100k_base"`}},
		{"absolute rank file with a built-in", func(s *Spec) { s.Tokenizer = "/v/r.tiktoken:cl100k_base" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSpec()
			s.Inputs = []Input{DefaultInput("/data/a.jsonl")}
			s.Output.Dir = "/data/out"
			tt.edit(s)
			if got := s.RelativePaths(); !slices.Equal(got, tt.want) {
				t.Errorf("RelativePaths() = %q, want %q", got, tt.want)
			}
		})
	}
}

// ResolveFile makes the same paths absolute as ResolvePaths does on the decoded spec, and
// keeps the rest of the file.
func TestResolveFile(t *testing.T) {
	base := t.TempDir()
	tests := []struct {
		name, file string
		keep       string // a piece of the file the result still holds
	}{
		{"relative paths", "# corpus job\nname: a\ninputs:\n  - path: in/*.jsonl\n    format: jsonl\n  - path: /abs/b.jsonl\ntokenizer: tok/x.tiktoken:cl100k_base\noutput:\n  dir: out\n  dtype: int32\n", "# corpus job"},
		{"a built-in tokenizer and flow style", "name: b\ninputs: [{path: \"c d.jsonl\"}]\ntokenizer: cl100k_base\noutput: {dir: ../out}\n", "cl100k_base"},
		{"JSON", `{"name": "c", "inputs": [{"path": "x.jsonl"}], "output": {"dir": "o"}}`, `"name": "c"`},
		{"a path that looks like a number", "name: d\ninputs:\n  - path: \"123\"\noutput:\n  dir: \"true\"\n", "name: d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := Decode([]byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := want.ResolvePaths(base); err != nil {
				t.Fatal(err)
			}
			b, err := ResolveFile([]byte(tt.file), base)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("decoding the resolved file: %v\n%s", err, b)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("resolved file decodes to\n%+v\nwant\n%+v\nfile:\n%s", got, want, b)
			}
			if rel := got.RelativePaths(); len(rel) > 0 {
				t.Errorf("relative paths left: %v", rel)
			}
			if !strings.Contains(string(b), tt.keep) {
				t.Errorf("the resolved file lost %q:\n%s", tt.keep, b)
			}
		})
	}
}

// TestSpec_TokenizerPaths: the files a tokenizer value may make tokenizer.Load open, for an
// allow-list to check.
func TestSpec_TokenizerPaths(t *testing.T) {
	tests := []struct {
		tok  string
		want []string
	}{
		{"", nil},
		{"cl100k_base", nil},
		{"/t/tokenizer.json", []string{"/t/tokenizer.json", "/t/tokenizer.json/tokenizer.json", "/t/tokenizer.json"}},
		{"/t/hf", []string{"/t/hf", "/t/hf/tokenizer.json", "/t/hf.json"}},
		{"/t/r.tiktoken:cl100k_base", []string{"/t/r.tiktoken:cl100k_base", "/t/r.tiktoken:cl100k_base/tokenizer.json",
			"/t/r.json", "/t/r.tiktoken", "/t/r.tiktoken/tokenizer.json", "/t/r.json"}},
	}
	for _, tt := range tests {
		s := &Spec{Tokenizer: tt.tok}
		if got := s.TokenizerPaths(); !slices.Equal(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.tok, got, tt.want)
		}
	}
}
