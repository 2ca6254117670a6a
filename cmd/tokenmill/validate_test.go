package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/tokenmill/tokenmill/formats/hf"
)

// validateOut is the --json object of `tokenmill validate`.
type validateOut struct {
	Stage     string         `json:"stage"`
	Records   int            `json:"records"`
	Valid     int            `json:"valid"`
	Invalid   int            `json:"invalid"`
	ByMessage map[string]int `json:"by_message"`
	Errors    []struct {
		Location, Field, Message string
	} `json:"errors"`
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// runValidateJSON runs validate --json and decodes its output.
func runValidateJSON(t *testing.T, args ...string) (int, validateOut, string) {
	t.Helper()
	code, out, errs := runCLI(t, "", append([]string{"validate", "--json", "--max-errors", "-1"}, args...)...)
	var v validateOut
	if out != "" {
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
	}
	return code, v, errs
}

func TestValidate_StageRules(t *testing.T) {
	cases := []struct {
		name, stage, jsonl string
		code, valid        int
		byMessage          map[string]int
	}{
		{"sft document examples", "sft",
			`{"messages": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "What is Python?"}, {"role": "assistant", "content": "Python is a programming language..."}]}` + "\n" +
				`{"text": "<|system|>You are helpful.<|user|>What is Python?<|assistant|>Python is..."}` + "\n",
			0, 2, map[string]int{}},
		{"sft broken", "sft",
			`{"messages": "hi"}` + "\n" + `{"messages": [{"role": "tool", "content": "x"}]}` + "\n" + `{"other": 1}` + "\n" + "{bad\n" + "[1]\n",
			1, 0, map[string]int{"Field 'messages' must be a list": 1, "Invalid role 'tool' (must be one of: system, user, assistant)": 1,
				"Must have 'messages' or 'text' field": 1, msgMalformed: 1, "Record must be an object": 1}},
		{"dpo", "dpo",
			`{"prompt": "Human: What's the best way to learn programming?\n\nAssistant:", "chosen": "The best way...", "rejected": "Just copy code."}` + "\n" +
				`{"prompt": "p", "chosen": "same", "rejected": "same"}` + "\n" + `{"prompt": "p", "chosen": "  ", "rejected": "r"}` + "\n" + `{"prompt": "p", "chosen": "c"}` + "\n",
			1, 1, map[string]int{"Responses are identical": 1, "Field 'chosen' is empty after stripping": 1, "Missing required field 'rejected'": 1}},
		{"mutations", "mutations",
			`{"buggy_code": "fn add(a: i32, b: i32) -> i32 { a - b }", "error_message": "test test_add failed: assertion 3 != -1", "fixed_code": "fn add(a: i32, b: i32) -> i32 { a + b }", "repo": "example/math-utils", "file": "src/lib.rs"}` + "\n" +
				`{"buggy_code": "fn f() {}", "error_message": "e", "fixed_code": " fn f() {} "}` + "\n",
			1, 1, map[string]int{"Buggy and fixed code are identical": 1}},
		{"grpo", "grpo",
			`{"description": "Implement a function that merges two sorted vectors.", "starter_code": "fn merge_sorted(a: &[i32], b: &[i32]) -> Vec<i32> { todo!() }", "tests": "#[test]\nfn test_basic() { assert_eq!(merge_sorted(&[1,3], &[2,4]), vec![1,2,3,4]); }"}` + "\n" +
				`{"description": "d", "starter_code": "s", "tests": "fn main() {}"}` + "\n",
			1, 1, map[string]int{"Field 'tests' has no #[test] function": 1}},
		{"rust-agent without tool calls", "rust-agent",
			`{"text": "<|user|>\nhi\n<|assistant|>\nhello\n<|endoftext|>"}` + "\n",
			1, 0, map[string]int{"Agent trajectory has no tool calls": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(t.TempDir(), "in.jsonl"), c.jsonl)
			code, v, errs := runValidateJSON(t, "--stage", c.stage, path)
			if code != c.code || v.Valid != c.valid || v.Stage != c.stage {
				t.Fatalf("exit %d valid %d stage %q, want %d %d %q (stderr %q)", code, v.Valid, v.Stage, c.code, c.valid, c.stage, errs)
			}
			if !reflect.DeepEqual(v.ByMessage, c.byMessage) {
				t.Errorf("by_message %v, want %v", v.ByMessage, c.byMessage)
			}
		})
	}
}

