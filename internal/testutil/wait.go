package testutil

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// The first and the longest pause between two calls of a WaitFor condition.
const (
	waitFirst = time.Millisecond
	waitMax   = 100 * time.Millisecond
)

// WaitFor calls cond until it returns true, pausing between calls from 1ms, doubling up to
// 100ms. If cond has not returned true once timeout has passed, the test fails with what it
// waited for and cond's last error. cond's error does not stop the wait: it is how a
// condition says why it does not hold yet.
func WaitFor(t testing.TB, timeout time.Duration, cond func() (bool, error), what string) {
	t.Helper()
	if err := poll(timeout, cond); err != nil {
		t.Fatalf("timed out after %v waiting for %s: %v", timeout, what, err)
	}
}

// poll is WaitFor's loop: nil once cond holds, else an error saying why it still did not at
// the deadline.
func poll(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	pause := waitFirst
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if !time.Now().Before(deadline) {
			if err != nil {
				return fmt.Errorf("last error: %w", err)
			}
			return errors.New("the condition never held")
		}
		time.Sleep(min(pause, time.Until(deadline)))
		pause = min(2*pause, waitMax)
	}
}
