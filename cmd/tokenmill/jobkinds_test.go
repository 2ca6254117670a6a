package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// jobYAML writes a job file into dir and returns its path.
func jobYAML(t *testing.T, dir, name, body string) string {
	t.Helper()
	return writeFile(t, filepath.Join(dir, name+".yaml"), body)
}

// readOut reads every file of a job's output directory except run.json (timings).
func readOut(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.Name() == "run.json" || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

// invalidSFT is the SFT fixture of real records followed by broken ones.
func invalidSFT(t *testing.T, dir string) string {
	t.Helper()
	good, err := os.ReadFile("../../validate/testdata/oasst2.messages.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	bad := `{"messages": "hi"}` + "\n" + "{bad\n" + "[1]\n" + `{"messages": [{"role": "tool", "content": "x"}]}` + "\n"
	return writeFile(t, filepath.Join(dir, "sft.jsonl"), string(good[:len(good)/2])+bad+string(good[len(good)/2:]))
}

func TestRunValidateJob_MatchesValidateCLI(t *testing.T) {
	dir := t.TempDir()
	sft := invalidSFT(t, dir)
	grpo := "../../validate/testdata/humaneval-rs.jsonl"
	grpoAbs, _ := filepath.Abs(grpo)
	pq := filepath.Join(dir, "sft.parquet")
	hf := filepath.Join(dir, "sft_hf")
	for _, args := range [][]string{{"convert", "../../validate/testdata/oasst2.messages.jsonl", "--to", "parquet", pq},
		{"convert", "../../validate/testdata/oasst2.messages.jsonl", "--to", "hf", hf}} {
		if code, _, errs := runCLI(t, "", args...); code != 0 {
			t.Fatalf("%v: %s", args, errs)
		}
	}
	tests := []struct {
		name, stage, input, shardSize string
		maxErrors, workers, code      int
	}{
		{"sft many shards 4 workers", "sft", sft, "16KiB", 3, 4, 1},
		{"sft one shard", "sft", sft, "64MiB", 3, 1, 1},
		{"sft all errors", "sft", sft, "8KiB", -1, 2, 1},
		{"grpo on humaneval records (other fields)", "grpo", grpoAbs, "4KiB", 20, 4, 1},
		{"dpo on sft records", "dpo", sft, "32KiB", 5, 3, 1},
		{"parquet", "sft", pq, "1KiB", 5, 2, 0},
		{"hf directory", "lora", hf, "1KiB", 5, 2, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("out%d", i))
			job := jobYAML(t, dir, fmt.Sprintf("v%d", i), fmt.Sprintf(
				"kind: validate\nname: v\ninputs: [%q]\nstage: %s\nmax_errors: %d\nshard_size: %s\noutput:\n  dir: %q\n",
				tt.input, tt.stage, tt.maxErrors, tt.shardSize, out))
			code, stdout, errs := runCLI(t, "", "run", job, "--workers", fmt.Sprint(tt.workers), "--progress", "none")
			if code != tt.code {
				t.Fatalf("run exit %d, want %d: %s", code, tt.code, errs)
			}
			cliCode, cliJSON, _ := runCLI(t, "", "validate", "--stage", tt.stage, "--json", "--max-errors", fmt.Sprint(tt.maxErrors), tt.input)
			_, cliText, _ := runCLI(t, "", "validate", "--stage", tt.stage, "--max-errors", fmt.Sprint(tt.maxErrors), tt.input)
			if cliCode != tt.code {
				t.Fatalf("validate exit %d, want %d", cliCode, tt.code)
			}
			got := readOut(t, out)
			if string(got["report.json"]) != cliJSON {
				t.Fatalf("report.json =\n%s\nvalidate --json =\n%s", got["report.json"], cliJSON)
			}
			if string(got["report.txt"]) != cliText {
				t.Fatalf("report.txt =\n%s\nvalidate =\n%s", got["report.txt"], cliText)
			}
			if !strings.HasPrefix(stdout, cliText) {
				t.Fatalf("run stdout does not start with the report:\n%s", stdout)
			}
		})
	}
}

func TestRunValidateJob_ExactReportAnyWorkersAndShards(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, filepath.Join(dir, "dpo.jsonl"),
		`{"prompt": "p", "chosen": "good", "rejected": "bad"}`+"\n"+
			`{"prompt": "p", "chosen": "same", "rejected": "same"}`+"\n"+
			"\n"+
			`{"prompt": "p", "chosen": "  ", "rejected": "r"}`+"\n"+
			`{"prompt": "p", "chosen": "c"}`+"\n"+
			"not json\n"+
			`{"prompt": "p", "chosen": "c", "rejected": "d"}`+"\n")
	want := `{"stage":"dpo","records":6,"valid":2,"invalid":4,"by_message":{"Field 'chosen' is empty after stripping":1,` +
		`"Malformed JSON":1,"Missing required field 'rejected'":1,"Responses are identical":1},"errors":[` +
		`{"location":"` + in + `:2","field":"","message":"Responses are identical"},` +
		`{"location":"` + in + `:4","field":"chosen","message":"Field 'chosen' is empty after stripping"},` +
		`{"location":"` + in + `:5","field":"rejected","message":"Missing required field 'rejected'"}]}` + "\n"
	var first map[string][]byte
	for i, c := range []struct {
		workers   int
		shardSize string
	}{{1, "64MiB"}, {4, "64MiB"}, {1, "16B"}, {4, "16B"}, {3, "40B"}} {
		out := filepath.Join(dir, fmt.Sprintf("out%d", i))
		job := jobYAML(t, dir, fmt.Sprintf("j%d", i), fmt.Sprintf(
			"kind: validate\nname: dpo-check\ninputs: [%q]\nstage: dpo\nmax_errors: 3\nshard_size: %s\noutput: {dir: %q}\n", in, c.shardSize, out))
		if code, _, errs := runCLI(t, "", "run", job, "--workers", fmt.Sprint(c.workers), "--progress", "none"); code != 1 {
			t.Fatalf("%+v: exit %d: %s", c, code, errs)
		}
		got := readOut(t, out)
		if string(got["report.json"]) != want {
			t.Fatalf("%+v: report.json =\n%s\nwant\n%s", c, got["report.json"], want)
		}
		if !strings.Contains(string(got["report.txt"]), "errors (first 3 of 4):\n") {
			t.Fatalf("%+v: report.txt:\n%s", c, got["report.txt"])
		}
		delete(got, "manifest.json") // the spec (shard_size) and shard count differ
		if first == nil {
			first = got
			continue
		}
		for name, b := range first {
			if !bytes.Equal(got[name], b) {
				t.Fatalf("%+v: %s differs from the first run", c, name)
			}
		}
	}
}