// TestValidate_FormatsAgree checks that the same records give the same report whatever the
// container: JSONL, gzip JSONL, JSON array, CSV.
func TestValidate_FormatsAgree(t *testing.T) {
	dir := t.TempDir()
	rows := [][3]string{{"p1", "good", "bad"}, {"p2", "same", "same"}, {"p3", "", "r"}}
	var jsonl, csv strings.Builder
	var arr []map[string]string
	csv.WriteString("prompt,chosen,rejected\n")
	for _, r := range rows {
		m := map[string]string{"prompt": r[0], "chosen": r[1], "rejected": r[2]}
		b, _ := json.Marshal(m)
		jsonl.Write(append(b, '\n'))
		arr = append(arr, m)
		csv.WriteString(strings.Join(r[:], ",") + "\n")
	}
	ab, _ := json.Marshal(arr)
	var gz strings.Builder
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(jsonl.String()))
	zw.Close()
	paths := map[string]string{
		"jsonl":    writeFile(t, filepath.Join(dir, "a.jsonl"), jsonl.String()),
		"gz":       writeFile(t, filepath.Join(dir, "a.jsonl.gz"), gz.String()),
		"array":    writeFile(t, filepath.Join(dir, "a.json"), string(ab)),
		"csv":      writeFile(t, filepath.Join(dir, "a.csv"), csv.String()),
		"noext-gz": writeFile(t, filepath.Join(dir, "blob"), gz.String()),
	}
	mustRun(t, "convert", paths["jsonl"], "--to", "parquet", filepath.Join(dir, "a.parquet"))
	mustRun(t, "convert", paths["jsonl"], "--to", "hf", filepath.Join(dir, "hf"))
	paths["parquet"] = filepath.Join(dir, "a.parquet")
	paths["hf"] = filepath.Join(dir, "hf")
	want := map[string]int{"Responses are identical": 1, "Field 'chosen' is empty after stripping": 1}
	wantLoc := map[string]string{"jsonl": ":3", "gz": ":3", "array": ":row 2", "csv": ":4", "noext-gz": ":3",
		"parquet": ":row 2", "hf": "/data-00000-of-00001.arrow:row 2"}
	for name, p := range paths {
		t.Run(name, func(t *testing.T) {
			code, v, errs := runValidateJSON(t, "--stage", "dpo", p)
			if code != 1 || v.Records != 3 || v.Invalid != 2 || !reflect.DeepEqual(v.ByMessage, want) {
				t.Fatalf("exit %d %+v (stderr %q)", code, v, errs)
			}
			if loc := v.Errors[1].Location; loc != p+wantLoc[name] {
				t.Errorf("location %q, want %q", loc, p+wantLoc[name])
			}
		})
	}
}

// writeTokenDir writes an HF token directory with the given rows.
func writeTokenDir(t *testing.T, dir string, rows ...[]int32) {
	t.Helper()
	w, err := hf.Create(dir, hf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate_PretrainCurriculumAndVocab(t *testing.T) {
	dir := t.TempDir()
	writeTokenDir(t, filepath.Join(dir, "packed", "train_4"), []int32{1, 2, 3, 4}, []int32{1, 2, 3}, []int32{1, 60000, 70000, 4})
	writeTokenDir(t, filepath.Join(dir, "packed", "train"), []int32{1, 2, 3})
	code, v, errs := runValidateJSON(t, "--stage", "pretrain", "--tokenizer", "gpt2",
		filepath.Join(dir, "packed", "train_4"), filepath.Join(dir, "packed", "train"))
	want := map[string]int{"Sequence length 3 does not match expected 4": 1, "Token ID 60000 out of vocabulary range": 1}
	if code != 1 || v.Records != 4 || v.Valid != 2 || !reflect.DeepEqual(v.ByMessage, want) {
		t.Fatalf("exit %d %+v (stderr %q)", code, v, errs)
	}
	wantLoc := filepath.Join(dir, "packed", "train_4", "data-00000-of-00001.arrow") + ":row 2"
	if e := v.Errors[1]; e.Location != wantLoc || e.Field != "input_ids[1]" {
		t.Errorf("error %+v, want location %q field input_ids[1]", e, wantLoc)
	}
}

func TestValidate_ExitStatus(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.jsonl"), `{"text": "hello"}`+"\n")
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"valid", []string{"--stage", "sft", good}, 0, ""},
		{"missing file", []string{"--stage", "sft", good, filepath.Join(dir, "nope.jsonl")}, 2, "no such file"},
		{"unknown stage", []string{"--stage", "rlhf", good}, 2, "rlhf"},
		{"no stage", []string{good}, 2, "usage"},
		{"no path", []string{"--stage", "sft"}, 2, "usage"},
		{"bad tokenizer", []string{"--stage", "pretrain", "--tokenizer", "nope", good}, 2, "nope"},
		{"truncated gzip", []string{"--stage", "sft", writeFile(t, filepath.Join(dir, "t.jsonl.gz"), "\x1f\x8b\x08\x00")}, 2, "gzip"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", append([]string{"validate"}, c.args...)...)
			if code != c.code || !strings.Contains(errs, c.err) {
				t.Errorf("exit %d stderr %q, want %d containing %q", code, errs, c.code, c.err)
			}
		})
	}
}

