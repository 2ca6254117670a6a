package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/input"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// readHFRows reads every record of an HF directory.
func readHFRows(t *testing.T, dir string) []map[string]any {
	t.Helper()
	rr, err := input.OpenRows(dir, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	var out []map[string]any
	for {
		row, err := rr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row.Value.(map[string]any))
	}
}

// TestHarmonyEncode_Golden encodes the document's own examples (and corner cases checked
// against the Python encoder) one file per case and compares the text column.
func TestHarmonyEncode_Golden(t *testing.T) {
	f, err := os.Open("testdata/harmony_golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c struct {
			Name      string
			Messages  json.RawMessage
			Developer *string
			Want      string
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		t.Run(c.Name, func(t *testing.T) {
			dir := t.TempDir()
			in := writeFile(t, filepath.Join(dir, "in.jsonl"), `{"messages": `+string(c.Messages)+"}\n")
			args := []string{"harmony", "encode", in, filepath.Join(dir, "out")}
			if c.Developer != nil {
				args = append(args, "--developer-instructions", *c.Developer)
			}
			mustRun(t, args...)
			rows := readHFRows(t, filepath.Join(dir, "out"))
			if len(rows) != 1 || rows[0]["text"] != c.Want {
				t.Errorf("got %q\nwant %q", rows, c.Want)
			}
		})
	}
}

// TestHarmonyEncode_TokenizeAndValidate encodes the document's agent example with token ids
// and checks that the output is a valid rust-agent dataset whose ids decode to the text.
func TestHarmonyEncode_TokenizeAndValidate(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "core_agent")
	code, stdout, errs := runCLI(t, "", "harmony", "encode", "--tokenize", "--developer-instructions", "You are a Rust coding agent.",
		"testdata/agent.messages.jsonl", out)
	if code != 0 || stdout != out+": 2 records\n" {
		t.Fatalf("exit %d %q %q", code, stdout, errs)
	}
	tk, err := tokenizer.Load("o200k_harmony")
	if err != nil {
		t.Fatal(err)
	}
	eot, _ := tk.SpecialToken("<|endoftext|>")
	for i, row := range readHFRows(t, out) {
		ids32 := row["input_ids"].([]int32)
		ids := make([]uint32, len(ids32))
		for k, id := range ids32 {
			ids[k] = uint32(id)
		}
		text, err := tk.Decode(ids)
		if err != nil || string(text) != row["text"] || ids[len(ids)-1] != eot {
			t.Errorf("row %d: ids decode to %q (%v), last id %d, want the text ending in %d", i, text, err, ids[len(ids)-1], eot)
		}
	}
	if code, v, _ := runValidateJSON(t, "--stage", "rust-agent", out); code != 0 || v.Valid != 2 {
		t.Errorf("validate rust-agent: exit %d %+v", code, v)
	}
}

func TestHarmonyEncode_Errors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, input string
		code        int
		err         string
	}{
		{"unknown role", `{"messages": [{"role": "robot", "content": "x"}]}`, 1, "in.jsonl:1: unknown Harmony role"},
		{"no messages", `{"text": "x"}`, 1, "in.jsonl:1: Missing required field 'messages'"},
		{"messages not a list", `{"messages": 3}`, 1, "in.jsonl:1: json: cannot unmarshal"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := writeFile(t, filepath.Join(dir, c.name, "in.jsonl"), c.input+"\n")
			out := filepath.Join(dir, "out"+string(rune('a'+i)))
			code, _, errs := runCLI(t, "", "harmony", "encode", in, out)
			if code != c.code || !strings.Contains(errs, c.err) {
				t.Errorf("exit %d %q, want %d containing %q", code, errs, c.code, c.err)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output left behind: %v", err)
			}
		})
	}
	if code, _, errs := runCLI(t, "", "harmony", "decode"); code != 2 || !strings.Contains(errs, "usage") {
		t.Errorf("harmony decode: exit %d %q", code, errs)
	}
}
