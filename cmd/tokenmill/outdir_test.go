package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/outdir"
)

// sbDir writes the reproduction's directory under dir: sb/corpus.jsonl, read by the job,
// and sb/thesis.txt, which nothing reads; it returns their contents by path (relative to
// dir).
func sbDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{
		"sb/corpus.jsonl": `{"text":"the cat sat on the mat and looked at the dog"}` + "\n" + `{"text":"another document"}` + "\n",
		"sb/thesis.txt":   "four years of work\n",
	}
	for p, c := range files {
		writeFile(t, filepath.Join(dir, p), c)
	}
	return files
}

func checkSurvived(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		if b, err := os.ReadFile(filepath.Join(dir, p)); err != nil || string(b) != c {
			t.Errorf("%s after the run: %q, %v; want it untouched", p, b, err)
		}
	}
}

// The reproduction of issue 15 item 1: a job that reads sb/corpus.jsonl with output.dir sb,
// run with --overwrite, deleted sb with both files. It is refused, naming both paths, however
// the output is spelled, with or without --overwrite.
func TestRun_OverwriteNeverDeletesTheInputs(t *testing.T) {
	tests := []struct {
		name string
		args []string // after `run sb.yaml`
		out  string   // the output as the error names it, relative to the test's directory
	}{
		{"reproduction", []string{"--overwrite"}, "sb"},
		{"without --overwrite", nil, "sb"},
		{"./sb", []string{"--overwrite", "--output-dir", "./sb"}, "sb"},
		{"sb/../sb", []string{"--overwrite", "--output-dir", "sb/../sb"}, "sb"},
		{"symlink to sb", []string{"--overwrite", "--output-dir", "link"}, "link"},
		{"parent of sb", []string{"--overwrite", "--output-dir", "."}, "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := sbDir(t, dir)
			if err := os.Symlink("sb", filepath.Join(dir, "link")); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "sb.yaml"), `name: sb
inputs:
  - path: sb/corpus.jsonl
tokenizer: cl100k_base
sequence_lengths: [8]
output:
  dir: sb
`)
			r := runBinary(t, dir, "", append([]string{"run", "sb.yaml", "--progress", "none"}, tt.args...)...)
			// Paths are resolved (job file paths against its directory, flags against the
			// current one), so the refusal names them absolute.
			want := "output " + filepath.Join(dir, tt.out) + " holds the input " + filepath.Join(dir, "sb/corpus.jsonl")
			if r.Code != 1 || !strings.Contains(r.Stderr, want) {
				t.Errorf("exit %d, stderr %q; want 1 and a refusal naming %s and sb/corpus.jsonl", r.Code, r.Stderr, tt.out)
			}
			checkSurvived(t, dir, files)
			if entries, _ := os.ReadDir(filepath.Join(dir, "sb")); len(entries) != 2 {
				t.Errorf("sb holds %d entries, want its 2 files", len(entries))
			}
		})
	}
}

