package job

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSpec_ResolvePaths(t *testing.T) {
	base := t.TempDir()
	tests := []struct {
		name            string
		in, out, tk     string
		wantIn, wantOut string
		wantTk          string
	}{
		{"relative", "corpus/a.jsonl", "out", "tok/x.tiktoken",
			base + "/corpus/a.jsonl", base + "/out", base + "/tok/x.tiktoken"},
		{"glob and dot-dot", "../data/**/*.jsonl.zst", "./out/../packed", "./tokenizer.json",
			filepath.Dir(base) + "/data/**/*.jsonl.zst", base + "/packed", base + "/tokenizer.json"},
		{"absolute stays", "/data/a.jsonl", "/srv/out", "/models/tokenizer.json",
			"/data/a.jsonl", "/srv/out", "/models/tokenizer.json"},
		{"built-in name stays", "a.jsonl", "out", "cl100k_base",
			base + "/a.jsonl", base + "/out", "cl100k_base"},
		{"borrowed pattern: the file part", "a.jsonl", "out", "ranks.tiktoken:cl100k_base",
			base + "/a.jsonl", base + "/out", base + "/ranks.tiktoken:cl100k_base"},
		{"empty stays empty", "", "", "",
			"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSpec()
			s.Inputs = []Input{DefaultInput(tt.in)}
			s.Output.Dir, s.Tokenizer = tt.out, tt.tk
			if err := s.ResolvePaths(base); err != nil {
				t.Fatal(err)
			}
			if s.Inputs[0].Path != tt.wantIn || s.Output.Dir != tt.wantOut || s.Tokenizer != tt.wantTk {
				t.Fatalf("got %q %q %q\nwant %q %q %q", s.Inputs[0].Path, s.Output.Dir, s.Tokenizer, tt.wantIn, tt.wantOut, tt.wantTk)
			}
			again := s.Clone()
			if err := again.ResolvePaths("/elsewhere"); err != nil || again.Inputs[0] != s.Inputs[0] ||
				again.Output.Dir != s.Output.Dir || again.Tokenizer != s.Tokenizer {
				t.Fatalf("resolving twice changed the spec: %+v", again)
			}
		})
	}
}

// writeJob writes a job file and returns its path.
func writeJob(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad_PathsResolveAgainstTheJobFileAndFlagsAgainstTheCwd(t *testing.T) {
	root := t.TempDir()
	jobDir, cwd := filepath.Join(root, "jobs"), filepath.Join(root, "work")
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(cwd)
	job := writeJob(t, filepath.Join(jobDir, "job.yaml"), "name: j\ninputs:\n  - path: corpus/*.jsonl\n"+
		"tokenizer: tok/ranks.tiktoken:cl100k_base\noutput:\n  dir: ../packed\n")
	rel, err := filepath.Rel(cwd, job)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name            string
		flags           [][2]string
		wantIn, wantOut string
		wantTk          string
	}{
		{"the job file's directory", nil,
			jobDir + "/corpus/*.jsonl", root + "/packed", jobDir + "/tok/ranks.tiktoken:cl100k_base"},
		{"flags: the current directory", [][2]string{{KeyInputPath, "in/a.jsonl"}, {"output.dir", "out"}, {"tokenizer", "./tokenizer.json"}},
			cwd + "/in/a.jsonl", cwd + "/out", cwd + "/tokenizer.json"},
		{"a built-in name from a flag", [][2]string{{"tokenizer", "o200k_base"}},
			jobDir + "/corpus/*.jsonl", root + "/packed", "o200k_base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ov Overrides
			for _, kv := range tt.flags {
				if err := ov.Add(kv[0], kv[1]); err != nil {
					t.Fatal(err)
				}
			}
			s, err := Load(rel, &ov)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Inputs) != 1 || s.Inputs[0].Path != tt.wantIn || s.Output.Dir != tt.wantOut || s.Tokenizer != tt.wantTk {
				t.Fatalf("got %+v %q %q\nwant %q %q %q", s.Inputs, s.Output.Dir, s.Tokenizer, tt.wantIn, tt.wantOut, tt.wantTk)
			}
		})
	}
	t.Run("no job file: defaults against the current directory", func(t *testing.T) {
		var ov Overrides
		for _, kv := range [][2]string{{"name", "x"}, {KeyInputPath, "a.jsonl"}, {"tokenizer", "gpt2"}} {
			if err := ov.Add(kv[0], kv[1]); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Load("", &ov)
		if err != nil {
			t.Fatal(err)
		}
		if s.Inputs[0].Path != cwd+"/a.jsonl" || s.Output.Dir != cwd+"/data/packed" {
			t.Fatalf("got %+v %q", s.Inputs, s.Output.Dir)
		}
	})
}

