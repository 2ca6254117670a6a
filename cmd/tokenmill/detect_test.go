package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// textCorpus writes n JSON Lines documents {"text": ...} to dir/body.jsonl.
func textCorpus(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "{\"text\": \"document %d: a few words to tokenize and pack\"}\n", i)
	}
	return writeFile(t, filepath.Join(dir, "body.jsonl"), b.String())
}

// TestConvert_RefusesContradictingName runs `tokenmill convert` with output names whose
// extensions contradict --to (refused with one line naming the path, exit 2, nothing written)
// and with names that agree or say nothing (accepted).
func TestConvert_RefusesContradictingName(t *testing.T) {
	dir := t.TempDir()
	body := textCorpus(t, dir, 3)
	tests := []struct {
		to, out string
		code    int
		stderr  string
	}{
		{"parquet", "out.jsonl", 2, "out.jsonl: a .jsonl name for Parquet (--to parquet): name it with .parquet or no extension"},
		{"parquet", "out.csv.gz", 2, "out.csv.gz: a .csv.gz name for Parquet"},
		{"jsonl", "out.parquet", 2, "out.parquet: a .parquet name for JSON Lines (--to jsonl)"},
		{"jsonl", "out.jsonl.zst", 2, "out.jsonl.zst: a .jsonl.zst name for JSON Lines"},
		{"jsonl", "out.gzip", 2, "out.gzip: a .gzip name"},
		{"hf", "out.parquet", 2, "out.parquet: a .parquet name for an HF dataset directory (--to hf): name it with no extension"},
		{"hf", "out.arrow", 2, "out.arrow: a .arrow name"},
		{"parquet", "ok.parquet", 0, ""},
		{"parquet", "ok.PQ", 0, ""},
		{"parquet", "ok.bin", 0, ""},
		{"jsonl", "ok.jsonl", 0, ""},
		{"jsonl", "ok.json", 0, ""},
		{"jsonl", "ok", 0, ""},
		{"hf", "ok_hf", 0, ""},
		{"hf", "ok.v2", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.to+" "+tt.out, func(t *testing.T) {
			out := filepath.Join(dir, tt.out)
			r := runBinary(t, dir, "", "convert", body, "--to", tt.to, out)
			if r.Code != tt.code || !strings.Contains(r.Stderr, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d with %q", r.Code, r.Stderr, tt.code, tt.stderr)
			}
			_, err := os.Stat(out)
			if tt.code != 0 && (strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, out) || err == nil) {
				t.Fatalf("stderr %q, output written: %v; want one line naming %s and no output", r.Stderr, err == nil, out)
			}
			if tt.code == 0 && err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDetect_ParquetNamedJSONL writes Parquet bytes into a file named .jsonl (the way convert
// did before it checked names) and checks that run, inspect and validate read it as Parquet,
// saying that its content contradicts its name, and that the job's token outputs equal those
// of the same job on the original JSON Lines.
func TestDetect_ParquetNamedJSONL(t *testing.T) {
	dir := t.TempDir()
	const docs = 40
	body := textCorpus(t, dir, docs)
	pq := filepath.Join(dir, "body.bin")
	if r := runBinary(t, dir, "", "convert", body, "--to", "parquet", pq); r.Code != 0 {
		t.Fatalf("convert: %+v", r)
	}
	data, err := os.ReadFile(pq)
	if err != nil {
		t.Fatal(err)
	}
	misnamed := writeFile(t, filepath.Join(dir, "misnamed.jsonl"), string(data))

	r := runBinary(t, dir, "", "inspect", "--json", misnamed)
	var ins struct {
		Kind     string   `json:"kind"`
		Examples int64    `json:"examples"`
		Notes    []string `json:"notes"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &ins); r.Code != 0 || err != nil {
		t.Fatalf("inspect: exit %d, %v\n%s%s", r.Code, err, r.Stdout, r.Stderr)
	}
	if ins.Kind != "parquet" || ins.Examples != docs || !strings.Contains(strings.Join(ins.Notes, "\n"), "the content is Parquet, not what its name's .jsonl says") {
		t.Fatalf("inspect --json = %+v; want kind parquet, %d examples and a note on the name", ins, docs)
	}
	if r := runBinary(t, dir, "", "inspect", misnamed); r.Code != 0 || !strings.Contains(r.Stdout, misnamed+": Parquet\n") {
		t.Fatalf("inspect: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}

	r = runBinary(t, dir, "", "validate", "--json", "--stage", "sft", misnamed)
	var rep struct {
		Valid   int64 `json:"valid"`
		Invalid int64 `json:"invalid"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &rep); r.Code != 0 || err != nil || rep.Valid != docs || rep.Invalid != 0 {
		t.Fatalf("validate: exit %d, %v, %+v\n%s%s", r.Code, err, rep, r.Stdout, r.Stderr)
	}

	outputs := map[string]map[string][]byte{}
	for _, in := range []string{body, misnamed} {
		out := filepath.Join(dir, "out_"+filepath.Base(in))
		job := jobYAML(t, dir, "job_"+filepath.Base(in), fmt.Sprintf("name: detect\ninputs: [%q]\ntokenizer: gpt2\n"+
			"sequence_lengths: [8]\nval_fraction: 0\noutput:\n  dir: %q\n  formats: [npy]\n", in, out))
		r := runBinary(t, dir, "", "run", job, "--progress", "none")
		if r.Code != 0 {
			t.Fatalf("run on %s: exit %d\n%s%s", in, r.Code, r.Stdout, r.Stderr)
		}
		warned := strings.Contains(r.Stderr, "level=WARN") && strings.Contains(r.Stderr, "the content is Parquet")
		if warned != (in == misnamed) {
			t.Fatalf("run on %s: stderr %q; want a warning of the name for the misnamed file only", in, r.Stderr)
		}
		outputs[in] = readOut(t, out)
	}
	for name, b := range outputs[body] {
		if strings.HasSuffix(name, ".npy") && !bytes.Equal(b, outputs[misnamed][name]) {
			t.Errorf("%s differs between the JSON Lines input and its Parquet copy named .jsonl", name)
		}
	}
	if len(outputs[misnamed]) == 0 || len(outputs[misnamed]) != len(outputs[body]) {
		t.Errorf("outputs %d and %d files", len(outputs[body]), len(outputs[misnamed]))
	}
}
