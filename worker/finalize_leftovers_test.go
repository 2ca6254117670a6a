package worker

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

// A finalize attempt killed in the middle of its publish leaves the published output with
// the directory it moved aside, or its temporary directory, beside it; the attempt that
// finds the output published removes them and the job's staging root, and nothing of
// another job.
func TestRemoveFinalizeLeftovers_OfTheJobOnly(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	spec := &job.Spec{Output: job.Output{Dir: out}}
	for _, p := range []string{
		filepath.Join(out, "manifest.json"),
		filepath.Join(stagingRoot(spec, "j1"), "shard-0", "0", "part"),
		filepath.Join(dir, ".out.old-j1.f0", "x"),
		filepath.Join(dir, ".out.tmp-j1.f1", "y"),
		filepath.Join(dir, ".out.old-j2.f0", "z"),
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("b"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removeFinalizeLeftovers(spec, "j1")
	var left []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			left = append(left, filepath.ToSlash(rel))
		}
		return err
	})
	if want := []string{".out.old-j2.f0/z", "out/manifest.json"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
