package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats/hf"
)

// readJSONL decodes every line of a JSONL file.
func readJSONL(t *testing.T, path string) []any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var v any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}

// dropNulls removes the null-valued keys of every object in v.
func dropNulls[T any](v T) T {
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if e == nil {
					delete(x, k)
				} else {
					x[k] = walk(e)
				}
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	walk(v)
	return v
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if code, out, errs := runCLI(t, "", args...); code != 0 {
		t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
	}
}

// TestConvert_RoundTrip converts real records through every output format and back to JSONL;
// the records must come back equal, nested messages (and tool calls) included.
func TestConvert_RoundTrip(t *testing.T) {
	cases := []struct{ name, input string }{
		{"oasst2 messages", "testdata/oasst2.head.jsonl"},
		{"document's agent example with tool calls", "testdata/agent.messages.jsonl"},
		{"humaneval tasks with string lists", "testdata/humaneval-rs.head.jsonl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			hf, pq, back := filepath.Join(dir, "hf"), filepath.Join(dir, "x.parquet"), filepath.Join(dir, "back.jsonl")
			mustRun(t, "convert", c.input, "--to", "hf", hf)
			mustRun(t, "convert", hf, "--to", "parquet", pq)
			mustRun(t, "convert", pq, "--to", "jsonl", back)
			// Arrow structs have every field of the column, as datasets fills missing keys
			// with None: compare without nulls.
			if got, want := dropNulls(readJSONL(t, back)), dropNulls(readJSONL(t, c.input)); !reflect.DeepEqual(got, want) {
				t.Errorf("round trip changed the records:\n%v\nwant\n%v", got[0], want[0])
			}
		})
	}
}

func TestConvert_InputFormats(t *testing.T) {
	dir := t.TempDir()
	tasks := `{"description": "Implement a function that merges two sorted vectors.", "starter_code": "fn merge_sorted(a: &[i32], b: &[i32]) -> Vec<i32> { todo!() }", "tests": "#[test]\nfn test_basic() { assert_eq!(merge_sorted(&[1,3], &[2,4]), vec![1,2,3,4]); }"}`
	inputs := map[string]string{
		"tasks.jsonl": tasks + "\n" + tasks + "\n",
		"tasks.json":  "[" + tasks + ",\n" + tasks + "]",
		"tasks.csv":   "description,starter_code,tests\nd,s,\"#[test]\nfn t() { assert!(true); }\"\nd2,s2,\"#[test] fn u() {}\"\n",
	}
	for name, content := range inputs {
		t.Run(name, func(t *testing.T) {
			in := writeFile(t, filepath.Join(dir, name), content)
			out := filepath.Join(dir, name+".hf")
			code, stdout, errs := runCLI(t, "", "convert", in, "--to", "hf", out)
			if code != 0 || stdout != out+": 2 records\n" {
				t.Fatalf("exit %d %q %q", code, stdout, errs)
			}
			info, _ := os.ReadFile(filepath.Join(out, "dataset_info.json"))
			var di struct{ Features map[string]map[string]string }
			if err := json.Unmarshal(info, &di); err != nil || len(di.Features) != 3 || di.Features["tests"]["dtype"] != "string" {
				t.Errorf("features %s (%v)", info, err)
			}
			code, v, _ := runValidateJSON(t, "--stage", "grpo", out)
			if code != 0 || v.Records != 2 {
				t.Errorf("validate grpo: exit %d %+v", code, v)
			}
		})
	}
}

func TestConvert_Errors(t *testing.T) {
	dir := t.TempDir()
	mixed := writeFile(t, filepath.Join(dir, "mixed.jsonl"), `{"a": "x"}`+"\n"+`{"a": 1}`+"\n")
	bad := writeFile(t, filepath.Join(dir, "bad.jsonl"), `{"a": "x"}`+"\n"+`{"a": `+"\n")
	notObj := writeFile(t, filepath.Join(dir, "arr.jsonl"), `[1, 2]`+"\n")
	exists := writeFile(t, filepath.Join(dir, "exists.jsonl"), "")
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"mixed types", []string{mixed, "--to", "hf", filepath.Join(dir, "o1")}, 1, mixed + `:2: column "a": mixed types utf8 and int64`},
		{"malformed", []string{bad, "--to", "jsonl", filepath.Join(dir, "o2.jsonl")}, 1, bad + ":2: malformed JSON"},
		{"not an object", []string{notObj, "--to", "parquet", filepath.Join(dir, "o3.parquet")}, 1, notObj + ":1: record is not a JSON object"},
		{"output exists", []string{writeFile(t, filepath.Join(dir, "ok.jsonl"), `{"a": 1}`+"\n"), "--to", "jsonl", exists}, 1, "exists"},
		{"no --to", []string{mixed, filepath.Join(dir, "o4")}, 2, "usage"},
		{"unknown --to", []string{mixed, "--to", "npy", filepath.Join(dir, "o5")}, 2, "usage"},
		{"missing input", []string{filepath.Join(dir, "nope.jsonl"), "--to", "hf", filepath.Join(dir, "o6")}, 1, "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", append([]string{"convert"}, c.args...)...)
			if code != c.code || !strings.Contains(errs, c.err) {
				t.Errorf("exit %d stderr %q, want %d containing %q", code, errs, c.code, c.err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "o1")); !os.IsNotExist(err) {
		t.Errorf("a failed conversion left its output: %v", err)
	}
}

// TestConvert_KeepsArrowTypes checks that an int32 token column stays int32 through HF ->
// Parquet -> HF, so a converted pretraining split still matches its features.
func TestConvert_KeepsArrowTypes(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "train_4")
	writeTokenDir(t, src, []int32{1, 2, 3, 4}, []int32{5, 6, 7, 8})
	pq, hfDir := filepath.Join(dir, "t.parquet"), filepath.Join(dir, "again", "train_4")
	mustRun(t, "convert", src, "--to", "parquet", pq)
	mustRun(t, "convert", pq, "--to", "hf", hfDir)
	b, err := hf.OpenBatches(hfDir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Next(); err != nil {
		t.Fatal(err)
	}
	if got := b.Schema().Field(0).Type.String(); got != "list<item: int32, nullable>" {
		t.Errorf("input_ids type %s", got)
	}
	if code, v, _ := runValidateJSON(t, "--stage", "pretrain", hfDir); code != 0 || v.Valid != 2 {
		t.Errorf("validate: exit %d %+v", code, v)
	}
}
