package testutil

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestWaitFor_ReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	WaitFor(t, 10*time.Second, func() (bool, error) {
		calls++
		return calls == 5, nil
	}, "the fifth call")
	if calls != 5 {
		t.Errorf("cond called %d times, want 5", calls)
	}
}

func TestPoll_SaysWhyAtTheDeadline(t *testing.T) {
	tests := []struct {
		name string
		cond func() (bool, error)
		want string
	}{
		{"last error", func() (bool, error) { return false, errors.New("shard 3 not leased") }, "last error: shard 3 not leased"},
		{"no error", func() (bool, error) { return false, nil }, "the condition never held"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := poll(20*time.Millisecond, tt.cond)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if d := time.Since(start); d < 20*time.Millisecond {
				t.Errorf("gave up after %v, before the timeout of 20ms", d)
			}
		})
	}
}

// The condition is called again after the deadline's last pause, so a condition that holds
// just at the deadline is not reported as a timeout.
func TestPoll_ChecksOnceMoreAtTheDeadline(t *testing.T) {
	deadline := time.Now().Add(30 * time.Millisecond)
	err := poll(30*time.Millisecond, func() (bool, error) { return !time.Now().Before(deadline), nil })
	if err != nil {
		t.Errorf("err = %v, want nil", err)
	}
}
