package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tokenmill/tokenmill/client"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// TestDev_UnplaceableJobWaitsAndSaysWhy: a job whose constraint no worker satisfies (dev's
// worker has no tags) stays pending, and `job status` says which constraint matches no
// worker, in text and in --json; `job cancel` ends it.
func TestDev_UnplaceableJobWaitsAndSaysWhy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cluster")
	}
	p, addr := startDev(t, "--slots", "1")
	dir := t.TempDir()
	jobFile := writeClusterJob(t, dir)
	b, err := os.ReadFile(jobFile)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(jobFile, append(b, "constraints: [gpu=h100, 'zone!=b']\n"...), 0o644)
	r := runBinary(t, dir, "", "job", "submit", "--addr", addr, jobFile)
	if r.Code != 0 {
		t.Fatalf("job submit: exit %d: %s", r.Code, r.Stderr)
	}
	id := strings.TrimSpace(r.Stdout)
	const why = "constraint gpu=h100 matches no alive worker"
	testutil.WaitFor(t, clusterTimeout, func() (bool, error) {
		var j client.Job
		if err := clusterJSON(t, &j, "job", "status", "--addr", addr, id); err != nil {
			return false, err
		}
		return j.Unplaceable == why && j.State == "planning" && j.Tasks.Pending == 1, fmt.Errorf("job %+v", j)
	}, "the job to be pending and unplaceable in job status --json")
	r = runBinary(t, dir, "", "job", "status", "--addr", addr, id)
	if want := "placement  " + why + ": its tasks wait for such a worker"; r.Code != 0 || !strings.Contains(r.Stdout, want) {
		t.Errorf("job status: exit %d, stdout:\n%s\nwant a line %q", r.Code, r.Stdout, want)
	}
	if r := runBinary(t, dir, "", "job", "cancel", "--addr", addr, id); r.Code != 0 {
		t.Errorf("job cancel: exit %d: %s", r.Code, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "manifest.json")); err == nil {
		t.Error("the unplaceable job published a manifest")
	}
	if code := p.stop(t, syscall.SIGINT); code != 0 {
		t.Errorf("tokenmill dev stopped by SIGINT: exit %d", code)
	}
}
