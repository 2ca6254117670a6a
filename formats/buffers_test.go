package formats

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// Readers that share one Buffers, one after the other, read exactly what readers with their own
// memory read: whatever the compression of the file before, after a file that failed midway,
// and with a record limit smaller than the buffer a previous file grew.
func TestBuffers_ReusedAcrossFiles(t *testing.T) {
	long := `{"text":"` + strings.Repeat("x", 600<<10) + `"}`
	lines := []byte("{\"text\":\"a\"}\n\n{\"text\":\"b\"}\r\n" + long + "\n{\"text\":\"c\"}")
	zst := testutil.Zstd(t, lines)
	files := []struct {
		name string
		data []byte
		opt  Options
	}{
		{"plain.jsonl", lines, Options{}},
		{"a.jsonl.zst", zst, Options{}},
		{"b.jsonl.gz", testutil.Gzip(t, lines), Options{}},
		{"truncated.jsonl.zst", zst[:len(zst)/2], Options{}},
		{"c.jsonl.zst", zst, Options{}},
		{"small-limit.jsonl.zst", zst, Options{MaxRecord: 1000}},
		{"truncated.jsonl.gz", testutil.Gzip(t, lines)[:200], Options{}},
		{"d.jsonl.gz", testutil.Gzip(t, lines), Options{MaxRecord: 100 << 10}},
		{"e.jsonl", lines, Options{MaxRecord: 1000}},
		// Text files, one document each, read into the lent line buffer.
		{"big.txt", []byte(strings.Repeat("big text ", 80<<10)), Options{}},
		{"small.txt", []byte("small"), Options{}},
		{"bom.txt", []byte("\xef\xbb\xbfwith a BOM"), Options{}},
		{"over.txt", []byte(strings.Repeat("y", 5000)), Options{MaxRecord: 1000}},
		{"t.txt.zst", testutil.Zstd(t, []byte(strings.Repeat("compressed text ", 1000))), Options{}},
		{"cut.txt.gz", testutil.Gzip(t, []byte(strings.Repeat("z", 100000)))[:150], Options{}},
		{"after.txt", []byte("the last one"), Options{}},
	}
	var shared Buffers
	defer shared.Close()
	for _, f := range files {
		path := testutil.WriteFile(t, f.name, f.data)
		want, wantErr := readRows(t, path, f.opt)
		opt := f.opt
		opt.Buffers = &shared
		got, gotErr := readRows(t, path, opt)
		if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) {
			t.Fatalf("%s: error %v with shared buffers, %v without", f.name, gotErr, wantErr)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: shared buffers read %d records, own memory %d; they differ", f.name, len(got), len(want))
		}
		if shared.busy {
			t.Fatalf("%s: buffers still marked busy after Close", f.name)
		}
	}
	if shared.zstd == nil || shared.gzip == nil || cap(shared.line) < 600<<10 {
		t.Fatalf("buffers kept nothing: zstd %v, gzip %v, line buffer %d bytes", shared.zstd != nil, shared.gzip != nil, cap(shared.line))
	}
}

// A second reader opened while the first holds the Buffers allocates its own memory instead
// of sharing it.
func TestBuffers_OneReaderAtATime(t *testing.T) {
	lines := []byte("{\"text\":\"a\"}\n{\"text\":\"b\"}\n")
	p1 := testutil.WriteFile(t, "one.jsonl.zst", testutil.Zstd(t, lines))
	p2 := testutil.WriteFile(t, "two.jsonl.zst", testutil.Zstd(t, bytes.ReplaceAll(lines, []byte("a"), []byte("z"))))
	var shared Buffers
	defer shared.Close()
	r1, err := OpenStream(p1, Options{Buffers: &shared})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := OpenStream(p2, Options{Buffers: &shared})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{`{"text":"a"}`, `{"text":"z"}`, `{"text":"b"}`, `{"text":"b"}`} {
		r := []Reader{r1, r2}[i%2]
		rec, err := r.Next()
		if err != nil || string(rec.Raw) != want {
			t.Fatalf("record %d: %q, %v; want %q", i, rec.Raw, err, want)
		}
	}
	r1.Close()
	r2.Close()
	if shared.busy {
		t.Fatal("buffers still busy after both readers closed")
	}
}
