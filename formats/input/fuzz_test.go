package input

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	pq "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/internal/formatstest"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// fuzzKinds are the files FuzzOpen writes its input as (kind % len(fuzzKinds) picks one):
// every format a worker reads from a single file, compressed JSONL included. The name alone
// selects the reader, as the planner's file names do, except for the HF data file, which
// the planner hands over with Format FormatHF.
var fuzzKinds = []struct {
	name   string
	format formats.Format
}{
	{"in.jsonl", formats.FormatAuto},
	{"in.jsonl.gz", formats.FormatAuto},
	{"in.jsonl.zst", formats.FormatAuto},
	{"in.json", formats.FormatAuto}, // a JSON array, found by sniffing
	{"in.csv", formats.FormatAuto},
	{"in.txt", formats.FormatAuto},
	{"in.parquet", formats.FormatAuto},
	{"data-00000-of-00001.arrow", formats.FormatHF},
}

const (
	// fuzzMaxRecord is small so that inputs of a few kilobytes reach the too-long paths.
	fuzzMaxRecord = 4096
	// fuzzMaxRecords caps the records read of one input, so that a file that claims
	// millions of rows (a few bytes of a Parquet or Arrow file can declare that many nulls)
	// cannot make one input run for minutes: reading them is correct, just slow.
	fuzzMaxRecords = 10000
	// fuzzAllocLimit bounds the heap one input may allocate. The inputs are small and
	// records are bounded at 4 KiB; the largest legitimate buffer is a zstd window, which
	// the readers bound at ZstdMaxWindow. More means a reader sized memory from a length
	// field of the corrupt file.
	fuzzAllocLimit = formats.ZstdMaxWindow + 64<<20
)

// FuzzOpen writes its input as a file of one format and reads it through Open (hf.OpenFile
// for the HF data file) and OpenRows, as a worker does. Whatever the bytes, a reader must
// not panic, hang or allocate without bound; every error it returns must name the file (a
// job's error message is all a user has to find the corrupt one among thousands); and a
// reader that returned an error must not go on handing out records as if nothing happened
// (Reader: "the position where reading broke"; RowReader: "cannot be read further").
//
// The seeds are valid small files of every kind, written by this package's writers and
// arrow-go, plus truncated copies and copies with a few bytes flipped, so that the mutator
// starts from inside each format rather than from its first magic bytes.
func FuzzOpen(f *testing.F) {
	for i, k := range fuzzKinds {
		for _, data := range fuzzSeeds(f, k.name) {
			for _, v := range damaged(data) {
				f.Add(v, uint8(i))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, kind uint8) {
		k := fuzzKinds[int(kind)%len(fuzzKinds)]
		path := filepath.Join(t.TempDir(), k.name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opt := formats.Options{Format: k.format, Field: "text", MaxRecord: fuzzMaxRecord}
		n := testutil.HeapAllocated(func() {
			fuzzRecords(t, path, opt)
			fuzzRows(t, path, opt)
		})
		if n > fuzzAllocLimit {
			t.Fatalf("%s of %d bytes: reading it allocated %d MiB", k.name, len(data), n>>20)
		}
	})
}

// fuzzRecords reads path through Open, or hf.OpenFile for an HF data file (Open takes a
// FormatHF path for a save_to_disk directory).
func fuzzRecords(t *testing.T, path string, opt formats.Options) {
	var r formats.Reader
	var err error
	if opt.Format == formats.FormatHF {
		r, err = hf.OpenFile(path, opt)
	} else {
		r, err = Open(path, opt)
	}
	if err != nil {
		namesFile(t, path, "Open", err)
		return
	}
	defer r.Close()
	for n := 0; n < fuzzMaxRecords; n++ {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			namesFile(t, path, "Next", err)
			if rec, err := r.Next(); err == nil {
				t.Fatalf("Next after the error returned a record: %s %q", rec.Where(), rec.Raw)
			}
			return
		}
		if rec.Source != path {
			t.Fatalf("record %s: Source is not the file %s", rec.Where(), path)
		}
		// MaxRecord bounds a record as written in the file (Size), and what a reader keeps
		// of a too-long one. Raw is not bounded by it otherwise: a CSV row's Raw is its JSON
		// re-encoding, up to 6 bytes (\ufffd) for one invalid byte of the row.
		if len(rec.Value) > fuzzMaxRecord || !rec.TooLong && rec.Size > fuzzMaxRecord || rec.TooLong && len(rec.Raw) > fuzzMaxRecord {
			t.Fatalf("record %s: size %d (too long: %v), %d raw, %d value bytes: past the %d-byte limit",
				rec.Where(), rec.Size, rec.TooLong, len(rec.Raw), len(rec.Value), fuzzMaxRecord)
		}
	}
}

// fuzzRows reads path through OpenRows.
func fuzzRows(t *testing.T, path string, opt formats.Options) {
	rr, err := OpenRows(path, opt)
	if err != nil {
		namesFile(t, path, "OpenRows", err)
		return
	}
	defer rr.Close()
	for n := 0; n < fuzzMaxRecords; n++ {
		row, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			namesFile(t, path, "rows: Next", err)
			if row, err := rr.Next(); err == nil {
				t.Fatalf("rows: Next after the error returned row %d of %s", row.Row, row.Source)
			}
			return
		}
		// A record's own error (malformed JSON, too long) is located by the row's Source.
		if row.Source != path {
			t.Fatalf("row %d: Source %q is not the file %s", row.Row, row.Source, path)
		}
	}
}

func namesFile(t *testing.T, path, what string, err error) {
	t.Helper()
	if !strings.Contains(err.Error(), filepath.Base(path)) {
		t.Fatalf("%s: the error does not name the file %s: %v", what, filepath.Base(path), err)
	}
}