// --overwrite replaces an earlier output, but not one holding a file tokenmill did not write,
// nor a directory that is not an output.
func TestRun_OverwriteReplacesOnlyTokenmillOutputs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.jsonl"), `{"text":"the cat sat on the mat and looked at the dog"}`+"\n")
	writeFile(t, filepath.Join(dir, "job.yaml"), "name: j\ninputs:\n  - path: in.jsonl\ntokenizer: cl100k_base\nsequence_lengths: [4]\noutput:\n  dir: out\n")
	run := func(args ...string) cliResult {
		return runBinary(t, dir, "", append([]string{"run", "job.yaml", "--progress", "none"}, args...)...)
	}
	if r := run(); r.Code != 0 {
		t.Fatalf("first run: exit %d: %s", r.Code, r.Stderr)
	}
	if r := run(); r.Code != 1 || !strings.Contains(r.Stderr, "output directory "+filepath.Join(dir, "out")+" exists (use --overwrite") {
		t.Errorf("second run without --overwrite: exit %d: %s", r.Code, r.Stderr)
	}
	if r := run("--overwrite"); r.Code != 0 {
		t.Fatalf("--overwrite of an earlier output: exit %d: %s", r.Code, r.Stderr)
	}
	notes := writeFile(t, filepath.Join(dir, "out", "notes.txt"), "mine")
	if r := run("--overwrite"); r.Code != 1 || !strings.Contains(r.Stderr, "output "+filepath.Join(dir, "out")+" holds "+notes+", which tokenmill did not write") {
		t.Errorf("--overwrite with a stray file: exit %d: %s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(notes); err != nil {
		t.Errorf("the stray file is gone: %v", err)
	}
	writeFile(t, filepath.Join(dir, "mine", "photo.jpg"), "jpeg")
	if r := run("--overwrite", "--output-dir", "mine"); r.Code != 1 ||
		!strings.Contains(r.Stderr, "output "+filepath.Join(dir, "mine")+" is not a tokenmill output (it holds "+filepath.Join(dir, "mine", "photo.jpg")+" and no manifest.json)") {
		t.Errorf("--overwrite of a user directory: exit %d: %s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "mine", "photo.jpg")); err != nil {
		t.Errorf("the user's file is gone: %v", err)
	}
}

// convert and harmony encode refuse the same outputs.
func TestConvertHarmony_RefuseOutputsOverlappingInputs(t *testing.T) {
	chat := `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}` + "\n"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"convert into the input's directory", []string{"convert", "sb/corpus.jsonl", "--to", "hf", "--overwrite", "sb"}, "output sb holds the input sb/corpus.jsonl"},
		{"convert over the input", []string{"convert", "sb/corpus.jsonl", "--to", "jsonl", "--overwrite", "sb/corpus.jsonl"}, "output sb/corpus.jsonl is the input sb/corpus.jsonl"},
		{"convert inside an input directory", []string{"convert", "ds", "--to", "parquet", "ds/all.parquet"}, "output ds/all.parquet lies inside the input directory ds"},
		{"convert over a user directory", []string{"convert", "chat.jsonl", "--to", "hf", "--overwrite", "sb"}, "output sb holds sb/chat.jsonl, which is not part of a dataset tokenmill writes"},
		{"convert a file over a directory", []string{"convert", "chat.jsonl", "--to", "jsonl", "--overwrite", "sb"}, "output sb is a directory"},
		{"harmony into the input's directory", []string{"harmony", "encode", "--overwrite", "sb/chat.jsonl", "sb"}, "output sb holds the input sb/chat.jsonl"},
		{"harmony through ./", []string{"harmony", "encode", "--overwrite", "sb/chat.jsonl", "./sb/."}, "output ./sb/. holds the input sb/chat.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := sbDir(t, dir)
			files["sb/chat.jsonl"] = chat
			files["chat.jsonl"] = chat
			files["ds/state.json"] = "{}"
			for p, c := range files {
				writeFile(t, filepath.Join(dir, p), c)
			}
			r := runBinary(t, dir, "", tt.args...)
			if r.Code != 1 || !strings.Contains(r.Stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", r.Code, r.Stderr, tt.want)
			}
			checkSurvived(t, dir, files)
			if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
	// An HF dataset that convert wrote is replaced with --overwrite.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "chat.jsonl"), chat)
	for _, args := range [][]string{{"convert", "chat.jsonl", "--to", "hf", "ds"}, {"convert", "chat.jsonl", "--to", "hf", "--overwrite", "ds"},
		{"harmony", "encode", "--overwrite", "chat.jsonl", "ds"}} {
		if r := runBinary(t, dir, "", args...); r.Code != 0 {
			t.Errorf("%v: exit %d: %s", args, r.Code, r.Stderr)
		}
	}
}

// waitFor polls cond every few milliseconds until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
	}
}

// corpusJob writes a job named name over a corpus of about mb megabytes into dir/out and
// returns the job file and the output directory.
func corpusJob(t *testing.T, dir, name string, mb int) (jobFile, out string) {
	t.Helper()
	in := crashCorpus(t, dir, mb)
	out = filepath.Join(dir, "out")
	jobFile = writeFile(t, filepath.Join(dir, name+".yaml"), fmt.Sprintf(`name: %s
inputs:
  - path: %s/*.jsonl
tokenizer: cl100k_base
sequence_lengths: [128, 512]
shard_size: 1MiB
output:
  dir: %s
  formats: [hf, npy]
`, name, in, out))
	return jobFile, out
}

// Two runs into one output at once: the second is refused, naming the output and the first
// run's pid, and the first completes. The first run is stopped (SIGSTOP) while it holds the
// lock, so that the second certainly starts during it; `tokenmill clean` is refused too.
func TestRun_SecondRunIntoTheSameOutputRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a job of a few megabytes")
	}
	dir := t.TempDir()
	jobFile, out := corpusJob(t, dir, "first", 4)
	lockPath, err := outdir.LockPath(out)
	if err != nil {
		t.Fatal(err)
	}
	first := cliCommand(t, dir, "run", jobFile, "--workers", "1", "--progress", "none")
	var firstErr strings.Builder
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(first.Process.Pid)
	waitFor(t, 20*time.Second, "the first run's lock", func() bool {
		b, _ := os.ReadFile(lockPath)
		return strings.TrimSpace(string(b)) == pid
	})
	if err := first.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
		t.Fatal("the first run finished before it could be stopped")
	}
	second := runBinary(t, dir, "", "run", jobFile, "--workers", "1", "--progress", "none", "--name", "second")
	clean := runBinary(t, dir, "", "clean", out)
	first.Process.Signal(syscall.SIGCONT)
	if err := first.Wait(); err != nil {
		t.Fatalf("the first run failed: %v\n%s", err, firstErr.String())
	}
	want := "output " + out + " is in use by another tokenmill run (pid " + pid + ")"
	if second.Code != 1 || !strings.Contains(second.Stderr, want) {
		t.Errorf("second run: exit %d, stderr %q; want 1 and %q", second.Code, second.Stderr, want)
	}
	if clean.Code != 1 || !strings.Contains(clean.Stderr, want) {
		t.Errorf("clean during the run: exit %d, stderr %q; want 1 and %q", clean.Code, clean.Stderr, want)
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Errorf("the first run published no output: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".out*")); len(left) != 0 {
		t.Errorf("left beside the output: %v", left)
	}
}

