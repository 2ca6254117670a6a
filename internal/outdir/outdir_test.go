package outdir

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// tree creates files (path -> content, relative to dir; a path ending in / is a
// directory) and returns dir.
func tree(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// inDir runs the test in dir, so that relative paths are the user's.
func inDir(t *testing.T, dir string) {
	t.Helper()
	t.Chdir(dir)
}

func TestCheckInputs(t *testing.T) {
	dir := tree(t, t.TempDir(), map[string]string{
		"sb/corpus.jsonl":          "{}\n",
		"sb/thesis.txt":            "mine",
		"data/deep/er/part.jsonl":  "{}\n",
		"globbed/a/x.jsonl":        "{}\n",
		"files/in.jsonl":           "{}\n",
		"hfdir/state.json":         "{}",
		"elsewhere/nothing-here/":  "",
		"corpora/one/two.jsonl.gz": "",
	})
	inDir(t, dir)
	if err := os.Symlink("sb", "link"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		out    string
		inputs []string
		want   string // "" means accepted
	}{
		{"output holds the input file", "sb", []string{"sb/corpus.jsonl"}, "output sb holds the input sb/corpus.jsonl"},
		{"./sb", "./sb", []string{"sb/corpus.jsonl"}, "output ./sb holds the input sb/corpus.jsonl"},
		{"sb/../sb", "sb/../sb", []string{"sb/corpus.jsonl"}, "holds the input sb/corpus.jsonl"},
		{"symlink to sb", "link", []string{"sb/corpus.jsonl"}, "output link holds the input sb/corpus.jsonl"},
		{"input through the symlink", "sb", []string{"link/corpus.jsonl"}, "output sb holds the input link/corpus.jsonl"},
		{"absolute input", "sb", []string{filepath.Join(dir, "sb/corpus.jsonl")}, "holds the input"},
		{"output is the input file", "files/in.jsonl", []string{"files/in.jsonl"}, "output files/in.jsonl is the input files/in.jsonl"},
		{"output is the input directory", "data", []string{"data"}, "output data is the input data"},
		{"output holds an input at depth", "data", []string{"data/deep/er/part.jsonl"}, "holds the input"},
		{"output inside the input directory", "data/deep/out", []string{"data"}, "output data/deep/out lies inside the input directory data"},
		{"output is a glob's root", "globbed", []string{"globbed/*/*.jsonl"}, "output globbed is the directory that input globbed/*/*.jsonl reads"},
		{"output inside a glob's root", "globbed/out", []string{"globbed/**/*.jsonl"}, "output globbed/out lies inside globbed, which input globbed/**/*.jsonl reads"},
		{"output inside an HF input", "hfdir/out", []string{"hfdir"}, "lies inside the input directory hfdir"},
		{"root holds everything", "/", []string{"sb/corpus.jsonl"}, "output / holds the input"},
		{"beside an input file", "files/out", []string{"files/in.jsonl"}, ""},
		{"elsewhere", "elsewhere/out", []string{"sb/corpus.jsonl", "data", "globbed/*/*.jsonl"}, ""},
		{"a name sharing a prefix", "sb2", []string{"sb/corpus.jsonl", "sb"}, ""},
		{"not yet existing output", "new/out", []string{"corpora/*/*.jsonl.gz"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckInputs(tt.out, tt.inputs)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// ourManifest is a manifest.json of tokenmill's shape listing the given bucket paths.
const ourManifest = `{"format_version": 1, "job": {"name": "x"}, "job_fingerprint": "ab12",
  "buckets": [{"paths": ["train_8", "train_8.npy"]}, {"paths": ["val_8", "val_8.npy"]}],
  "rejects": {"path": "rejects.jsonl", "count": 0}}`

const recordsManifest = `{"format_version": 1, "kind": "validate", "job": {"kind": "validate"},
  "job_fingerprint": "cd34", "outputs": ["report.json", "report.txt"]}`

func jobOutput(extra map[string]string) map[string]string {
	files := map[string]string{
		"out/manifest.json":                     ourManifest,
		"out/run.json":                          "{}",
		"out/rejects.jsonl":                     "",
		"out/train_8.npy":                       "x",
		"out/val_8.npy":                         "x",
		"out/train_8/data-00000-of-00001.arrow": "x",
		"out/train_8/state.json":                "{}",
		"out/train_8/dataset_info.json":         "{}",
		"out/val_8/data-00000-of-00001.arrow":   "x",
		"out/val_8/state.json":                  "{}",
		"out/val_8/dataset_info.json":           "{}",
		"out/.staging/job/000001/0/rows":        "x",
	}
	for k, v := range extra {
		files[k] = v
	}
	return files
}

func TestCheckReplace(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		kind      Kind
		overwrite bool
		want      string // "" means accepted
	}{
		{"missing", nil, KindJob, false, ""},
		{"empty directory", map[string]string{"out/": ""}, KindJob, false, ""},
		{"only the staging area", map[string]string{"out/.staging/j/": ""}, KindJob, false, ""},
		{"our output without overwrite", jobOutput(nil), KindJob, false, "output directory out exists (use --overwrite"},
		{"our output with overwrite", jobOutput(nil), KindJob, true, ""},
		{"records output", map[string]string{"out/manifest.json": recordsManifest, "out/report.json": "{}",
			"out/report.txt": "", "out/run.json": "{}"}, KindJob, true, ""},
		{"stray file", jobOutput(map[string]string{"out/thesis.txt": "mine"}), KindJob, true,
			"output out holds out/thesis.txt, which tokenmill did not write"},
		{"stray file without overwrite", jobOutput(map[string]string{"out/thesis.txt": "mine"}), KindJob, false,
			"output out holds out/thesis.txt, which tokenmill did not write"},
		{"stray file in a bucket", jobOutput(map[string]string{"out/train_8/notes.md": "mine"}), KindJob, true,
			"output out holds out/train_8/notes.md"},
		{"stray directory", jobOutput(map[string]string{"out/train_9/": ""}), KindJob, true, "output out holds out/train_9,"},
		{"unlisted output name", jobOutput(map[string]string{"out/report.json": "{}"}), KindJob, true, "output out holds out/report.json"},
		{"no manifest", map[string]string{"out/corpus.jsonl": "{}", "out/thesis.txt": "mine"}, KindJob, true,
			"output out is not a tokenmill output (it holds out/corpus.jsonl and no manifest.json)"},
		{"a manifest that is not ours", map[string]string{"out/manifest.json": `{"name": "my web app", "icons": []}`}, KindJob, true,
			"output out: out/manifest.json is not a tokenmill manifest"},
		{"a manifest that is not JSON", map[string]string{"out/manifest.json": "version: 1"}, KindJob, true, "is not a tokenmill manifest"},
		{"a file", map[string]string{"out": "mine"}, KindJob, true, "output out exists and is not a directory"},
		{"HF dataset with overwrite", map[string]string{"out/data-00000-of-00001.arrow": "x", "out/state.json": "{}",
			"out/dataset_info.json": "{}"}, KindHF, true, ""},
		{"HF dataset without overwrite", map[string]string{"out/state.json": "{}"}, KindHF, false, "output out exists (use --overwrite"},
		{"HF dataset with a stray file", map[string]string{"out/state.json": "{}", "out/thesis.txt": "mine"}, KindHF, true,
			"output out holds out/thesis.txt, which is not part of a dataset tokenmill writes"},
		{"HF over a job output", jobOutput(nil), KindHF, true, "output out holds out/.staging"},
		{"file replaced", map[string]string{"out": "old"}, KindFile, true, ""},
		{"file without overwrite", map[string]string{"out": "old"}, KindFile, false, "output out exists (use --overwrite"},
		{"directory for a file", map[string]string{"out/a": ""}, KindFile, true, "output out is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tree(t, t.TempDir(), tt.files))
			err := CheckReplace("out", tt.kind, tt.overwrite)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAcquire_SecondHolderRefusedNamingPID(t *testing.T) {
	dir := tree(t, t.TempDir(), map[string]string{"sb/": ""})
	inDir(t, dir)
	if err := os.Symlink("sb", "link"); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire("sb")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ".sb.lock"))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q (%v), want our pid %d", b, err, os.Getpid())
	}
	for _, name := range []string{"sb", "./sb", "sb/../sb", "link", filepath.Join(dir, "sb")} {
		_, err := Acquire(name)
		var busy *BusyError
		if !errors.As(err, &busy) || busy.PID != os.Getpid() || !strings.Contains(err.Error(), "output "+name+" is in use") ||
			!strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
			t.Errorf("second Acquire(%s): %v, want a BusyError naming it and pid %d", name, err, os.Getpid())
		}
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".sb.lock")); !os.IsNotExist(err) {
		t.Errorf("the lock file stays after Release: %v", err)
	}
	l2, err := Acquire("link")
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
	l2.Release() // a second Release does nothing
}

// TestAcquire_StaleLockFile: a lock file whose holder is gone (killed) does not lock.
func TestAcquire_StaleLockFile(t *testing.T) {
	dir := tree(t, t.TempDir(), map[string]string{".out.lock": "999999999\n"})
	l, err := Acquire(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	b, _ := os.ReadFile(filepath.Join(dir, ".out.lock"))
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid", b)
	}
}

func TestLeftovers_AndClean(t *testing.T) {
	dir := tree(t, t.TempDir(), map[string]string{
		".out.tmp-crash/train_8.npy":   "12345",
		".out.old-other/manifest.json": "{}",
		".out.tmp/part-00000.arrow":    "123",
		"out/.staging/crash/0/0/rows":  "1234567",
		"out/manifest.json":            ourManifest,
		// Not out's: another output's temporaries, a sibling output whose name starts
		// like out's temporaries, the lock file, a user's hidden file.
		".outer.tmp-crash/x":          "1",
		"out.tmp-b/":                  "",
		".out.tmp-b.tmp-j/x":          "1",
		".out.lock":                   "",
		".out.notes":                  "mine",
		"elsewhere/.out.tmp-crash/x/": "",
	})
	inDir(t, dir)
	ls, err := Leftovers("out")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{".out.tmp-crash": 5, ".out.old-other": 2, ".out.tmp": 3, "out/.staging": 7}
	got := map[string]int64{}
	for _, l := range ls {
		got[l.Path] = l.Bytes
	}
	if len(got) != len(want) {
		t.Errorf("leftovers %v, want %v", got, want)
	}
	for p, n := range want {
		if got[p] != n {
			t.Errorf("leftover %s: %d bytes, want %d (all: %v)", p, got[p], n, got)
		}
	}
	if err := WithLeftovers(errors.New("no space left on device"), "out"); !strings.Contains(err.Error(), ".out.tmp-crash (5 bytes)") ||
		!strings.Contains(err.Error(), "tokenmill clean out") {
		t.Errorf("WithLeftovers: %v", err)
	}
	removed, err := Clean("out")
	if err != nil || len(removed) != 4 || TotalBytes(removed) != 17 {
		t.Fatalf("Clean: %v, removed %v", err, removed)
	}
	for p := range want {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s stays after Clean", p)
		}
	}
	for _, p := range []string{"out/manifest.json", ".outer.tmp-crash/x", ".out.tmp-b.tmp-j/x", ".out.notes", "out.tmp-b", "elsewhere/.out.tmp-crash/x"} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("Clean removed %s, which is not out's: %v", p, err)
		}
	}
	if ls, _ := Leftovers("out"); len(ls) != 0 {
		t.Errorf("leftovers after Clean: %v", ls)
	}
	if err := WithLeftovers(errors.New("x"), "out"); err.Error() != "x" {
		t.Errorf("WithLeftovers without leftovers: %v", err)
	}
}

