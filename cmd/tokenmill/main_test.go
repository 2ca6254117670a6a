package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestTokenize_Lines(t *testing.T) {
	in := "{\"text\":\"Hello, world!\"}\n\n{\"text\":\"<|endoftext|>\"}\r\n{\"text\":\"a\"}"
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"ordinary", []string{"tokenize", "--tokenizer", "cl100k_base"},
			"{\"ids\":[9906,11,1917,0]}\n{\"ids\":[]}\n{\"ids\":[27,91,8862,728,428,91,29]}\n{\"ids\":[64]}\n"},
		{"special", []string{"tokenize", "--tokenizer", "cl100k_base", "--special", "-"},
			"{\"ids\":[9906,11,1917,0]}\n{\"ids\":[]}\n{\"ids\":[100257]}\n{\"ids\":[64]}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, in, c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if out != c.want {
				t.Errorf("got\n%s\nwant\n%s", out, c.want)
			}
		})
	}
}

func TestTokenize_FieldAndFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "in.jsonl")
	if err := os.WriteFile(path, []byte("{\"body\":\"a b\",\"text\":1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "tokenize", path, "--tokenizer", "gpt2", "--field", "body")
	if code != 0 || out != "{\"ids\":[64,275]}\n" {
		t.Fatalf("exit %d out %q err %q", code, out, errs)
	}
}

func TestTokenize_BadLineNamesIt(t *testing.T) {
	cases := []struct{ in, want string }{
		{"{\"text\":\"ok\"}\n{\"text\":5}\n", "stdin:2"},
		{"{\"text\":\"ok\"}\n\n{bad\n", "stdin:3"},
		{"[1]\n", "stdin:1"},
		{"{\"other\":\"x\"}\n", "missing"},
	}
	for _, c := range cases {
		code, _, errs := runCLI(t, c.in, "tokenize", "--tokenizer", "cl100k_base")
		if code != 1 || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stderr %q, want mention of %q", c.in, code, errs, c.want)
		}
	}
}

func TestTokenize_ManyChunksInOrder(t *testing.T) {
	var in, want strings.Builder
	for i := 0; i < 60000; i++ {
		in.WriteString("{\"text\":\"the cat sat on the mat\"}\n")
		want.WriteString("{\"ids\":[1820,8415,7731,389,279,5634]}\n")
	}
	code, out, errs := runCLI(t, in.String(), "tokenize", "--tokenizer", "cl100k_base", "--workers", "3")
	if code != 0 || out != want.String() {
		t.Fatalf("exit %d (%s); output differs (%d vs %d bytes)", code, errs, len(out), want.Len())
	}
}

func TestTokenizerInfo(t *testing.T) {
	code, out, errs := runCLI(t, "", "tokenizer", "info", "o200k_harmony")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"vocab size:  201088", "<|endoftext|>", "199999", "pattern:"} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := runCLI(t, "", "tokenizer", "info", "no_such_encoding"); code != 1 {
		t.Errorf("unknown encoding: exit %d, want 1", code)
	}
}

func TestAppendIDs_MatchesStrconv(t *testing.T) {
	values := []uint32{0, 1, 9, 10, 99, 100, 101, 999, 1000, 1001, 1010, 9999, 10000, 10001, 99999, 100000,
		100001, 100257, 199999, 200019, 999999, 1000000, 9999999, 10000000, 99999999, 100000000, 999999999, 1000000000, 4294967295}
	every := make([]uint32, 1_100_000) // every id of every vocabulary there is, and beyond
	for i := range every {
		every[i] = uint32(i)
	}
	cases := [][]uint32{nil, {0}, {4294967295}, values, every}
	for _, v := range values {
		cases = append(cases, []uint32{v}, []uint32{v, v + 1, v - 1})
	}
	for _, ids := range cases {
		want := make([]string, len(ids))
		for i, v := range ids {
			want[i] = strconv.FormatUint(uint64(v), 10)
		}
		// After a prefix, into a slice with and without room.
		for _, prefix := range [][]byte{nil, []byte(`{"ids":[`), make([]byte, 3, 1000)} {
			got := appendIDs(prefix, ids)
			if string(got[:len(prefix)]) != string(prefix) || string(got[len(prefix):]) != strings.Join(want, ",") {
				t.Errorf("appendIDs(%q, %v) = %q", prefix, ids, got)
			}
		}
	}
}

func TestTokenize_CompressedFiles(t *testing.T) {
	dir := t.TempDir()
	plain := []byte("{\"text\":\"Hello, world!\"}\n{\"text\":\"a\"}\n")
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()
	want := "{\"ids\":[9906,11,1917,0]}\n{\"ids\":[64]}\n"
	tests := []struct {
		name string
		data []byte
	}{
		{"in.jsonl", plain},
		{"in.jsonl.gz", gz.Bytes()},
		{"in.jsonl.zst", zs.Bytes()},
		{"zstd-without-suffix.jsonl", zs.Bytes()}, // found by its magic bytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, errs := runCLI(t, "", "tokenize", "--tokenizer", "cl100k_base", p)
			if code != 0 || out != want {
				t.Errorf("exit %d, out %q (want %q), stderr %q", code, out, want, errs)
			}
		})
	}
}