// killDuringRun starts a run of jobFile, kills it (SIGKILL) once its temporary output
// directory exists, and returns that directory.
func killDuringRun(t *testing.T, dir, jobFile, out, name string) string {
	t.Helper()
	tmp := filepath.Join(dir, ".out.tmp-"+name)
	cmd := cliCommand(t, dir, "run", jobFile, "--workers", "2", "--progress", "none")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the run's temporary directory", func() bool {
		entries, _ := os.ReadDir(tmp)
		return len(entries) > 0
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
		t.Fatal("the run finished before it could be killed")
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Fatalf("the killed run left no temporary directory: %v", err)
	}
	return tmp
}

// After kill -9, `tokenmill clean OUT` removes the temporary directory and staging area the
// run left, and so does the next run into OUT, whatever its job.
func TestRun_KilledRunsLeftoversAreCleaned(t *testing.T) {
	if testing.Short() {
		t.Skip("runs and kills a job of a few megabytes")
	}
	dir := t.TempDir()
	jobFile, out := corpusJob(t, dir, "crash", 6)

	tmp := killDuringRun(t, dir, jobFile, out, "crash")
	r := runBinary(t, dir, "", "clean", out)
	if r.Code != 0 || !strings.Contains(r.Stdout, "removed "+tmp+" (") {
		t.Errorf("clean: exit %d, stdout %q, stderr %q; want the removal of %s", r.Code, r.Stdout, r.Stderr, tmp)
	}
	if ls, _ := outdir.Leftovers(out); len(ls) != 0 {
		t.Errorf("leftovers after clean: %v", ls)
	}
	if r := runBinary(t, dir, "", "clean", out); r.Code != 0 || !strings.Contains(r.Stdout, "nothing to clean") {
		t.Errorf("clean again: exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}

	tmp = killDuringRun(t, dir, jobFile, out, "crash")
	r = runBinary(t, dir, "", "run", jobFile, "--name", "other", "--progress", "none")
	if r.Code != 0 {
		t.Fatalf("run of another job: exit %d: %s", r.Code, r.Stderr)
	}
	if n := strings.Count(r.Stderr, "removed the temporary files"); n != 1 || !strings.Contains(r.Stderr, tmp) {
		t.Errorf("the run's log says %d times that it removed leftovers, or not %s:\n%s", n, tmp, r.Stderr)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".out*")); len(left) != 0 {
		t.Errorf("left beside the output: %v", left)
	}
	if _, err := os.Stat(filepath.Join(out, ".staging")); !os.IsNotExist(err) {
		t.Errorf("the staging area stays: %v", err)
	}
}

func TestClean_Usage(t *testing.T) {
	const cleanPointer = "Run 'tokenmill clean --help' for usage.\n"
	tests := []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"clean", "--help"}, 0, "usage: tokenmill clean OUT", ""},
		{[]string{"clean", "-h"}, 0, "usage: tokenmill clean OUT", ""},
		{[]string{"clean"}, 2, "", "tokenmill clean: missing OUT\n" + cleanPointer},
		{[]string{"clean", "a", "b"}, 2, "", "tokenmill clean: unexpected argument \"b\": one OUT at a time\n" + cleanPointer},
		{[]string{"clean", "--bogus", "a"}, 2, "", "tokenmill clean: unknown flag --bogus\n" + cleanPointer},
		{[]string{"clean", "no/such/out"}, 0, "no/such/out: nothing to clean", ""},
	}
	for _, tt := range tests {
		r := runBinary(t, t.TempDir(), "", tt.args...)
		if r.Code != tt.code || !strings.Contains(r.Stdout, tt.stdout) || r.Stderr != tt.stderr {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tt.args, r.Code, r.Stdout, r.Stderr, tt.code, tt.stdout, tt.stderr)
		}
	}
}
