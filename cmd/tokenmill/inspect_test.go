package main

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/npy"
	"github.com/tokenmill/tokenmill/inspect"
)

const (
	rickDir  = "../../formats/testdata/hf/hf_ricksanchez_val_tokenized"
	dictDir  = "../../formats/testdata/hf/hf_datasetdict_roberta_sentiment"
	helloIDs = "9906,11,1917,0" // cl100k_base "Hello, world!"
)

// cli runs `tokenmill ARGS...` as its own process in the test's working directory.
func cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	r := runBinary(t, "", "", args...)
	return r.Code, r.Stdout, r.Stderr
}

// writeInspectNpy writes rows with npy.Create, as a job does.
func writeInspectNpy(t *testing.T, path string, dtype formats.DType, cols int, rows ...[]int64) string {
	t.Helper()
	w, err := npy.Create(path, dtype, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow64(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInspect_HumanOutput pins the human form, line for line, for each kind of PATH.
func TestInspect_HumanOutput(t *testing.T) {
	dir := t.TempDir()
	npy := writeInspectNpy(t, filepath.Join(dir, "hello.npy"), formats.Int32, 4, []int64{9906, 11, 1917, 0}, []int64{1, 2, 3, 4})
	flat := writeInspectNpy(t, filepath.Join(dir, "flat.npy"), formats.Uint16, 0, []int64{64, 65, 66})
	jsonl := writeFile(t, filepath.Join(dir, "sft.jsonl"),
		`{"messages": [{"role": "user", "content": "What's Python?"}, {"role": "assistant", "content": "A language.\n"}], "score": 0.5}`+"\n"+
			`{"messages": [], "score": 2}`+"\n"+
			"{bad\n")
	ids := writeFile(t, filepath.Join(dir, "ids.jsonl"), `{"input_ids": [`+helloIDs+`], "n": null}`+"\n")
	csv := writeFile(t, filepath.Join(dir, "a.csv"), "text,label\nhello,1\n\"bye, now\",2\n")
	txt := writeFile(t, filepath.Join(dir, "a.txt"), "one doc\nline two\n")
	parquet := filepath.Join(dir, "a.parquet")
	if code, _, errs := cli(t, "convert", writeFile(t, filepath.Join(dir, "a.jsonl"),
		`{"text":"hello","label":1}`+"\n"+`{"text":"bye","label":2}`+"\n"), "--to", "parquet", parquet); code != 0 {
		t.Fatalf("convert: %s", errs)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"HF token dir, --tokenizer", []string{rickDir, "--tokenizer", "gpt2"}, rickDir + `: Hugging Face dataset (save_to_disk), 1 data file
Columns: ['input_ids', 'attention_mask']
Types: input_ids: list<int32>, attention_mask: list<int8>
Examples: 308
Sample: {'input_ids': [33048, 21909, 25, 1058, 314, 1833, 345, 821, 9247, 1770, 13, 1992, 13, 632, 338, 12698, ... +29 more], 'attention_mask': [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ... +29 more]}
Text (input_ids of the first example, 45 tokens, decoded with gpt2 from --tokenizer):
Rick Sanchez: : I understand you're upset Mr. President. It's honestly all Morty's fault. But in the meantime, you really want to keep your army of pointlessly camouflaged Eagle Scouts off my lawn.<|endoftext|>
`},
		{"HF token dir, no tokenizer", []string{rickDir}, rickDir + `: Hugging Face dataset (save_to_disk), 1 data file
Columns: ['input_ids', 'attention_mask']
Types: input_ids: list<int32>, attention_mask: list<int8>
Examples: 308
Sample: {'input_ids': [33048, 21909, 25, 1058, 314, 1833, 345, 821, 9247, 1770, 13, 1992, 13, 632, 338, 12698, ... +29 more], 'attention_mask': [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ... +29 more]}
Text: not decoded: no manifest.json next to it or one directory up; pass --tokenizer NAME
`},
		{"npy 2-D", []string{"--tokenizer", "cl100k_base", npy}, npy + `: NumPy array
Shape: (2, 4)
DType: int32
Examples: 2
Sample: [9906, 11, 1917, 0]
Text (the first row, 4 tokens, decoded with cl100k_base from --tokenizer):
Hello, world!
`},
		{"npy 1-D", []string{flat, "--tokenizer=gpt2"}, flat + `: NumPy array
Shape: (3,)
DType: uint16
Examples: 3
Sample: [64, 65, 66]
Note: a 1-D array: the sample is its first elements
Text (the first row, 3 tokens, decoded with gpt2 from --tokenizer):
abc
`},
		{"JSONL with nested messages and a bad line", []string{jsonl}, jsonl + `: JSON Lines
Columns: ['messages', 'score']
Types: messages: list<struct<role: string, content: string>>, score: float64
Examples: 2
Malformed: 1
Sample: {'messages': [{'role': 'user', 'content': "What's Python?"}, {'role': 'assistant', 'content': 'A language.\n'}], 'score': 0.5}
Note: first malformed record: ` + jsonl + `:3: malformed JSON: invalid character 'b'
`},
		{"JSONL token ids", []string{"--tokenizer", "cl100k_base", ids}, ids + `: JSON Lines
Columns: ['input_ids', 'n']
Types: input_ids: list<int64>, n: null
Examples: 1
Sample: {'input_ids': [9906, 11, 1917, 0], 'n': None}
Text (input_ids of the first example, 4 tokens, decoded with cl100k_base from --tokenizer):
Hello, world!
`},
		{"CSV", []string{csv}, csv + `: CSV
Columns: ['text', 'label']
Types: text: string, label: string
Examples: 2
Sample: {'text': 'hello', 'label': '1'}
`},
		{"Parquet", []string{parquet}, parquet + `: Parquet
Columns: ['text', 'label']
Types: text: string, label: int64
Examples: 2
Sample: {'text': 'hello', 'label': 1}
`},
		{"text", []string{txt}, txt + `: plain text (one document)
Columns: ['text']
Types: text: string
Examples: 1
Sample: {'text': 'one doc\nline two\n'}
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := cli(t, append([]string{"inspect"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if out != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
}

// TestInspect_DatasetDict lists the splits with their counts, then each split's first example.
func TestInspect_DatasetDict(t *testing.T) {
	code, out, errs := cli(t, "inspect", dictDir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := dictDir + `: Hugging Face DatasetDict, splits: train, validation, test
SPLIT       EXAMPLES  COLUMNS
train       2384      label: int64, text: string
validation  331       label: int64, text: string
test        685       label: int64, text: string
`
	if !strings.HasPrefix(out, want) {
		t.Fatalf("got\n%s\nwant a start of\n%s", out, want)
	}
	for _, line := range []string{
		"== " + dictDir + "/validation ==",
		"Columns: ['label', 'text']",
		"Sample: {'label': 1, 'text': 'QUA TUYỆT VỜI'}",
	} {
		if !strings.Contains(out, line+"\n") {
			t.Errorf("output lacks line %q:\n%s", line, out)
		}
	}
}

// TestInspect_TruncationAndFull shows that long samples and texts are cut in the human form
// and whole with --full and in --json.
func TestInspect_TruncationAndFull(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("ab", 400) // 800 characters
	path := writeFile(t, filepath.Join(dir, "long.jsonl"), `{"text": "`+long+`"}`+"\n")
	_, out, _ := cli(t, "inspect", path)
	if !strings.Contains(out, "Sample: {'text': '"+long[:200]+"'... +600 more characters}\n") {
		t.Errorf("not truncated:\n%s", out)
	}
	_, out, _ = cli(t, "inspect", "--full", path)
	if !strings.Contains(out, "Sample: {'text': '"+long+"'}\n") {
		t.Errorf("--full truncated:\n%s", out)
	}
	row := make([]int64, 300)
	for i := range row {
		row[i] = 64 + int64(i%26) // gpt2: "a".."z"
	}
	npy := writeInspectNpy(t, filepath.Join(dir, "abc.npy"), formats.Int64, 300, row)
	text := strings.Repeat("abcdefghijklmnopqrstuvwxyz", 12)[:300]
	_, out, _ = cli(t, "inspect", "--tokenizer", "gpt2", npy)
	if !strings.Contains(out, ", ... +284 more]\n") {
		t.Errorf("ids not truncated:\n%s", out)
	}
	_, out, _ = cli(t, "inspect", "--tokenizer", "gpt2", "--full", npy)
	if !strings.HasSuffix(out, "):\n"+text+"\n") || strings.Contains(out, "more") {
		t.Errorf("--full:\n%s", out)
	}
	var res inspect.Inspection
	_, out, _ = cli(t, "inspect", "--tokenizer", "gpt2", "--json", npy)
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Text != text || res.Tokens != 300 ||
		res.Kind != "npy" || fmt.Sprint(res.Shape) != "[1 300]" || res.DType != "int64" {
		t.Errorf("json %v: %+v", err, res)
	}
}

// TestInspect_JobOutput runs a real job on a tiny corpus and inspects its output: every
// bucket's outputs agree with the manifest, and the first sequence decodes (with the
// tokenizer the manifest names) to the start of the corpus.
func TestInspect_JobOutput(t *testing.T) {
	dir := t.TempDir()
	docs := []string{
		"The quick brown fox jumps over the lazy dog.",
		"Pack my box with five dozen liquor jugs.",
		"Sphinx of black quartz, judge my vow.",
	}
	var corpus, joined strings.Builder
	for _, d := range docs {
		b, _ := json.Marshal(map[string]string{"text": d})
		corpus.Write(append(b, '\n'))
		joined.WriteString(d + "<|endoftext|>")
	}
	in := writeFile(t, filepath.Join(dir, "corpus.jsonl"), corpus.String())
	out := filepath.Join(dir, "out")
	spec := writeFile(t, filepath.Join(dir, "job.yaml"), fmt.Sprintf(`name: tiny
inputs:
  - path: %s
tokenizer: cl100k_base
sequence_lengths: [8, 16]
val_fraction: 0
eos: true
output:
  dir: %s
  formats: [hf, npy]
  dtype: int32
`, in, out))
	if code, _, errs := cli(t, "run", spec, "--workers", "1", "--progress", "none"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}

	code, stdout, errs := cli(t, "inspect", "--json", "--full", out)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errs)
	}
	var res inspect.Inspection
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Kind != "job" || res.Job == nil || res.Job.Name != "tiny" || res.Job.Tokenizer.Name != "cl100k_base" {
		t.Fatalf("%+v", res)
	}
	detailed := 0
	for _, p := range res.Parts {
		if p.Check != "ok" || p.Error != "" {
			t.Errorf("%s: check %q error %q", p.Path, p.Check, p.Error)
		}
		if p.Detailed {
			detailed++
			if p.Tokens != 8 || p.Text == "" || !strings.HasPrefix(joined.String(), p.Text) {
				t.Errorf("%s: decoded %d tokens %q; want a start of %q", p.Path, p.Tokens, p.Text, joined.String())
			}
			if want := "cl100k_base from " + filepath.Join(out, "manifest.json"); p.Tokenizer != want {
				t.Errorf("tokenizer %q, want %q", p.Tokenizer, want)
			}
		}
	}
	if len(res.Parts) != 8 || detailed != 1 {
		t.Fatalf("%d parts, %d detailed; want 8 outputs (train and an empty val, 8 and 16, hf and npy), train_8 in detail",
			len(res.Parts), detailed)
	}

	// A .npy and an HF directory of the job find the manifest next to them.
	for _, p := range []string{filepath.Join(out, "train_16.npy"), filepath.Join(out, "train_16")} {
		code, stdout, errs := cli(t, "inspect", "--json", p)
		var one inspect.Inspection
		if err := json.Unmarshal([]byte(stdout), &one); code != 0 || err != nil {
			t.Fatalf("%s: exit %d %v: %s", p, code, err, errs)
		}
		if one.Tokens != 16 || !strings.HasPrefix(joined.String(), one.Text) || len(one.Text) < len(docs[0]) {
			t.Errorf("%s: %d tokens %q", p, one.Tokens, one.Text)
		}
	}
	_, stdout, _ = cli(t, "inspect", out)
	for _, line := range []string{
		"Job: tiny (fingerprint " + res.Job.Fingerprint[:12] + ")",
		"Documents: 3 read, 3 written, 0 rejected (rejects.jsonl)",
		"Inputs: 1 file, " + strconv.Itoa(corpus.Len()) + " bytes\n",
		fmt.Sprintf("  %s  %d bytes  crc32c %08x\n", in, corpus.Len(), crc32.Checksum([]byte(corpus.String()), crc32.MakeTable(crc32.Castagnoli))),
		"Text (input_ids of the first example, 8 tokens, decoded with cl100k_base from " + filepath.Join(out, "manifest.json") + "):",
	} {
		if !strings.Contains(stdout, line) {
			t.Errorf("human output lacks %q:\n%s", line, stdout)
		}
	}
}

// TestInspect_Unreadable exits 2 with an error naming what could not be read.
func TestInspect_Unreadable(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, filepath.Join(dir, "bad.npy"), "\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'}")
	empty := filepath.Join(dir, "emptydir")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	// An .arrow file whose first message claims 0x30303030 bytes of metadata: arrow-go's own
	// reader allocated that much before finding the file 4 bytes long.
	hf := filepath.Join(dir, "hf")
	writeFile(t, filepath.Join(hf, "state.json"), `{"_data_files": [{"filename": "data-00000-of-00001.arrow"}], "_split": "train"}`)
	writeFile(t, filepath.Join(hf, "dataset_info.json"), `{}`)
	writeFile(t, filepath.Join(hf, "data-00000-of-00001.arrow"), "0000")
	job := filepath.Join(dir, "job")
	writeFile(t, filepath.Join(job, "manifest.json"), `{"format_version": 1, "job": {"name": "j", "tokenizer": "gpt2"},
"tokenizer": {"name": "gpt2"}, "dtype": "int64",
"buckets": [{"split": "train", "seq_len": 3, "sequences": 1, "paths": ["train_3", "train_3.npy"]}]}`)
	writeInspectNpy(t, filepath.Join(job, "train_3.npy"), formats.Int64, 3, []int64{64, 65, 66})
	tests := []struct {
		name, path string
		code       int
		stderr     string
	}{
		{"missing file", filepath.Join(dir, "nope.jsonl"), 2, "tokenmill inspect: cannot read " + filepath.Join(dir, "nope.jsonl") + ": no such file or directory\n"},
		{"bad npy header", bad, 2, "cannot read " + bad},
		{"directory of nothing known", empty, 2, "without manifest.json"},
		{"corrupt arrow data file", hf, 2, filepath.Join(hf, "data-00000-of-00001.arrow")},
		{"job with a missing output", job, 2, "cannot read " + filepath.Join(job, "train_3")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := cli(t, "inspect", tt.path)
			if code != tt.code || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q (stdout %q)", code, errs, tt.code, tt.stderr, out)
			}
		})
	}
	// The readable output of the broken job is still shown, decoded.
	_, out, _ := cli(t, "inspect", job)
	if !strings.Contains(strings.Join(strings.Fields(out), " "), "train 3 1 train_3.npy npy (1, 3) int64 ok") || !strings.Contains(out, "decoded with gpt2 from ") ||
		!strings.Contains(out, "\nabc\n") {
		t.Errorf("broken job output:\n%s", out)
	}
	if code, _, _ := cli(t, "inspect"); code != 2 {
		t.Errorf("no PATH: exit %d, want 2", code)
	}
}