// damaged returns data, copies cut short, and copies with bytes flipped near the start (magic
// and headers), the middle, and the end (Parquet's footer, Arrow's end-of-stream marker).
func damaged(data []byte) [][]byte {
	out := [][]byte{data}
	n := len(data)
	if n < 2 {
		return out
	}
	for _, cut := range []int{n / 2, n - 1, min(n-1, 9)} {
		out = append(out, data[:cut])
	}
	for _, at := range []int{5, n / 2, n - 9} {
		if at < 0 || at >= n {
			continue
		}
		b := append([]byte(nil), data...)
		b[at] ^= 0xff
		out = append(out, b)
	}
	return out
}

// fuzzSeeds returns valid files of the kind name stands for.
func fuzzSeeds(tb testing.TB, name string) [][]byte {
	long := strings.Repeat("long ", fuzzMaxRecord/4) // past MaxRecord: a too-long record
	jsonl := "\xEF\xBB\xBF{\"text\":\"a\"}\n\n{\"text\":null,\"n\":[1,{\"b\":2.5}]}\r\n{\"text\":\"" + long +
		"\"}\n{\"text\":\"\\u00e9\\ud83d\\ude00\"}\n[1]\n{\"text\":\"no newline at the end\"}"
	switch name {
	case "in.jsonl":
		return [][]byte{[]byte(jsonl), []byte("{\"text\":\"x\"}\n{bad\n{\"text\":\"y\"}\n")}
	case "in.jsonl.gz":
		return [][]byte{testutil.Gzip(tb, []byte(jsonl))}
	case "in.jsonl.zst":
		return [][]byte{testutil.Zstd(tb, []byte(jsonl))}
	case "in.json":
		return [][]byte{[]byte("\xEF\xBB\xBF [{\"text\":\"a\"},\n {\"text\":null}, {\"x\":[1,\"]\"]}, 5, {\"text\":\"" + long + "\"}, {\"text\":\"z\"}]\n"),
			[]byte("[]")}
	case "in.csv":
		return [][]byte{[]byte("\xEF\xBB\xBFid,text\r\n1,hello\r\n2,\"multi\nline, \"\"quoted\"\"\"\n\n3\n4," + long + "\n5,\"last\"")}
	case "in.txt":
		return [][]byte{[]byte("\xEF\xBB\xBFline one\r\nline two\n"), []byte(long)}
	case "in.parquet":
		texts := []*string{new("a"), nil, new("é😀"), new(long), new(""), new("a")}
		var out [][]byte
		for _, props := range [][]pq.WriterProperty{
			nil, // dictionary-encoded, uncompressed
			{pq.WithDictionaryDefault(false), pq.WithCompression(compress.Codecs.Snappy)},
			{pq.WithCompression(compress.Codecs.Zstd), pq.WithDataPageVersion(pq.DataPageV2)},
		} {
			out = append(out, readSeed(tb, formatstest.WriteParquet(tb, texts, 4, props...)))
		}
		// A footer that claims a 1 TiB column chunk (see TestParquet_FooterClaimsBoundMemory).
		return append(out, formatstest.WithChunkClaim(tb, out[0], 1, formatstest.ClaimCompressed, 1<<40))
	case "data-00000-of-00001.arrow":
		return [][]byte{hfTableSeed(tb), hfTokenSeed(tb),
			formatstest.CompressedStream(tb, ipc.WithZstd(), "zstd", strings.Repeat("body ", 100)),
			formatstest.CompressedStream(tb, ipc.WithLZ4(), "lz4", strings.Repeat("body ", 100))}
	}
	tb.Fatalf("no seeds for %s", name)
	return nil
}

func new(s string) *string { return &s }

func readSeed(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// hfTableSeed is the data file of an HF directory with a text column and nested columns (a
// list of numbers, a list of structs), in two record batches.
func hfTableSeed(tb testing.TB) []byte {
	tb.Helper()
	var sb table.SchemaBuilder
	var recs []map[string]any
	for _, l := range []string{
		`{"text": "hello", "ids": [1, 2], "messages": [{"role": "user", "content": "hi"}], "score": 1.5}`,
		`{"text": null, "ids": [], "messages": [], "score": 2}`,
		`{"text": "é😀", "ids": [3], "messages": [{"role": "assistant", "content": "yo"}, {"role": "user"}], "score": 0}`,
	} {
		v, order, err := formats.DecodeJSON([]byte(l))
		if err != nil {
			tb.Fatal(err)
		}
		if err := sb.AddRecord(v.(map[string]any), order[""], order); err != nil {
			tb.Fatal(err)
		}
		recs = append(recs, v.(map[string]any))
	}
	dir := filepath.Join(tb.TempDir(), "ds")
	w, err := hf.CreateTable(dir, sb.Schema(), hf.Options{BatchRows: 2})
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return readSeed(tb, onlyDataFile(tb, dir))
}

// hfTokenSeed is the data file of a token-id directory as hf.Create writes it (no text
// column: Open fails on it, OpenRows reads it).
func hfTokenSeed(tb testing.TB) []byte {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "tok")
	w, err := hf.Create(dir, hf.Options{DType: formats.Uint16, BatchRows: 3})
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range formatstest.TokenRows(5) {
		if err := w.WriteRow64(r); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return readSeed(tb, onlyDataFile(tb, dir))
}

// onlyDataFile returns the one data file of the save_to_disk directory dir.
func onlyDataFile(tb testing.TB, dir string) string {
	tb.Helper()
	st, err := hf.ReadState(dir)
	if err != nil || len(st.DataFiles) != 1 {
		tb.Fatalf("%s: %v, %d data files", dir, err, len(st.DataFiles))
	}
	return filepath.Join(dir, st.DataFiles[0].Filename)
}