func TestRunConvertJob_MatchesConvertCLI(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("../../validate/testdata/oasst2.messages.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	a := writeFile(t, filepath.Join(dir, "in", "a.jsonl"), strings.Join(lines[:150], ""))
	b := writeFile(t, filepath.Join(dir, "in", "b.jsonl"), strings.Join(lines[150:], ""))
	tests := []struct {
		to, out   string // CLI output path, relative to dir
		shardSize string
		workers   int
	}{
		{"hf", "cli_hf", "3KiB", 4},
		{"jsonl", "cli.jsonl", "5KiB", 2},
		{"parquet", "cli.parquet", "64MiB", 1},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			cliOut := filepath.Join(dir, tt.out)
			if code, _, errs := runCLI(t, "", "convert", a, b, "--to", tt.to, cliOut); code != 0 {
				t.Fatal(errs)
			}
			out := filepath.Join(dir, "job_"+tt.to)
			job := jobYAML(t, dir, "c-"+tt.to, fmt.Sprintf("kind: convert\nname: c\ninputs: [%q]\nto: %s\nshard_size: %s\noutput: {dir: %q}\n",
				filepath.Join(dir, "in"), tt.to, tt.shardSize, out))
			if code, _, errs := runCLI(t, "", "run", job, "--workers", fmt.Sprint(tt.workers), "--progress", "none"); code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			got := readOut(t, out)
			want := map[string][]byte{}
			if tt.to == "hf" {
				want = readOut(t, cliOut)
			} else {
				w, err := os.ReadFile(cliOut)
				if err != nil {
					t.Fatal(err)
				}
				want["data."+tt.to] = w
			}
			for name, w := range want {
				if !bytes.Equal(got[name], w) {
					t.Fatalf("%s differs from tokenmill convert's", name)
				}
			}
			// Read back with the formats readers: every record, in input order.
			readPath := out
			if tt.to != "hf" {
				readPath = filepath.Join(out, "data."+tt.to)
			}
			code, v, errs := runValidateJSON(t, "--stage", "sft", readPath)
			if code != 0 || v.Records != len(lines)-1 {
				t.Fatalf("validate of the output: exit %d, %d records (want %d): %s", code, v.Records, len(lines)-1, errs)
			}
		})
	}
}