func TestLoad_Errors(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		name  string
		body  string
		flags [][2]string
		want  []string // substrings of the error
		not   string   // must not appear
	}{
		{"value error carries its line", "name: x\ninputs: [a.jsonl]\ntokenizer: gpt2\n\nsequence_lengths: [0]\n", nil,
			[]string{"job.yaml:5: sequence_lengths[0]: must be > 0, got 0"}, ""},
		{"an item on its own line", "name: x\ninputs: [a.jsonl]\ntokenizer: gpt2\nsequence_lengths:\n  - 512\n  - 512\n", nil,
			[]string{"job.yaml:6: sequence_lengths[1]: 512 repeats sequence_lengths[0]"}, ""},
		{"every problem, each with its line", "name: x\ninputs:\n  - path: a\n    format: xml\ntokenizer: gpt2\nval_fraction: 2\noutput:\n  dtype: float8\n", nil,
			[]string{"job.yaml:4: inputs[0].format: must be one of", "job.yaml:6: val_fraction: must be between 0 and 1",
				"job.yaml:8: output.dtype: must be one of"}, ""},
		{"a missing key: the file, no line", "inputs: [a.jsonl]\ntokenizer: gpt2\n", nil,
			[]string{"job.yaml: name: required"}, ""},
		{"a missing sub-key: the line of its item", "name: x\ntokenizer: gpt2\ninputs:\n  - format: jsonl\n", nil,
			[]string{"job.yaml:4: inputs[0].path: required"}, ""},
		{"a decoding error", "name: x\nseed: abc\n", nil,
			[]string{"job.yaml:2: seed: expected a non-negative integer"}, "(line"},
		{"a YAML syntax error", "name: x\nseed: [1,\n", nil,
			[]string{"job.yaml:"}, "yaml: line"},
		{"a flag's value has no line of the file", "name: x\ninputs: [a.jsonl]\ntokenizer: gpt2\nsequence_lengths: [512]\n",
			[][2]string{{"sequence_lengths", "0"}},
			[]string{"sequence_lengths[0]: must be > 0"}, "job.yaml"},
		{"a flag's format over the file's inputs", "name: x\ninputs:\n  - path: a.jsonl\ntokenizer: gpt2\n",
			[][2]string{{KeyInputFormat, "xml"}},
			[]string{"inputs[0].format: must be one of"}, "job.yaml:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			job := writeJob(t, filepath.Join(dir, "job.yaml"), tt.body)
			var ov Overrides
			for _, kv := range tt.flags {
				if err := ov.Add(kv[0], kv[1]); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load("job.yaml", &ov)
			if err == nil {
				t.Fatalf("Load(%s) succeeded", job)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.not != "" && strings.Contains(err.Error(), tt.not) {
				t.Errorf("error %q has %q", err, tt.not)
			}
		})
	}
	t.Run("a missing job file by its absolute path", func(t *testing.T) {
		_, err := Load(filepath.Join("sub", "nope.yaml"), nil)
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "sub", "nope.yaml")+": no such file") {
			t.Fatalf("error %v does not name %s", err, filepath.Join(dir, "sub", "nope.yaml"))
		}
	})
}
