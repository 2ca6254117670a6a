package clock

import (
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fired returns the value waiting on c, if any.
func fired(c <-chan time.Time) (time.Time, bool) {
	select {
	case v := <-c:
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestFake_TimersFireWhenAdvancedToTheirDeadline(t *testing.T) {
	tests := []struct {
		name     string
		timer    time.Duration
		advances []time.Duration
		want     bool // fired after the advances
	}{
		{"not yet", 10 * time.Second, []time.Duration{9 * time.Second}, false},
		{"exactly at the deadline", 10 * time.Second, []time.Duration{10 * time.Second}, true},
		{"in steps", 10 * time.Second, []time.Duration{4 * time.Second, 4 * time.Second, 2 * time.Second}, true},
		{"past it", 10 * time.Second, []time.Duration{time.Minute}, true},
		{"due at once", 0, nil, true},
		{"negative is due at once", -time.Second, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake(t0)
			c := f.After(tt.timer)
			for _, d := range tt.advances {
				f.Advance(d)
			}
			v, ok := fired(c)
			if ok != tt.want {
				t.Fatalf("fired = %v, want %v", ok, tt.want)
			}
			if want := t0.Add(max(tt.timer, 0)); ok && !v.Equal(want) {
				t.Errorf("the timer sent %v, want its deadline %v", v, want)
			}
		})
	}
}

func TestFake_AdvanceFiresInDeadlineOrderAndMovesNow(t *testing.T) {
	f := NewFake(t0)
	var order []string
	var at []time.Duration
	record := func(name string) func() {
		return func() { order = append(order, name); at = append(at, f.Now().Sub(t0)) }
	}
	f.AfterFunc(3*time.Second, record("c"))
	f.AfterFunc(time.Second, record("a"))
	f.AfterFunc(2*time.Second, record("b1"))
	f.AfterFunc(2*time.Second, record("b2")) // same deadline: creation order
	f.AfterFunc(5*time.Second, record("late"))
	if n := f.Pending(); n != 5 {
		t.Fatalf("Pending = %d, want 5", n)
	}
	f.Advance(4 * time.Second)
	if want := []string{"a", "b1", "b2", "c"}; !slices.Equal(order, want) {
		t.Errorf("fired %q, want %q", order, want)
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 2 * time.Second, 3 * time.Second}; !slices.Equal(at, want) {
		t.Errorf("Now while firing = %v, want the deadlines %v", at, want)
	}
	if got := f.Now().Sub(t0); got != 4*time.Second {
		t.Errorf("Now after Advance = t0+%v, want t0+4s", got)
	}
	if n := f.Pending(); n != 1 {
		t.Errorf("Pending = %d, want 1 (late)", n)
	}
}

func TestFake_StopAndReset(t *testing.T) {
	f := NewFake(t0)
	tm := f.NewTimer(time.Second)
	if !tm.Stop() {
		t.Error("Stop of a pending timer = false")
	}
	if tm.Stop() {
		t.Error("second Stop = true")
	}
	f.Advance(time.Hour)
	if _, ok := fired(tm.C()); ok {
		t.Error("a stopped timer fired")
	}

	// Reset of a fired timer whose value was never read: the old value is dropped.
	tm = f.NewTimer(time.Second)
	f.Advance(time.Second)
	if tm.Reset(time.Minute) {
		t.Error("Reset of a fired timer = true")
	}
	if _, ok := fired(tm.C()); ok {
		t.Error("a value from before Reset is still on C")
	}
	f.Advance(59 * time.Second)
	if _, ok := fired(tm.C()); ok {
		t.Error("fired before the reset deadline")
	}
	if !tm.Reset(time.Minute) {
		t.Error("Reset of a pending timer = false")
	}
	f.Advance(time.Second)
	if _, ok := fired(tm.C()); ok {
		t.Error("fired at the deadline from before the second Reset")
	}
	f.Advance(59 * time.Second)
	if _, ok := fired(tm.C()); !ok {
		t.Error("did not fire at the reset deadline")
	}
}

// An AfterFunc function that sets a new timer through the clock (a renewed lease) does not
// deadlock, and the new timer fires in the same Advance when its deadline is reached.
func TestFake_AfterFuncMayUseTheClock(t *testing.T) {
	f := NewFake(t0)
	renewals := 0
	var renew func()
	renew = func() {
		renewals++
		f.AfterFunc(10*time.Second, renew)
	}
	f.AfterFunc(10*time.Second, renew)
	f.Advance(35 * time.Second)
	if renewals != 3 {
		t.Errorf("renewals = %d after 35s of 10s timers, want 3", renewals)
	}
	if n := f.Pending(); n != 1 {
		t.Errorf("Pending = %d, want the one renewal due at 40s", n)
	}
}

func TestFake_AdvanceRefusesNegative(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Advance(-1s) did not panic")
		}
	}()
	NewFake(t0).Advance(-time.Second)
}

func TestReal_TimersFire(t *testing.T) {
	c := Real()
	start := c.Now()
	select {
	case <-c.After(time.Millisecond):
	case <-time.After(10 * time.Second):
		t.Fatal("After(1ms) did not fire within 10s")
	}
	done := make(chan struct{})
	c.AfterFunc(time.Millisecond, func() { close(done) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("AfterFunc(1ms) did not run within 10s")
	}
	tm := c.NewTimer(time.Hour)
	if !tm.Stop() {
		t.Error("Stop of a pending real timer = false")
	}
	if c.Now().Before(start) {
		t.Error("the real clock went back")
	}
}

func TestFake_NextIsTheEarliestPendingDeadline(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	if _, ok := f.Next(); ok {
		t.Fatal("Next with no timer: ok, want false")
	}
	late := f.NewTimer(3 * time.Second)
	f.NewTimer(5 * time.Second)
	if next, ok := f.Next(); !ok || !next.Equal(start.Add(3*time.Second)) {
		t.Fatalf("Next = %v %v, want start+3s", next, ok)
	}
	late.Stop()
	if next, ok := f.Next(); !ok || !next.Equal(start.Add(5*time.Second)) {
		t.Fatalf("Next after Stop = %v %v, want start+5s", next, ok)
	}
	f.Advance(5 * time.Second)
	if _, ok := f.Next(); ok {
		t.Fatal("Next after every timer fired: ok, want false")
	}
}
