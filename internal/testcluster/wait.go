package testcluster

import (
	"bytes"
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
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(PollInterval)
	}
}

// probesEnded waits up to timeout for the probes that memberlist's Shutdown leaves running to
// end: a probe waits for its ack up to its probe interval, which memberlist scales by up to 8
// when the node's health is poor (its awareness), and Shutdown does not stop it. It reports
// whether none runs any more.
func probesEnded(timeout time.Duration) bool {
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(timeout); ; time.Sleep(PollInterval) {
		if n := runtime.Stack(buf, true); !bytes.Contains(buf[:n], []byte("memberlist.(*Memberlist).probeNode")) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// WaitProbes fails the test or benchmark if memberlist's probes still run after timeout (see
// probesEnded), so that the next cluster and goleak do not see them.
func WaitProbes(t testing.TB, timeout time.Duration) {
	t.Helper()
	if !probesEnded(timeout) {
		t.Fatalf("memberlist's probes still run %v after the clusters were shut down", timeout)
	}
}

// VerifyTestMain is goleak.VerifyTestMain for the packages that start clusters: once the tests
// have passed, it waits up to Timeout for memberlist's probes to end (see probesEnded), then
// fails the run if any goroutine is left, the probes included.
func VerifyTestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		probesEnded(Timeout)
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: Errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