// TestLeftovers_ThroughSymlink: an output named through a symlink has its temporaries
// beside the link (built there) and beside its target.
func TestLeftovers_ThroughSymlink(t *testing.T) {
	dir := tree(t, t.TempDir(), map[string]string{
		"real/out/.staging/j/": "", "real/.out.tmp-j/x": "1", ".link.tmp-j/x": "1",
	})
	inDir(t, dir)
	if err := os.Symlink("real/out", "link"); err != nil {
		t.Fatal(err)
	}
	ls, err := Leftovers("link")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, l := range ls {
		got[l.Path] = true
	}
	for _, p := range []string{".link.tmp-j", filepath.Join(dir, "real/.out.tmp-j"), "link/.staging"} {
		if !got[p] {
			t.Errorf("%s not among the leftovers %v", p, got)
		}
	}
}

func TestNameOutput(t *testing.T) {
	_, err := os.Open(filepath.Join(t.TempDir(), ".out.tmp-j", "train_8.npy"))
	tmp := filepath.Dir(err.(*os.PathError).Path)
	out := filepath.Join(filepath.Dir(tmp), "out")
	named := NameOutput(err, out, tmp)
	if strings.Contains(named.Error(), ".tmp-j") || !strings.Contains(named.Error(), filepath.Join(out, "train_8.npy")) {
		t.Errorf("named: %v", named)
	}
	if !errors.Is(named, syscall.ENOENT) {
		t.Errorf("the named error is no longer ENOENT: %v", named)
	}
	plain := errors.New("nothing temporary")
	if NameOutput(plain, out, tmp) != plain || NameOutput(nil, out, tmp) != nil {
		t.Error("NameOutput changed an error that names no temporary path")
	}
}
