package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// cliResult is what one run of the tokenmill process did.
type cliResult struct {
	Code           int
	Stdout, Stderr string
}

// cliCommand returns a command that runs this test binary as `tokenmill ARGS...` (see
// TestMain) in dir ("" is the test's working directory).
func cliCommand(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TOKENMILL_TEST_CLI=1")
	return cmd
}

// runBinary runs `tokenmill ARGS...` as its own process in dir with stdin, and returns its
// exit status and output: what a person at a shell would see.
func runBinary(t *testing.T, dir, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := cliCommand(t, dir, args...)
	var out, errb bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
	default:
		t.Fatalf("tokenmill %s: %v", strings.Join(args, " "), err)
	}
	return cliResult{Code: cmd.ProcessState.ExitCode(), Stdout: out.String(), Stderr: errb.String()}
}
