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

// A finalize attempt killed between its publish's two renames leaves no output directory:
// the one it moved aside (.<out>.old-<job>.f<N>, holding the job's staging area) and its
// temporary directory are beside it. The next attempt puts the one moved aside back, so
// that the staged files are where it reads them; another job's are not touched. With the
// output in place nothing is moved.
func TestUndoHalfPublish(t *testing.T) {
	tests := []struct {
		name      string
		files     []string // made before
		wantAside string
		want      []string // files after
	}{
		{"killed between the renames",
			[]string{".out.old-j1.f0/.staging/j1/000000/0/train.u32", ".out.tmp-j1.f0/manifest.json",
				".out.old-j2.f3/.staging/j2/000000/0/train.u32"},
			".out.old-j1.f0",
			[]string{".out.old-j2.f3/.staging/j2/000000/0/train.u32", ".out.tmp-j1.f0/manifest.json",
				"out/.staging/j1/000000/0/train.u32"}},
		{"an older output moved aside with the staging area",
			[]string{".out.old-j1.f2/train_16.npy", ".out.old-j1.f2/.staging/j1/000001/1/val.u32"},
			".out.old-j1.f2",
			[]string{"out/.staging/j1/000001/1/val.u32", "out/train_16.npy"}},
		{"output in place",
			[]string{"out/.staging/j1/000000/0/train.u32", ".out.old-j1.f0/.staging/j1/000000/0/train.u32"},
			"",
			[]string{".out.old-j1.f0/.staging/j1/000000/0/train.u32", "out/.staging/j1/000000/0/train.u32"}},
		{"another job's only", []string{".out.old-j2.f0/.staging/j2/000000/0/train.u32"}, "",
			[]string{".out.old-j2.f0/.staging/j2/000000/0/train.u32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := &job.Spec{Output: job.Output{Dir: filepath.Join(dir, "out")}}
			for _, p := range tt.files {
				p = filepath.Join(dir, p)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("b"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			aside, err := undoHalfPublish(spec, "j1")
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, tt.wantAside); tt.wantAside != "" && aside != want || tt.wantAside == "" && aside != "" {
				t.Errorf("put back %q, want %q", aside, tt.wantAside)
			}
			var left []string
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dir, p)
					left = append(left, filepath.ToSlash(rel))
				}
				return err
			})
			if !slices.Equal(left, tt.want) {
				t.Errorf("files %v, want %v", left, tt.want)
			}
		})
	}
}
