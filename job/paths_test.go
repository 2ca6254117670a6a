package job

import (
	"slices"
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
