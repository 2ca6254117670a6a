package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// ReplaceDir leaves the new directory at dir and nothing beside it, whether dir existed or
// not; the aside name may be left over from a killed run.
func TestReplaceDir_PutsTheNewDirInPlace(t *testing.T) {
	tests := []struct {
		name             string
		existing, leftOv bool
	}{
		{"new", false, false},
		{"replaces", true, false},
		{"replaces over a leftover aside dir", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir, tmp, aside := filepath.Join(parent, "out"), filepath.Join(parent, ".out.tmp"), filepath.Join(parent, ".out.old")
			mkfile(t, filepath.Join(tmp, "new.txt"), "new")
			if tt.existing {
				mkfile(t, filepath.Join(dir, "old.txt"), "old")
			}
			if tt.leftOv {
				mkfile(t, filepath.Join(aside, "stale.txt"), "stale")
			}
			if err := ReplaceDir(tmp, dir, aside); err != nil {
				t.Fatal(err)
			}
			names := testutil.DirNames(t, parent)
			if len(names) != 1 || names[0] != "out" {
				t.Errorf("parent holds %v, want [out]", names)
			}
			if got := testutil.DirNames(t, dir); len(got) != 1 || got[0] != "new.txt" {
				t.Errorf("out holds %v, want [new.txt]", got)
			}
		})
	}
}

// A failed rename of tmp (it does not exist) puts the old directory back.
func TestReplaceDir_RestoresTheOldDirOnFailure(t *testing.T) {
	parent := t.TempDir()
	dir, aside := filepath.Join(parent, "out"), filepath.Join(parent, ".out.old")
	mkfile(t, filepath.Join(dir, "old.txt"), "old")
	if err := ReplaceDir(filepath.Join(parent, "missing"), dir, aside); err == nil {
		t.Fatal("ReplaceDir of a missing tmp succeeded")
	}
	if got := testutil.DirNames(t, dir); len(got) != 1 || got[0] != "old.txt" {
		t.Errorf("out holds %v after the failure, want [old.txt]", got)
	}
}

// WriteFile and Publish put the bytes at the final name and leave no temporary file.
func TestPublish_WrittenFileAppearsAtItsName(t *testing.T) {
	parent := t.TempDir()
	tmp, dst := filepath.Join(parent, ".a.tmp"), filepath.Join(parent, "a")
	if err := WriteFile(tmp, []byte("bytes")); err != nil {
		t.Fatal(err)
	}
	if err := Publish(tmp, dst); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(dst); err != nil || string(b) != "bytes" {
		t.Errorf("read %q, %v; want bytes", b, err)
	}
	if names := testutil.DirNames(t, parent); len(names) != 1 {
		t.Errorf("parent holds %v, want [a]", names)
	}
}

func mkfile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
