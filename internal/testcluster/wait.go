package testcluster

import (
	"testing"
	"time"
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
