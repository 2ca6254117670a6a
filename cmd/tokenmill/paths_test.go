package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// pathsFixture lays out root/jobs (a job file, its corpus and tokenizer file, by relative
// paths) and root/work (the current directory of the runs, with a corpus of its own), and
// returns root.
func pathsFixture(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	var docs strings.Builder
	for i := range 40 {
		fmt.Fprintf(&docs, `{"text":"document %d says hello to the world once more"}`+"\n", i)
	}
	writeFile(t, filepath.Join(root, "jobs", "corpus", "in.jsonl"), docs.String())
	writeFile(t, filepath.Join(root, "work", "here.jsonl"), docs.String())
	f, err := os.Open("../../tokenizer/testdata/vocab/cl100k_base.tiktoken.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	ranks, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "jobs", "tok", "ranks.tiktoken"), string(ranks))
	return root
}

// manifestPaths reads the input paths and output.dir a manifest records.
func manifestPaths(t *testing.T, out string) (inputs []string, dir, tokenizer string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Job struct {
			Tokenizer string `json:"tokenizer"`
			Output    struct {
				Dir string `json:"dir"`
			} `json:"output"`
		} `json:"job"`
		Inputs []struct {
			Path string `json:"path"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, in := range m.Inputs {
		inputs = append(inputs, in.Path)
	}
	return inputs, m.Job.Output.Dir, m.Job.Tokenizer
}

// TestCmdRun_RelativePaths: a job file's relative paths resolve against its directory, the
// flags' against the current directory, and a missing file is named by its absolute path.
func TestCmdRun_RelativePaths(t *testing.T) {
	root := pathsFixture(t)
	jobs, work := filepath.Join(root, "jobs"), filepath.Join(root, "work")
	writeFile(t, filepath.Join(jobs, "job.yaml"), "name: paths\ninputs:\n  - path: corpus/*.jsonl\n"+
		"tokenizer: tok/ranks.tiktoken:cl100k_base\nsequence_lengths: [8]\noutput:\n  dir: out\n")
	tests := []struct {
		name      string
		args      []string
		out       string // the output directory, absolute
		input     string // the input the manifest lists
		tokenizer string
	}{
		{"the job file's directory", []string{"run", "../jobs/job.yaml"},
			filepath.Join(jobs, "out"), filepath.Join(jobs, "corpus", "in.jsonl"), filepath.Join(jobs, "tok", "ranks.tiktoken") + ":cl100k_base"},
		{"flags: the current directory", []string{"run", "../jobs/job.yaml", "--input", "here.jsonl", "--output-dir", "out", "--tokenizer", "cl100k_base"},
			filepath.Join(work, "out"), filepath.Join(work, "here.jsonl"), "cl100k_base"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, work, "", append(tt.args, "--progress", "none")...)
			if r.Code != 0 {
				t.Fatalf("exit %d: %s", r.Code, r.Stderr)
			}
			if !strings.Contains(r.Stdout, "output: "+tt.out+" (") {
				t.Errorf("stdout does not name %s:\n%s", tt.out, r.Stdout)
			}
			inputs, dir, tk := manifestPaths(t, tt.out)
			if len(inputs) != 1 || inputs[0] != tt.input || dir != tt.out || tk != tt.tokenizer {
				t.Errorf("manifest: inputs %q, output.dir %q, tokenizer %q; want %q, %q, %q", inputs, dir, tk, tt.input, tt.out, tt.tokenizer)
			}
		})
	}
}

// TestCmdRun_FileErrors: what the user sees when a path or a value of the job is wrong.
func TestCmdRun_FileErrors(t *testing.T) {
	root := pathsFixture(t)
	jobs, work := filepath.Join(root, "jobs"), filepath.Join(root, "work")
	job := func(name, body string) string {
		writeFile(t, filepath.Join(jobs, name), body)
		return filepath.Join("..", "jobs", name)
	}
	good := "name: e\ninputs: [corpus/in.jsonl]\ntokenizer: cl100k_base\nsequence_lengths: [8]\n"
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"missing job file", []string{"run", "nope.yaml"}, filepath.Join(work, "nope.yaml") + ": no such file"},
		{"missing input of the job file", []string{"run", job("in.yaml", "name: e\ninputs: [corpus/gone.jsonl]\ntokenizer: cl100k_base\n")},
			filepath.Join(jobs, "corpus", "gone.jsonl") + ": no such file"},
		{"missing input of a flag", []string{"run", job("good.yaml", good), "--input", "gone.jsonl"},
			filepath.Join(work, "gone.jsonl") + ": no such file"},
		{"missing glob matches", []string{"run", job("glob.yaml", "name: e\ninputs: [\"none/*.jsonl\"]\ntokenizer: cl100k_base\n")},
			filepath.Join(jobs, "none", "*.jsonl")},
		{"missing tokenizer file", []string{"run", job("tk.yaml", "name: e\ninputs: [corpus/in.jsonl]\ntokenizer: tok/gone.tiktoken:cl100k_base\n")},
			filepath.Join(jobs, "tok", "gone.tiktoken") + ": no such file"},
		{"a value error carries its line", []string{"run", job("value.yaml", "name: e\ninputs: [corpus/in.jsonl]\ntokenizer: cl100k_base\n\nsequence_lengths: [0]\n")},
			"value.yaml:5: sequence_lengths[0]: must be > 0, got 0"},
		{"a bad record limit from a flag", []string{"run", job("good2.yaml", good), "--max-record-bytes", "0"},
			"max_record_bytes: must be > 0"},
		{"no train rows", []string{"run", job("long.yaml", good), "--sequence-lengths", "100000", "--output-dir", "long"},
			"no train rows: the train split's"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, work, "", append(tt.args, "--progress", "none")...)
			if r.Code != 1 || !strings.Contains(r.Stderr, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", r.Code, r.Stderr, tt.stderr)
			}
		})
	}
	if entries, err := os.ReadDir(work); err != nil || len(entries) != 1 {
		t.Errorf("the failed jobs left %v (%v) in the current directory", entries, err)
	}
}

// TestCmdRun_WarningsAndRecordLimit: the summary warns about the val outputs of val_fraction 0
// and lengths no split fills; --max-record-bytes rejects longer records with a reason naming
// the key.
func TestCmdRun_WarningsAndRecordLimit(t *testing.T) {
	root := pathsFixture(t)
	jobs, work := filepath.Join(root, "jobs"), filepath.Join(root, "work")
	writeFile(t, filepath.Join(jobs, "job.yaml"), "name: w\ninputs: [corpus/in.jsonl]\ntokenizer: cl100k_base\nsequence_lengths: [8, 4096]\n"+
		"val_fraction: 0\nmax_reject_fraction: 1\nmax_record_bytes: 1KiB\n")
	r := runBinary(t, work, "", "run", "../jobs/job.yaml", "--output-dir", "w", "--progress", "none")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	for _, want := range []string{"warning: val_fraction is 0: the val outputs (val_8, val_8.npy, val_4096, val_4096.npy) hold no rows\n",
		"warning: train 4096: no rows: all "} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.Stdout)
		}
	}
	r = runBinary(t, work, "", "run", "../jobs/job.yaml", "--output-dir", "limited", "--max-record-bytes", "64B", "--progress", "none")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	b, err := os.ReadFile(filepath.Join(work, "limited", "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Documents 0-9 are 55 bytes long, 10-39 56: all fit in 64B.
	if len(b) != 0 {
		t.Fatalf("rejects with 64B: %s", b)
	}
	r = runBinary(t, work, "", "run", "../jobs/job.yaml", "--output-dir", "tight", "--max-record-bytes", "55B", "--progress", "none")
	if r.Code != 0 {
		t.Fatalf("exit %d: %s", r.Code, r.Stderr)
	}
	b, err = os.ReadFile(filepath.Join(work, "tight", "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "exceeds max_record_bytes (55 bytes)"); n != 30 {
		t.Fatalf("%d rejects name max_record_bytes, want 30:\n%.400s", n, b)
	}
}