func TestRunRecordsJob_Failures(t *testing.T) {
	dir := t.TempDir()
	notObject := writeFile(t, filepath.Join(dir, "mixed.jsonl"), `{"a": 1}`+"\n"+`[2]`+"\n")
	clash := writeFile(t, filepath.Join(dir, "clash.jsonl"), `{"a": 1}`+"\n"+strings.Repeat(" ", 64)+"\n"+`{"a": "x"}`+"\n")
	corrupt := writeFile(t, filepath.Join(dir, "bad.jsonl.gz"), "\x1f\x8bnot gzip at all")
	good := writeFile(t, filepath.Join(dir, "good.jsonl"), `{"text": "hi"}`+"\n")
	// The bad record is line 6, in a later 16-byte shard, which numbers its lines relative
	// to its start: the error still names the file's line.
	lateBad := writeFile(t, filepath.Join(dir, "late.jsonl"), `{"a": 1}`+"\n"+`{"a": 2}`+"\n\n"+`{"a": 3}`+"\n"+`{"a": 4}`+"\n"+`[2]`+"\n")
	tests := []struct {
		name, body string
		errs       []string // substrings of stderr
	}{
		{"convert not an object", fmt.Sprintf("kind: convert\nname: c\ninputs: [%q]\nto: jsonl\n", notObject),
			[]string{"job failed", notObject + ":2: record is not a JSON object"}},
		{"convert not an object in a later range", fmt.Sprintf("kind: convert\nname: c\ninputs: [%q]\nto: jsonl\nshard_size: 16B\n", lateBad),
			[]string{"job failed", lateBad + ":6: record is not a JSON object"}},
		{"convert schema clash across shards", fmt.Sprintf("kind: convert\nname: c\ninputs: [%q]\nto: hf\nshard_size: 16B\n", clash),
			[]string{"job failed", clash + `:3: column "a": mixed types int64 and utf8`}},
		{"validate unreadable", fmt.Sprintf("kind: validate\nname: v\ninputs: [%q]\nstage: sft\n", corrupt),
			[]string{"job failed", corrupt}},
		{"validate pretrain key", fmt.Sprintf("kind: validate\nname: v\ninputs: [%q]\nstage: sft\neos: false\n", good),
			[]string{"f4.yaml:5: eos: not a key of kind: validate"}},
		{"validate without output.dir", fmt.Sprintf("kind: validate\nname: v\ninputs: [%q]\nstage: sft\n", good),
			[]string{"output.dir: required"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("out%d", i))
			body := tt.body
			if !strings.Contains(tt.name, "output.dir") {
				body += fmt.Sprintf("output: {dir: %q}\n", out)
			}
			code, _, errs := runCLI(t, "", "run", jobYAML(t, dir, fmt.Sprint("f", i), body), "--progress", "none")
			if code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, errs)
			}
			for _, s := range tt.errs {
				if !strings.Contains(errs, s) {
					t.Fatalf("stderr %q lacks %q", errs, s)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("a failed job left %s", out)
			}
		})
	}
}
