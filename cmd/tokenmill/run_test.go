package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCmdRun_ExitStatusAndOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	os.WriteFile(in, []byte(`{"text":"hello there, this is a small document"}`+"\n"+`{"text":"and another one"}`+"\n"), 0o644)
	job := filepath.Join(dir, "job.yaml")
	out := filepath.Join(dir, "out")
	os.WriteFile(job, []byte("name: cli\ninputs:\n  - path: "+in+"\ntokenizer: cl100k_base\nsequence_lengths: [4, 8]\n"+
		"output:\n  dir: "+out+"\n"), 0o644)
	tests := []struct {
		name   string
		args   []string
		status int
		stdout string // substring
		stderr string // substring
	}{
		{"runs", []string{"run", job, "--workers", "2", "--progress", "lines"}, 0, "train 4", "executed"},
		{"refuses existing output", []string{"run", job}, 1, "", "exists"},
		{"overwrites", []string{"run", job, "--overwrite", "--progress=none"}, 0, "documents", ""},
		{"flags override the job", []string{"run", job, "--overwrite", "--sequence-lengths", "5", "--progress", "none"}, 0, "train 5", ""},
		{"bad key value", []string{"run", job, "--output-dtype", "float8"}, 1, "", "output.dtype"},
		{"missing job file", []string{"run", filepath.Join(dir, "nope.yaml")}, 1, "", "nope.yaml"},
		{"too many rejects", []string{"run", job, "--overwrite", "--text-field", "body"}, 1, "", "rejected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := run(tt.args, strings.NewReader(""), &stdout, &stderr)
			if status != tt.status || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("status %d (want %d)\nstdout:\n%s\nstderr:\n%s", status, tt.status, stdout.String(), stderr.String())
			}
		})
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Errorf("the failed last run removed the earlier output: %v", err)
	}
}
