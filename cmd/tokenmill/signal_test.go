package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// SIGINT and SIGTERM during `tokenmill run` stop it: the process exits 130 or 143, publishes
// nothing, and leaves no staging area, temporary directory or lock beside the inputs.
func TestRun_SignalStopsAndCleansUp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs tokenmill on a 12 MB corpus")
	}
	dir := t.TempDir()
	in := crashCorpus(t, dir, 12)
	tests := []struct {
		sig  syscall.Signal
		code int
		name string
	}{
		{syscall.SIGINT, 130, "interrupt"},
		{syscall.SIGTERM, 143, "terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String(), func(t *testing.T) {
			out := filepath.Join(dir, "out-"+tt.name)
			job := writeFile(t, filepath.Join(dir, tt.name+".yaml"), fmt.Sprintf(`name: sig
inputs:
  - path: %s/*.jsonl
tokenizer: cl100k_base
sequence_lengths: [128, 512]
shard_size: 1MiB
output:
  dir: %s
  formats: [hf, npy]
`, in, out))
			before := testutil.DirNames(t, dir)
			cmd := cliCommand(t, dir, "run", job, "--workers", "1", "--progress", "none")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() }) // when the wait below fails
			// Signal once the run is executing shards: the assembler's temporary output
			// beside out holds a file.
			tmp := filepath.Join(dir, "."+filepath.Base(out)+".tmp-sig", "*")
			testutil.WaitFor(t, time.Minute, func() (bool, error) {
				m, err := filepath.Glob(tmp)
				return len(m) > 0, err
			}, "the run's temporary output "+tmp)
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr.String())
			}
			if want := "tokenmill run: stopped by " + tt.name + "; nothing was published\n"; stderr.String() != want {
				t.Errorf("stderr %q, want %q", stderr.String(), want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want none (no summary)", stdout.String())
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("the output %s exists after the run was stopped (%v): %v", out, err, testutil.DirNames(t, out))
			}
			if after := testutil.DirNames(t, dir); strings.Join(after, " ") != strings.Join(before, " ") {
				t.Errorf("the run left %v beside its inputs, which were %v", after, before)
			}
		})
	}
}
