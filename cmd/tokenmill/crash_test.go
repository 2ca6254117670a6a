package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// TestMain lets the crash test run this test binary as the tokenmill command: with
// TOKENMILL_TEST_CLI=1 in its environment it is `tokenmill ARGS...`. The tests and the
// processes they start share a temporary user cache directory (the tokenizer's load cache).
func TestMain(m *testing.M) {
	if os.Getenv("TOKENMILL_TEST_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	cache, err := os.MkdirTemp("", "tokenmill-cli-cache")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CACHE_HOME", cache)
	code := m.Run()
	os.RemoveAll(cache)
	os.Exit(code)
}

// crashCorpus writes copies of the demo corpus (real prose) as several JSONL files, each
// document prefixed with its copy number, about mb megabytes of text in all.
func crashCorpus(t *testing.T, dir string, mb int) string {
	t.Helper()
	lines := testutil.DemoLines(t)
	in := filepath.Join(dir, "in")
	os.MkdirAll(in, 0o755)
	total := 0
	for c := 0; total < mb<<20; c++ {
		var b bytes.Buffer
		for _, l := range lines {
			// {"text": "...  ->  {"text": "copy N: ...
			i := bytes.Index(l, []byte(`"text": "`))
			if i < 0 {
				i = bytes.Index(l, []byte(`"text":"`)) - 1
			}
			if i < 0 {
				t.Fatalf("demo corpus line without a text field: %.80s", l)
			}
			j := bytes.IndexByte(l[i+7:], '"') + i + 8
			fmt.Fprintf(&b, "%s copy %d: %s\n", l[:j], c, l[j:])
		}
		total += b.Len()
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("part-%03d.jsonl", c)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// TestRun_KilledAnywhereThenRerunIsIdentical kills `tokenmill run` (SIGKILL, no chance to
// clean up) at moments spread over a whole run: while it plans, executes shards, assembles
// and publishes. After each kill, the output directory holds either nothing published or
// the complete output, byte-identical to an uninterrupted run; a rerun then completes and
// gives those same bytes, leaving no staging area or temporary directory behind.
func TestRun_KilledAnywhereThenRerunIsIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tokenmill a dozen times")
	}
	dir := t.TempDir()
	in := crashCorpus(t, dir, 12)
	out := filepath.Join(dir, "out")
	job := filepath.Join(dir, "job.yaml")
	os.WriteFile(job, []byte(fmt.Sprintf(`name: crash
inputs:
  - path: %s/*.jsonl
tokenizer: cl100k_base
sequence_lengths: [128, 512, 2048]
shard_size: 1MiB
val_fraction: 0.05
output:
  dir: %s
  formats: [hf, npy]
  dtype: int32
`, in, out)), 0o644)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) *exec.Cmd {
		cmd := exec.Command(self, args...)
		cmd.Env = append(os.Environ(), "TOKENMILL_TEST_CLI=1")
		return cmd
	}
	start := time.Now()
	if b, err := cli("run", job, "--workers", "2", "--progress", "none").CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, b)
	}
	whole := time.Since(start)
	want := outputFiles(t, out)
	if len(want) < 10 {
		t.Fatalf("the reference output has %d files", len(want))
	}
	for _, frac := range []float64{0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 1.05} {
		t.Run(fmt.Sprintf("at %.0f%%", frac*100), func(t *testing.T) {
			if err := os.RemoveAll(out); err != nil {
				t.Fatal(err)
			}
			cmd := cli("run", job, "--workers", "2", "--progress", "none")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Duration(frac * float64(whole)))
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()

			// What the kill interrupted, for the log: staged shards, a temporary output.
			staged, _ := filepath.Glob(filepath.Join(out, ".staging", "*", "*"))
			tmp, _ := filepath.Glob(filepath.Join(dir, ".out.tmp-*", "*"))
			published := false
			if _, err := os.Stat(filepath.Join(out, "manifest.json")); err == nil {
				published = true
				testutil.SameTree(t, "killed run", want, outputFiles(t, out))
			} else {
				entries, _ := os.ReadDir(out)
				for _, e := range entries {
					if e.Name() != ".staging" {
						t.Errorf("killed before publishing, yet %s holds %s", out, e.Name())
					}
				}
			}
			t.Logf("killed after %v: %d staged shards, %d entries in the temporary output, published %v",
				time.Duration(frac*float64(whole)).Round(time.Millisecond), len(staged), len(tmp), published)
			args := []string{"run", job, "--workers", "2", "--progress", "none"}
			if published {
				args = append(args, "--overwrite")
			}
			if b, err := cli(args...).CombinedOutput(); err != nil {
				t.Fatalf("rerun: %v\n%s", err, b)
			}
			testutil.SameTree(t, "rerun", want, outputFiles(t, out))
			left, _ := filepath.Glob(filepath.Join(dir, ".out.*"))
			if _, err := os.Stat(filepath.Join(out, ".staging")); err == nil {
				left = append(left, filepath.Join(out, ".staging"))
			}
			if len(left) != 0 {
				t.Errorf("left behind after the rerun: %v", left)
			}
		})
	}
}

// outputFiles maps every file of a job's output (run.json, which holds timings, and the staging
// area excepted)
// to its bytes.
func outputFiles(t *testing.T, out string) map[string][]byte {
	t.Helper()
	return testutil.ReadTree(t, out, "run.json", ".staging")
}
