package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/tokenmill/tokenmill/formats/parquet"
)

// readErrorOut is one entry of the read_errors of `tokenmill validate --json`.
type readErrorOut struct {
	File    string `json:"file"`
	Line    *int64 `json:"line"`
	Row     *int64 `json:"row"`
	Records int    `json:"records"`
	Message string `json:"message"`
}

// validateReadOut is the --json object of a validate run with unreadable inputs.
type validateReadOut struct {
	Records    int            `json:"records"`
	Valid      int            `json:"valid"`
	Invalid    int            `json:"invalid"`
	Unreadable int            `json:"unreadable"`
	Inputs     []string       `json:"inputs"`
	ReadErrors []readErrorOut `json:"read_errors"`
}

// sftLines returns n valid SFT records, one per line, of varied text (so that they do not
// compress to nothing).
func sftLines(n int) []byte {
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"text": "record %d of %d: %x"}`+"\n", i, n, uint64(i)*0x9e3779b97f4a7c15)
	}
	return b.Bytes()
}

// compressed returns data compressed by kind ("gz" or "zst").
func compressed(t *testing.T, kind string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch kind {
	case "gz":
		w = gzip.NewWriter(&buf)
	case "zst":
		zw, err := zstd.NewWriter(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w = zw
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// completeLines decompresses a truncated stream as far as it goes and counts the whole lines
// in it: the records a reader can hand out before the stream breaks off.
func completeLines(t *testing.T, kind string, data []byte) int {
	t.Helper()
	var r io.Reader
	switch kind {
	case "gz":
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "zst":
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, r); err == nil {
		t.Fatalf("the truncated %s stream decompresses without error", kind)
	}
	return bytes.Count(out.Bytes(), []byte("\n"))
}

// corruptParquet writes a Parquet file of rows records (row groups of 10,000) with the start
// of its second row group overwritten, and returns its path.
func corruptParquet(t *testing.T, dir string, rows int) string {
	t.Helper()
	src := filepath.Join(dir, "src.jsonl")
	if err := os.WriteFile(src, sftLines(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "corrupt.parquet")
	if r := runBinary(t, "", "", "convert", src, "--to", "parquet", p); r.Code != 0 {
		t.Fatalf("convert: %+v", r)
	}
	groups, err := parquet.RowGroups(p)
	if err != nil || len(groups) < 2 {
		t.Fatalf("row groups %+v, %v", groups, err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := groups[1].Offset; i < groups[1].Offset+64; i++ {
		b[i] ^= 0xa5
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidate_UnreadableInputs runs `tokenmill validate` on inputs that cannot be read to
// their end: the JSON report must list each with where reading stopped (and not pass for a
// clean report with "invalid": 0), the human summary must say the counts are partial, and the
// exit status is 2.
func TestValidate_UnreadableInputs(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.jsonl"), string(sftLines(3)))
	dirAsFile := filepath.Join(dir, "dir.jsonl")
	if err := os.Mkdir(dirAsFile, 0o755); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.jsonl")
	if err := os.Symlink(filepath.Join(dir, "gone.jsonl"), dangling); err != nil {
		t.Fatal(err)
	}
	truncated := map[string]int{}
	for _, kind := range []string{"gz", "zst"} {
		z := compressed(t, kind, sftLines(20000))
		z = z[:len(z)*2/3]
		p := writeFile(t, filepath.Join(dir, "cut.jsonl."+kind), string(z))
		truncated[p] = completeLines(t, kind, z)
	}
	parquet := corruptParquet(t, dir, 25000)

	line := func(n int) *int64 { v := int64(n); return &v }
	cases := []struct {
		name, path string
		records    int    // records read from the input (with row set: at most)
		line, row  *int64 // where reading stopped (with row set: at most)
		message    string // in read_errors[0].message and on stderr
		where      string // the summary's line for the input
	}{
		{"directory in place of a file", dirAsFile, 0, nil, nil, "no record files",
			dirAsFile + ": stopped before the first record"},
		{"dangling symlink", dangling, 0, nil, nil, "no such file",
			dangling + ": stopped before the first record"},
		{"missing file", filepath.Join(dir, "nope.jsonl"), 0, nil, nil, "no such file",
			filepath.Join(dir, "nope.jsonl") + ": stopped before the first record"},
		{"truncated zst", filepath.Join(dir, "cut.jsonl.zst"), truncated[filepath.Join(dir, "cut.jsonl.zst")],
			line(truncated[filepath.Join(dir, "cut.jsonl.zst")] + 1), nil, "zstd",
			fmt.Sprintf("%s: stopped at line %d, after %d records", filepath.Join(dir, "cut.jsonl.zst"),
				truncated[filepath.Join(dir, "cut.jsonl.zst")]+1, truncated[filepath.Join(dir, "cut.jsonl.zst")])},
		{"truncated gz", filepath.Join(dir, "cut.jsonl.gz"), truncated[filepath.Join(dir, "cut.jsonl.gz")],
			line(truncated[filepath.Join(dir, "cut.jsonl.gz")] + 1), nil, "gzip",
			fmt.Sprintf("%s: stopped at line %d, after %d records", filepath.Join(dir, "cut.jsonl.gz"),
				truncated[filepath.Join(dir, "cut.jsonl.gz")]+1, truncated[filepath.Join(dir, "cut.jsonl.gz")])},
		// The reader decodes batches of rows, and the batch that reaches into the broken row
		// group is lost: reading stops at a batch boundary of the first row group.
		{"corrupt parquet", parquet, 10000, nil, line(10000), "corrupt.parquet",
			parquet + ": stopped at row %d, after %d records"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.records == 0 && c.line != nil {
				t.Fatalf("%s: nothing decompressed before the cut", c.path)
			}
			r := runBinary(t, "", "", "validate", "--stage", "sft", "--json", good, c.path)
			var v validateReadOut
			if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
				t.Fatalf("exit %d, output %q: %v", r.Code, r.Stdout, err)
			}
			if r.Code != exitUnreadable || v.Unreadable != 1 || len(v.ReadErrors) != 1 {
				t.Fatalf("exit %d, unreadable %d, read_errors %+v; want 2, 1, one entry", r.Code, v.Unreadable, v.ReadErrors)
			}
			e := v.ReadErrors[0]
			if c.row != nil && e.Row != nil && 0 < *e.Row && *e.Row <= *c.row && int64(e.Records) == *e.Row {
				c.records, c.row = e.Records, e.Row
				c.where = fmt.Sprintf(c.where, e.Records, e.Records)
			}
			if e.File != c.path || e.Records != c.records || !samePos(e.Line, c.line) || !samePos(e.Row, c.row) ||
				!strings.Contains(e.Message, c.message) {
				t.Errorf("read error %+v (line %v, row %v), want file %s, %d records, line %v, row %v, message with %q",
					e, deref(e.Line), deref(e.Row), c.path, c.records, deref(c.line), deref(c.row), c.message)
			}
			if v.Records != 3+c.records || v.Valid != v.Records || v.Invalid != 0 {
				t.Errorf("counts %+v, want %d records, all valid", v, 3+c.records)
			}
			if !strings.Contains(r.Stderr, c.message) {
				t.Errorf("stderr %q does not say %q", r.Stderr, c.message)
			}

			r = runBinary(t, "", "", "validate", "--stage", "sft", good, c.path)
			head := fmt.Sprintf("stage sft: 1 input could not be read to the end; partial counts: %d records, %d valid, 0 invalid\n",
				3+c.records, 3+c.records)
			if r.Code != exitUnreadable || !strings.HasPrefix(r.Stdout, head) ||
				!strings.HasSuffix(r.Stdout, "could not be read:\n  "+c.where+"\n") {
				t.Errorf("exit %d, summary\n%s\nwant 2 and\n%s...\ncould not be read:\n  %s", r.Code, r.Stdout, head, c.where)
			}
		})
	}
}

func samePos(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestValidateLayout_UnreadableInput checks that a layout check reports an input that breaks
// off in its stage's report (read_errors, partial counts) and exits 2.
func TestValidateLayout_UnreadableInput(t *testing.T) {
	root := t.TempDir()
	z := compressed(t, "gz", sftLines(20000))
	cut := writeFile(t, filepath.Join(root, "data", "sft", "train.jsonl.gz"), string(z[:len(z)/2]))
	n := completeLines(t, "gz", z[:len(z)/2])
	writeFile(t, filepath.Join(root, "data", "dpo", "train.jsonl"), `{"prompt": "p", "chosen": "a", "rejected": "b"}`+"\n")

	r := runBinary(t, "", "", "validate", "--layout", root, "--json")
	var v struct {
		Stages []struct {
			Stage  string
			Report validateReadOut
		}
	}
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("exit %d %q: %v", r.Code, r.Stdout, err)
	}
	if r.Code != exitUnreadable || len(v.Stages) != 2 {
		t.Fatalf("exit %d, %+v", r.Code, v)
	}
	sft, dpo := v.Stages[0].Report, v.Stages[1].Report
	if len(sft.ReadErrors) != 1 || sft.ReadErrors[0].File != cut || sft.ReadErrors[0].Records != n ||
		!samePos(sft.ReadErrors[0].Line, func() *int64 { l := int64(n + 1); return &l }()) || sft.Unreadable != 1 {
		t.Errorf("sft report %+v, want one read error of %s at line %d after %d records", sft, cut, n+1, n)
	}
	if len(dpo.ReadErrors) != 0 || dpo.Unreadable != 0 || dpo.Records != 1 {
		t.Errorf("dpo report %+v", dpo)
	}

	r = runBinary(t, "", "", "validate", "--layout", root)
	want := fmt.Sprintf("stage sft: 1 input could not be read to the end; partial counts: %d records, %[1]d valid, 0 invalid\n"+
		"could not be read:\n  %s: stopped at line %d, after %d records\n", n, cut, n+1, n)
	if r.Code != exitUnreadable || !strings.Contains(r.Stdout, want) || !strings.Contains(r.Stderr, "gzip") {
		t.Errorf("exit %d\n%s\nstderr %q\nwant 2 and\n%s", r.Code, r.Stdout, r.Stderr, want)
	}
}

// TestValidate_PlainDirectory checks that a directory that is neither an HF dataset nor a
// data layout is validated as the record files and HF datasets under it, and that the report
// says which files it took.
func TestValidate_PlainDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "plain")
	writeFile(t, filepath.Join(dir, "a.jsonl"), `{"text": "a"}`+"\n"+`{"text": ""}`+"\n")
	writeFile(t, filepath.Join(dir, "b.csv"), "text\nb\n")
	writeFile(t, filepath.Join(dir, "notes.txt"), "not records\n")
	writeFile(t, filepath.Join(dir, ".hidden.jsonl"), "{bad\n")
	writeFile(t, filepath.Join(dir, "sub", "c.jsonl.zst"), string(compressed(t, "zst", sftLines(4))))
	src := writeFile(t, filepath.Join(t.TempDir(), "src.jsonl"), string(sftLines(5)))
	for _, to := range []string{"parquet", "hf"} {
		out := filepath.Join(dir, "d."+to)
		if to == "hf" {
			out = filepath.Join(dir, "hf")
		}
		if r := runBinary(t, "", "", "convert", src, "--to", to, out); r.Code != 0 {
			t.Fatalf("convert: %+v", r)
		}
	}
	taken := []string{"a.jsonl", "b.csv", "d.parquet", "hf", filepath.Join("sub", "c.jsonl.zst")}

	r := runBinary(t, "", "", "validate", "--stage", "sft", dir)
	want := dir + ": a directory of files; validating 5: " + strings.Join(taken, ", ") + "\n" +
		dir + ": not record files, skipped: notes.txt\n" +
		"stage sft: 17 records, 16 valid, 1 invalid\n"
	if r.Code != exitInvalid || !strings.HasPrefix(r.Stdout, want) {
		t.Errorf("exit %d\n%s\nstderr %q\nwant 1 and\n%s", r.Code, r.Stdout, r.Stderr, want)
	}

	r = runBinary(t, "", "", "validate", "--stage", "sft", "--json", dir)
	var v validateReadOut
	if err := json.Unmarshal([]byte(r.Stdout), &v); err != nil {
		t.Fatalf("exit %d %q: %v", r.Code, r.Stdout, err)
	}
	var wantInputs []string
	for _, f := range taken {
		wantInputs = append(wantInputs, filepath.Join(dir, f))
	}
	if r.Code != exitInvalid || v.Records != 17 || v.Invalid != 1 || strings.Join(v.Inputs, "|") != strings.Join(wantInputs, "|") {
		t.Errorf("exit %d %+v, want 1, 17 records, 1 invalid, inputs %v", r.Code, v, wantInputs)
	}

	// An HF dataset directory is still one input, and a file's report lists no inputs.
	r = runBinary(t, "", "", "validate", "--stage", "sft", "--json", filepath.Join(dir, "hf"))
	if r.Code != exitValid || strings.Contains(r.Stdout, `"inputs"`) || !strings.Contains(r.Stdout, `"records":5,`) {
		t.Errorf("HF directory: exit %d %s %s", r.Code, r.Stdout, r.Stderr)
	}
}

// TestRunValidateJob_UnreadableInput checks that a validate job whose input breaks off fails
// as any job with a corrupt input does: no report is published (none that could pass for a
// clean one), and the error names the file and the line where reading stopped.
func TestRunValidateJob_UnreadableInput(t *testing.T) {
	dir := t.TempDir()
	z := compressed(t, "gz", sftLines(20000))
	cut := writeFile(t, filepath.Join(dir, "cut.jsonl.gz"), string(z[:len(z)/2]))
	n := completeLines(t, "gz", z[:len(z)/2])
	out := filepath.Join(dir, "out")
	job := jobYAML(t, dir, "v", fmt.Sprintf("kind: validate\nname: v\ninputs: [%q]\nstage: sft\noutput:\n  dir: %q\n", cut, out))
	r := runBinary(t, "", "", "run", job, "--progress", "none")
	if r.Code == 0 || !strings.Contains(r.Stderr, cut) || !strings.Contains(r.Stderr, fmt.Sprintf("line %d,", n+1)) {
		t.Errorf("exit %d, stderr %q; want a failure naming %s and line %d", r.Code, r.Stderr, cut, n+1)
	}
	if _, err := os.Stat(filepath.Join(out, "report.json")); !os.IsNotExist(err) {
		t.Errorf("report.json of a failed job: %v", err)
	}
}

// TestValidate_Rules checks `tokenmill validate --rules`: the rules of one stage (or of every
// stage) on stdout, exit 0, no input needed; an unknown stage is refused.
func TestValidate_Rules(t *testing.T) {
	cases := []struct {
		name     string
		args     []string
		code     int
		contains []string
		stages   int
	}{
		{"one stage", []string{"--stage", "dpo", "--rules"}, 0, []string{
			"stage dpo: DPO, in data/dpo/",
			"  preference.distinct  (the record)\n      checks:  chosen and rejected differ\n      message: Responses are identical  (the document's words)\n",
			"      message: Field '<f>' is empty after stripping  (the document's words)\n"}, 1},
		{"harmony stage", []string{"--rules", "--stage", "rust-agent"}, 0, []string{
			"  agent.tool_calls  text\n", "      message: Missing <|endoftext|> token  (the pipeline's words)\n"}, 1},
		{"every stage", []string{"--rules"}, 0, []string{"stage pretrain: ", "stage eval: ",
			"      message: Token ID <n> out of vocabulary range  (the document's words)\n"}, 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runBinary(t, "", "", append([]string{"validate"}, c.args...)...)
			if r.Code != c.code || r.Stderr != "" || strings.Count(r.Stdout, "\nstage ")+1 != c.stages {
				t.Fatalf("exit %d, %d stages, stderr %q\n%s", r.Code, strings.Count(r.Stdout, "\nstage ")+1, r.Stderr, r.Stdout)
			}
			for _, w := range c.contains {
				if !strings.Contains(r.Stdout, w) {
					t.Errorf("no %q in\n%s", w, r.Stdout)
				}
			}
		})
	}
	if r := runBinary(t, "", "", "validate", "--rules", "--stage", "rlhf"); r.Code != exitUnreadable || r.Stdout != "" || !strings.Contains(r.Stderr, `"rlhf"`) {
		t.Errorf("unknown stage: %+v", r)
	}
}
