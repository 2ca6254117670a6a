package formats

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

type got struct {
	Line, Off int64
	Raw       string
	TooLong   bool
	Size      int64
}

// eachRecord opens path with opt and calls fn with each record, failing the test on an error.
func eachRecord(tb testing.TB, path string, opt Options, fn func(Record)) {
	tb.Helper()
	r, err := OpenStream(path, opt)
	if err != nil {
		tb.Fatalf("OpenStream(%s): %v", path, err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			tb.Fatalf("Next: %v", err)
		}
		fn(rec)
	}
}

func readAll(t testing.TB, path string, opt Options) []got {
	t.Helper()
	var out []got
	eachRecord(t, path, opt, func(rec Record) {
		out = append(out, got{rec.Line, rec.Offset, string(rec.Raw), rec.TooLong, rec.Size})
	})
	return out
}

func TestLineReader_Lines(t *testing.T) {
	tests := []struct {
		name, in string
		want     []got
	}{
		{"simple", "{\"a\":1}\n{\"b\":2}\n", []got{{1, 0, `{"a":1}`, false, 7}, {2, 8, `{"b":2}`, false, 7}}},
		{"no final newline", "{}\n{\"x\":1}", []got{{1, 0, "{}", false, 2}, {2, 3, `{"x":1}`, false, 7}}},
		{"crlf", "{}\r\n{}\r\n", []got{{1, 0, "{}", false, 2}, {2, 4, "{}", false, 2}}},
		{"bom", "\xEF\xBB\xBF{}\n{}\n", []got{{1, 0, "{}", false, 2}, {2, 6, "{}", false, 2}}},
		{"blank lines", "\n\n{}\n \t\r\n\n{}\n\n", []got{{3, 2, "{}", false, 2}, {6, 10, "{}", false, 2}}},
		{"empty file", "", nil},
		{"only blanks", "\n\r\n  \n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testutil.WriteFile(t, "in.jsonl", []byte(tt.in))
			g := readAll(t, p, Options{})
			if fmt.Sprint(g) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v\nwant %v", g, tt.want)
			}
		})
	}
}

func TestLineReader_TooLong(t *testing.T) {
	long := strings.Repeat("x", 1000)
	in := "{\"a\":1}\n" + long + "\n{\"b\":2}\n" + long + "\r\n" + long
	p := testutil.WriteFile(t, "in.jsonl", []byte(in))
	r, err := OpenStream(p, Options{MaxRecord: 64, PrefixLen: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var g []got
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		g = append(g, got{rec.Line, rec.Offset, string(rec.Raw), rec.TooLong, rec.Size})
		if lr := r.(*lineReader); len(lr.buf) > 65 {
			t.Fatalf("buffer grew to %d bytes with MaxRecord 64", len(lr.buf))
		}
	}
	x10 := strings.Repeat("x", 10)
	want := []got{{1, 0, `{"a":1}`, false, 7}, {2, 8, x10, true, 1000}, {3, 1009, `{"b":2}`, false, 7},
		{4, 1017, x10, true, 1001}, {5, 2019, x10, true, 1000}}
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", g, want)
	}
}

