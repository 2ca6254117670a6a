package testutil

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestDemoLines_AreTheJargonRecords(t *testing.T) {
	lines := DemoLines(t)
	if len(lines) != 2307 {
		t.Errorf("%d lines, want 2307", len(lines))
	}
	var rec struct{ Text string }
	if err := json.Unmarshal(lines[0], &rec); err != nil || rec.Text == "" {
		t.Errorf("first line %.80q: text %q, %v", lines[0], rec.Text, err)
	}
}

func TestCompression_RoundTrips(t *testing.T) {
	data := bytes.Repeat([]byte("tokenmill "), 1000)
	zr, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if got, err := zr.DecodeAll(Zstd(t, data), nil); err != nil || !bytes.Equal(got, data) {
		t.Errorf("zstd round trip: %d bytes, %v", len(got), err)
	}
	gr, err := gzip.NewReader(bytes.NewReader(Gzip(t, data)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(gr); err != nil || !bytes.Equal(got, data) {
		t.Errorf("gzip round trip: %d bytes, %v", len(got), err)
	}
}

func TestReadTree_SkipsNamesAndKeysBySlashPath(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"manifest.json":         "m",
		"run.json":              "skipped",
		"train_64/data.arrow":   "a",
		".staging/j/0/x.arrow":  "skipped",
		"val_64/run.json":       "skipped too: skip is by name",
		"val_64/deeper/x.arrow": "x",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := ReadTree(t, dir, "run.json", ".staging")
	want := map[string][]byte{"manifest.json": []byte("m"), "train_64/data.arrow": []byte("a"), "val_64/deeper/x.arrow": []byte("x")}
	if d := treeDiffs(want, got); d != nil {
		t.Errorf("ReadTree: %q", d)
	}
}

func TestTreeDiffs(t *testing.T) {
	a := map[string][]byte{"a": []byte("1"), "b": []byte("2"), "c": []byte("3")}
	b := map[string][]byte{"a": []byte("1"), "b": []byte("X"), "d": []byte("4")}
	want := []string{"b differs", "c is missing", "d is extra"}
	if got := treeDiffs(a, b); !slices.Equal(got, want) {
		t.Errorf("treeDiffs = %q, want %q", got, want)
	}
	if got := treeDiffs(a, a); got != nil {
		t.Errorf("treeDiffs of a tree with itself = %q", got)
	}
}

func TestNumPy_ImportsNumpy(t *testing.T) {
	out, err := exec.Command(NumPy(t), "-c", "import numpy; print(numpy.zeros(3).shape)").CombinedOutput()
	if err != nil || string(out) != "(3,)\n" {
		t.Errorf("numpy: %q, %v", out, err)
	}
}
