package testutil

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// RepoRoot returns the directory of the module's go.mod, found from the working directory
// (a test's is its package directory) upwards.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// DemoCorpus returns the path of the demo corpus, testdata/corpus/jargon.jsonl.zst: the 2,307
// entries of the Jargon File as JSONL records with a "text" field, zstd-compressed.
func DemoCorpus(t testing.TB) string {
	t.Helper()
	return filepath.Join(RepoRoot(t), "testdata", "corpus", "jargon.jsonl.zst")
}

// DemoLines returns the lines of the demo corpus, decompressed, without their newlines.
func DemoLines(t testing.TB) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(DemoCorpus(t))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zstd.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		lines = append(lines, slices.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil || len(lines) == 0 {
		t.Fatalf("demo corpus %s: %v (%d lines)", DemoCorpus(t), err, len(lines))
	}
	return lines
}

// Zstd returns b compressed as one zstd frame.
func Zstd(t testing.TB, b []byte) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll(b, nil)
}

// Gzip returns b compressed as one gzip member.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// python3 is the interpreter the NumPy and SentencePiece checks run: Debian's, where CI installs
// python3-numpy and python3-sentencepiece.
const python3 = "/usr/bin/python3"

// NumPy returns the path of a python3 that imports numpy. Without one it skips the test, or
// fails it when the environment variable CI is set (CI installs NumPy, so a missing one there
// is a broken setup, not a reason to skip).
func NumPy(t testing.TB) string {
	t.Helper()
	if err := exec.Command(python3, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("NumPy is required under CI: %s -c 'import numpy': %v (apt-get install python3-numpy)", python3, err)
		}
		t.Skipf("NumPy not available: %s -c 'import numpy': %v; install python3-numpy", python3, err)
	}
	return python3
}

// SentencePiece returns the path of a python3 that imports sentencepiece (Debian's
// python3-sentencepiece, Google's SentencePiece library). Without one it skips the test, or fails
// it when the environment variable CI is set, as NumPy does.
func SentencePiece(t testing.TB) string {
	t.Helper()
	if err := exec.Command(python3, "-c", "import sentencepiece").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("SentencePiece is required under CI: %s -c 'import sentencepiece': %v (apt-get install python3-sentencepiece)", python3, err)
		}
		t.Skipf("SentencePiece not available: %s -c 'import sentencepiece': %v; install python3-sentencepiece", python3, err)
	}
	return python3
}

// ReadTree returns the content of every regular file under dir, keyed by its slash-separated
// path relative to dir. Files and directories whose name is one of skip are left out (a
// skipped directory with everything below it).
func ReadTree(t testing.TB, dir string, skip ...string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case p != dir && slices.Contains(skip, d.Name()) && d.IsDir():
			return filepath.SkipDir
		case d.IsDir() || slices.Contains(skip, d.Name()):
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// SameTree reports, as errors of t prefixed with what, each file of want that got lacks or
// holds with other bytes, and each file of got that want lacks.
func SameTree(t testing.TB, what string, want, got map[string][]byte) {
	t.Helper()
	for _, d := range treeDiffs(want, got) {
		t.Errorf("%s: %s", what, d)
	}
}

// treeDiffs returns one line per file that differs between want and got, in name order.
func treeDiffs(want, got map[string][]byte) []string {
	var diffs []string
	for _, name := range slices.Sorted(maps.Keys(want)) {
		switch b, ok := got[name]; {
		case !ok:
			diffs = append(diffs, name+" is missing")
		case !bytes.Equal(b, want[name]):
			diffs = append(diffs, name+" differs")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, name+" is extra")
		}
	}
	return diffs
}

// WriteFile writes data to a file named name in a new temporary directory of the test and
// returns its path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// DirNames lists the names in dir, hidden ones included, in order.
func DirNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