func TestLineReader_Ranges(t *testing.T) {
	var b strings.Builder
	b.WriteString("\xEF\xBB\xBF")
	for i := 0; i < 40; i++ {
		switch i % 7 {
		case 3:
			b.WriteString("\n") // blank
		case 5:
			b.WriteString("{\"i\":" + fmt.Sprint(i) + "}\r\n")
		default:
			b.WriteString("{\"i\":" + fmt.Sprint(i) + ",\"pad\":\"" + strings.Repeat("p", i) + "\"}\n")
		}
	}
	b.WriteString(`{"last":true}`)
	data := b.String()
	p := testutil.WriteFile(t, "in.jsonl", []byte(data))
	whole := readAll(t, p, Options{})
	n := int64(len(data))
	for k := int64(0); k <= n+1; k++ {
		a := readAll(t, p, Options{Range: &Range{Start: 0, End: k}})
		c := readAll(t, p, Options{Range: &Range{Start: k, End: -1}})
		if fmt.Sprint(append(a, c...)) != fmt.Sprint(whole) {
			t.Fatalf("split at %d: %v + %v != %v", k, a, c, whole)
		}
		for _, r := range c {
			if r.Off < k {
				t.Fatalf("split at %d: line at %d starts before the range", k, r.Off)
			}
		}
		// The caller-supplied line number gives the same records.
		if k <= n {
			first := k // the first line starting at or after k
			if k > 0 && data[k-1] != '\n' {
				first = k + int64(strings.IndexByte(data[k:]+"\n", '\n')) + 1
			}
			line := int64(strings.Count(data[:min(first, n)], "\n")) + 1
			c2 := readAll(t, p, Options{Range: &Range{Start: k, End: n, StartLine: line}})
			if fmt.Sprint(c2) != fmt.Sprint(c) {
				t.Fatalf("StartLine at %d: %v != %v", k, c2, c)
			}
		}
	}
	if _, err := OpenStream(p, Options{Range: &Range{Start: 5, End: 2}}); err == nil {
		t.Fatal("inverted range accepted")
	}
}

func TestOpen_Errors(t *testing.T) {
	dir := t.TempDir()
	gz, err := os.ReadFile("testdata/real/cc_en_head-0174.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	zst, err := os.ReadFile(testutil.DemoCorpus(t))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), zst...)
	for i := len(flipped) / 2; i < len(flipped)/2+64; i++ {
		flipped[i] ^= 0x5a
	}
	badgz := append([]byte(nil), gz...)
	badgz[len(badgz)-6] ^= 0xff // CRC32
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"truncated.jsonl.gz", gz[:len(gz)/2], []string{"truncated.jsonl.gz", "line ", "compressed byte"}},
		{"crc.jsonl.gz", badgz, []string{"crc.jsonl.gz", "line "}},
		{"truncated.jsonl.zst", zst[:len(zst)/2], []string{"truncated.jsonl.zst", "line "}},
		{"corrupt.jsonl.zst", flipped, []string{"corrupt.jsonl.zst", "line "}},
		{"notgzip.jsonl.gz", []byte("{}\n"), []string{"notgzip.jsonl.gz", "gzip header"}},
		// A frame header that asks for a 512 MiB window (descriptor 0x98), as zstd --long=29
		// writes for a large file: refused before the window is allocated, and said so.
		{"window.jsonl.zst", []byte("(\xb5/\xfd\x00\x98\t\x00\x00a"), []string{"window.jsonl.zst", "window larger than 128 MiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, tt.data, 0o644); err != nil {
				t.Fatal(err)
			}
			err := drain(p, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if err := drain(filepath.Join(dir, "missing.jsonl"), Options{}); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Fatalf("missing file: %v", err)
	}
}

// TestOpen_TruncatedNamesTheCutLine checks that the error of a compressed file that breaks
// off names the line it cut (the one after the last record read) and the bytes read, not the
// first line of the buffer being refilled when the decompressor failed.
func TestOpen_TruncatedNamesTheCutLine(t *testing.T) {
	dir := t.TempDir()
	for _, src := range []string{"testdata/real/cc_en_head-0174.jsonl.gz", testutil.DemoCorpus(t)} {
		t.Run(filepath.Base(src), func(t *testing.T) {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "cut-"+filepath.Base(src))
			if err := os.WriteFile(p, b[:len(b)*2/3], 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := OpenStream(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var last Record
			var bytesRead int64
			for {
				rec, err := r.Next()
				if err == nil {
					last, bytesRead = rec, rec.Offset+rec.Size+1
					continue
				}
				if errors.Is(err, io.EOF) {
					t.Fatal("no error for a truncated file")
				}
				if last.Line == 0 {
					t.Fatalf("error before any record: %v", err)
				}
				want := fmt.Sprintf("line %d, byte ", last.Line+1)
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q after line %d (byte %d) does not say %q", err, last.Line, bytesRead, want)
				}
				return
			}
		})
	}
}

// drain reads a file to the end and returns the first error other than EOF.
func drain(path string, opt Options) error {
	r, err := OpenStream(path, opt)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		if _, err := r.Next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}