func TestValidate_HumanSummary(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "x.jsonl"), `{"text": ""}`+"\n"+`{"text": "ok"}`+"\n"+`{"messages": 3}`+"\n")
	code, out, _ := runCLI(t, "", "validate", "--stage", "lora", "--max-errors", "1", path)
	want := "stage lora: 3 records, 1 valid, 2 invalid\nby message:\n" +
		"       1  Field 'messages' must be a list\n       1  Field 'text' is empty\n" +
		"errors (first 1 of 2):\n  " + path + ":1: text: Field 'text' is empty\n"
	if code != 1 || out != want {
		t.Errorf("exit %d\n%s\nwant\n%s", code, out, want)
	}
}

func TestValidate_RealFixtures(t *testing.T) {
	cases := []struct {
		name, stage, path string
		records, valid    int
	}{
		{"oasst2 messages", "sft", "testdata/oasst2.head.jsonl", 40, 40},
		{"DatasetDict text splits", "lora", "../../formats/testdata/hf/hf_datasetdict_roberta_sentiment", 0, 0},
		{"HF large_string text", "sft", "../../formats/testdata/hf/hf_textdatabench_hf.hf", 0, 0},
		{"HF tokenized", "pretrain", "../../formats/testdata/hf/hf_ricksanchez_val_tokenized", 308, 308},
		{"humaneval is not an eval task file", "eval", "testdata/humaneval-rs.head.jsonl", 12, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, v, errs := runValidateJSON(t, "--stage", c.stage, c.path)
			if c.records == 0 { // size not pinned: all records valid
				c.records, c.valid = v.Records, v.Records
			}
			if v.Records == 0 || v.Records != c.records || v.Valid != c.valid || (code == 0) != (c.valid == c.records) {
				t.Errorf("exit %d records %d valid %d, want %d %d (stderr %q, %v)", code, v.Records, v.Valid, c.records, c.valid, errs, v.ByMessage)
			}
		})
	}
}

func TestValidateLayout_PerStage(t *testing.T) {
	root := t.TempDir()
	data := filepath.Join(root, "data")
	writeTokenDir(t, filepath.Join(data, "packed", "train_4"), []int32{1, 2, 3, 4})
	writeTokenDir(t, filepath.Join(data, "packed", "val_4"), []int32{1, 2})
	writeFile(t, filepath.Join(data, "sft", "train.jsonl"), `{"text": "ok"}`+"\n")
	writeFile(t, filepath.Join(data, "domain", "coding", "train", "a.jsonl"), `{"text": "fn main() {}"}`+"\n")
	writeFile(t, filepath.Join(data, "domain", "legal", "val", "a.jsonl"), `{"messages": [{"role": "user", "content": "q"}]}`+"\n")
	writeFile(t, filepath.Join(data, "rust", "eval", "tasks.jsonl"), `{"description": "d", "tests": "#[test]\nfn t() {}"}`+"\n")
	writeFile(t, filepath.Join(data, "rust", "eval", "notes.txt"), "not data")

	code, out, errs := runCLI(t, "", "validate", "--layout", root, "--json")
	var v struct {
		Stages []struct {
			Stage  string
			Inputs []string
			Report validateOut
		}
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v: %q (stderr %q)", err, out, errs)
	}
	type got struct {
		stage           string
		inputs, records int
		invalid         int
	}
	var gots []got
	for _, s := range v.Stages {
		gots = append(gots, got{s.Stage, len(s.Inputs), s.Report.Records, s.Report.Invalid})
	}
	want := []got{{"pretrain", 2, 2, 1}, {"sft", 1, 1, 0}, {"lora", 2, 2, 0}, {"eval", 1, 1, 0}}
	if code != 1 || !reflect.DeepEqual(gots, want) {
		t.Errorf("exit %d stages %+v, want 1 %+v", code, gots, want)
	}

	code, out, _ = runCLI(t, "", "validate", "--layout", data)
	if code != 1 || !strings.Contains(out, "== lora: "+filepath.Join(data, "domain")+" (2 inputs)\nstage lora: 2 records, 2 valid, 0 invalid\n") {
		t.Errorf("exit %d text\n%s", code, out)
	}
	if code, _, errs := runCLI(t, "", "validate", "--layout", filepath.Join(root, "nope")); code != 2 || !strings.Contains(errs, "not a directory") {
		t.Errorf("missing layout dir: exit %d %q", code, errs)
	}
}
