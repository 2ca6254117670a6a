package testcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// PollInterval is the time between two checks of WaitFor.
const PollInterval = 10 * time.Millisecond

// WaitFor calls cond until it returns nil, and fails the test if it still returns an error
// after timeout, with what and the last error: "timed out after 10s waiting for a leader:
// node c2 knows none".
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	if err := poll(timeout, cond); err != nil {
		t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
	}
}

// poll calls cond every PollInterval until it returns nil, for up to timeout, and returns its
// last error (nil once it succeeded).
func poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(PollInterval)
	}
}

// probesEnded reports an error while a probe that memberlist's Shutdown leaves running is still
// there: a probe waits for its ack up to its probe interval, which memberlist scales by up to 8
// when the node's health is poor (its awareness), and Shutdown does not stop it.
func probesEnded() error {
	buf := make([]byte, 1<<20)
	if n := runtime.Stack(buf, true); bytes.Contains(buf[:n], []byte("memberlist.(*Memberlist).probeNode")) {
		return errors.New("a probe still runs")
	}
	return nil
}

// WaitProbes fails the test or benchmark if memberlist's probes still run after timeout (see
// probesEnded), so that the next cluster and goleak do not see them.
func WaitProbes(t testing.TB, timeout time.Duration) {
	t.Helper()
	WaitFor(t, timeout, "memberlist's probes to end after the clusters were shut down", probesEnded)
}

// VerifyTestMain is goleak.VerifyTestMain for the packages that start clusters: once the tests
// have passed, it waits up to Timeout for memberlist's probes to end (see probesEnded), then
// fails the run if any goroutine is left, the probes included. (goleak's own retries, 20 with
// sleeps up to 100 ms, cannot be lengthened in the version the project uses.)
func VerifyTestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		_ = poll(Timeout, probesEnded) // a probe still there is reported by goleak below
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: Errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
