package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// The command scripts/demo.sh suggests for looking at the demo output runs without NumPy:
// it is `tokenmill inspect`, and inspect reads the output it names.
func TestDemo_SuggestsInspect(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo job")
	}
	repo := testutil.RepoRoot(t)
	script, err := os.ReadFile(filepath.Join(repo, "scripts", "demo.sh"))
	if err != nil {
		t.Fatal(err)
	}
	last := regexp.MustCompile(`(?m)^echo "demo: look at it with: \$bin (inspect [^ ]+) \(or \$bin (inspect [^ ]+)\)"\n*$`).FindSubmatch(script)
	if last == nil {
		t.Fatalf("demo.sh does not end by suggesting tokenmill inspect:\n%s", script)
	}
	if strings.Contains(strings.ToLower(string(script)), "numpy") {
		t.Errorf("demo.sh still mentions NumPy")
	}
	// The demo job into a temporary copy of the repository's out/demo.
	dir := t.TempDir()
	if r := runBinary(t, repo, "", "run", "examples/demo.yaml", "--output-dir", filepath.Join(dir, "out", "demo"), "--progress", "none"); r.Code != 0 {
		t.Fatalf("demo job: exit %d: %s", r.Code, r.Stderr)
	}
	for _, suggested := range last[1:] {
		args := strings.Fields(string(suggested))
		r := runBinary(t, dir, "", args...)
		if r.Code != 0 || !strings.Contains(r.Stdout, "Examples:") {
			t.Errorf("tokenmill %s: exit %d, stdout %q, stderr %q", suggested, r.Code, r.Stdout, r.Stderr)
		}
	}
}

// scripts/testsummary.go, which `make test` pipes go test -json through, keeps go test's
// ok and FAIL lines and the output of failed tests, and ends with the skipped tests and their
// reasons (not the fuzz corpus entries that skip themselves).
func TestTestSummary_ListsSkippedTests(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH (%v)", err)
	}
	const in = `{"Action":"start","Package":"p/a"}
{"Action":"run","Package":"p/a","Test":"TestOK"}
{"Action":"output","Package":"p/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"output","Package":"p/a","Test":"TestOK","Output":"    a_test.go:3: quiet\n"}
{"Action":"output","Package":"p/a","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}
{"Action":"pass","Package":"p/a","Test":"TestOK"}
{"Action":"run","Package":"p/a","Test":"TestNpy"}
{"Action":"output","Package":"p/a","Test":"TestNpy","Output":"=== RUN   TestNpy\n"}
{"Action":"output","Package":"p/a","Test":"TestNpy","Output":"    npy_test.go:96: NumPy not available (exit status 1); install python3-numpy\n"}
{"Action":"output","Package":"p/a","Test":"TestNpy","Output":"--- SKIP: TestNpy (0.00s)\n"}
{"Action":"skip","Package":"p/a","Test":"TestNpy"}
{"Action":"run","Package":"p/a","Test":"FuzzX/seed#0"}
{"Action":"output","Package":"p/a","Test":"FuzzX/seed#0","Output":"    fuzz_test.go:9: by design\n"}
{"Action":"skip","Package":"p/a","Test":"FuzzX/seed#0"}
{"Action":"pass","Package":"p/a","Test":"FuzzX"}
{"Action":"output","Package":"p/a","Output":"PASS\n"}
{"Action":"output","Package":"p/a","Output":"ok  \tp/a\t0.01s\n"}
{"Action":"pass","Package":"p/a"}
{"Action":"run","Package":"p/b","Test":"TestBad"}
{"Action":"output","Package":"p/b","Test":"TestBad","Output":"=== RUN   TestBad\n"}
{"Action":"run","Package":"p/b","Test":"TestBad/fine"}
{"Action":"output","Package":"p/b","Test":"TestBad/fine","Output":"    --- PASS: TestBad/fine (0.00s)\n"}
{"Action":"pass","Package":"p/b","Test":"TestBad/fine"}
{"Action":"output","Package":"p/b","Test":"TestBad","Output":"    b_test.go:4: boom\n"}
{"Action":"output","Package":"p/b","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}
{"Action":"fail","Package":"p/b","Test":"TestBad"}
{"Action":"output","Package":"p/b","Output":"FAIL\n"}
{"Action":"output","Package":"p/b","Output":"FAIL\tp/b\t0.01s\n"}
{"Action":"fail","Package":"p/b"}
`
	const want = "ok  \tp/a\t0.01s\n" +
		"    b_test.go:4: boom\n--- FAIL: TestBad (0.00s)\nFAIL\nFAIL\tp/b\t0.01s\n" +
		"\n1 test skipped:\n  p/a TestNpy: NumPy not available (exit status 1); install python3-numpy\n"
	cmd := exec.Command(goTool, "run", filepath.Join(testutil.RepoRoot(t), "scripts", "testsummary.go"))
	cmd.Stdin = strings.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run scripts/testsummary.go: %v", err)
	}
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

// The demo job's outputs keep the bytes they had before the code was reorganised (issue 16):
// every file but run.json has the sha256 in testdata/demo.sha256, and manifest.json equals
// testdata/demo.manifest.json once its paths are made relative to the repository again and
// its job_fingerprint (a digest of those paths) is left out. A change of output bytes on
// purpose updates both files in the same commit.
func TestDemo_OutputBytesUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo job")
	}
	repo := testutil.RepoRoot(t)
	out := filepath.Join(t.TempDir(), "demo")
	if r := runBinary(t, repo, "", "run", "examples/demo.yaml", "--output-dir", out, "--progress", "none"); r.Code != 0 {
		t.Fatalf("demo job: exit %d: %s", r.Code, r.Stderr)
	}
	got := testutil.ReadTree(t, out, "run.json")
	sums, err := os.ReadFile("testdata/demo.sha256")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("testdata/demo.sha256: bad line %q", line)
		}
		want[name] = sum
	}
	for name, b := range got {
		if name == "manifest.json" {
			continue
		}
		switch sum, ok := want[name]; {
		case !ok:
			t.Errorf("%s: a file the demo did not write before", name)
		case sum != fmt.Sprintf("%x", sha256.Sum256(b)):
			t.Errorf("%s: its bytes changed", name)
		}
		delete(want, name)
	}
	for name := range want {
		t.Errorf("%s: no longer written", name)
	}
	m := strings.ReplaceAll(string(got["manifest.json"]), out, "out/demo")
	m = strings.ReplaceAll(m, repo+string(filepath.Separator), "")
	var kept []string
	for _, line := range strings.SplitAfter(m, "\n") {
		if !strings.Contains(line, `"job_fingerprint"`) {
			kept = append(kept, line)
		}
	}
	wantManifest, err := os.ReadFile("testdata/demo.manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(kept, "") != string(wantManifest) {
		t.Errorf("manifest.json differs from testdata/demo.manifest.json (paths made relative, job_fingerprint left out):\n%s", strings.Join(kept, ""))
	}
}
