package input

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/internal/formatstest"
)

// TestOpen_ByContent checks that the readers follow the content where it contradicts the name:
// a Parquet file named .jsonl is read as Parquet, a gzip file named .jsonl decompressed, and an
// Arrow IPC file or a compressed Parquet file refused with an error naming the file.
func TestOpen_ByContent(t *testing.T) {
	dir := t.TempDir()
	pq, err := os.ReadFile(formatstest.WriteParquet(t, []*string{new("first"), new("second")}, 10))
	if err != nil {
		t.Fatal(err)
	}
	body := filepath.Join(dir, "body.jsonl")
	if err := os.WriteFile(body, pq, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := texts(t, body, formats.Options{Field: "text"}); strings.Join(got, ",") != "first,second" {
		t.Fatalf("Open(%s) = %q, want the Parquet rows", body, got)
	}
	rr, err := OpenRows(body, formats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	row, err := rr.Next()
	if err != nil || rr.Schema() == nil || row.Value.(map[string]any)["text"] != "first" {
		t.Fatalf("OpenRows(%s): first row %+v, %v, schema %v; want a Parquet row", body, row, err, rr.Schema())
	}
	rr.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("{\"text\": \"zipped\"}\n"))
	zw.Close()
	zipped := filepath.Join(dir, "zipped.jsonl")
	if err := os.WriteFile(zipped, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := texts(t, zipped, formats.Options{Field: "text"}); strings.Join(got, ",") != "zipped" {
		t.Fatalf("Open(%s) = %q", zipped, got)
	}
	for name, data := range map[string][]byte{"file.arrow": []byte("ARROW1\x00\x00\xff\xff\xff\xff...."), "pq.parquet.gz": append([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), pq...)} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(p, formats.Options{}); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("Open(%s) error = %v, want one naming the file", p, err)
		}
		if _, err := OpenRows(p, formats.Options{}); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("OpenRows(%s) error = %v, want one naming the file", p, err)
		}
	}
}
