package clock

import (
	"cmp"
	"slices"
	"sync"
	"time"
)

// Fake is a Clock whose time moves only by Advance. A channel timer that is due when it is
// made or reset fires at once; any other timer fires in the Advance call that reaches its
// deadline. Functions of AfterFunc timers run only inside Advance, in the goroutine that calls
// it, after the fake's lock is released (so they may use the clock), and Advance returns after
// they have returned: a test knows what fired when Advance returns.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64 // creation order, to fire timers of equal deadlines in the order they were set
	timers []*fakeTimer
}

// NewFake returns a fake clock that reads start until it is advanced.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

type fakeTimer struct {
	clock *Fake
	c     chan time.Time // nil for AfterFunc timers
	f     func()
	when  time.Time
	seq   uint64
}

// Now returns the fake's current time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// After returns the channel of a new timer of d.
func (f *Fake) After(d time.Duration) <-chan time.Time { return f.NewTimer(d).C() }

// NewTimer returns a timer whose channel (buffered, one value) receives the fake time at which
// it fires.
func (f *Fake) NewTimer(d time.Duration) Timer {
	t := &fakeTimer{clock: f, c: make(chan time.Time, 1)}
	t.Reset(d)
	return t
}

// AfterFunc returns a timer that calls fn in the Advance call that reaches now+d.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	t := &fakeTimer{clock: f, f: fn}
	t.Reset(d)
	return t
}

// Pending returns the number of timers that have not fired and are not stopped: a test
// waits for the code under test to set its timer before it advances past it.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.timers)
}

// Next returns the deadline of the earliest pending timer, and false when none is pending:
// a test waits for the code under test to set a timer due by some time before it advances.
func (f *Fake) Next() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.timers) == 0 {
		return time.Time{}, false
	}
	return f.timers[0].when, true
}

// Advance moves the time forward by d (a negative d is refused with a panic: time does not
// go back) and fires, in the order of their deadlines, every timer due by then. While a timer
// fires, Now reads its deadline; when Advance returns, Now reads the old time plus d.
func (f *Fake) Advance(d time.Duration) {
	if d < 0 {
		panic("clock: Fake.Advance with a negative duration")
	}
	f.mu.Lock()
	end := f.now.Add(d)
	f.mu.Unlock()
	for {
		t := f.popDue(end)
		if t == nil {
			break
		}
		if t.f != nil {
			t.f()
		}
	}
	f.mu.Lock()
	f.now = end
	f.mu.Unlock()
}

// popDue removes the earliest timer due by end, moves the time to its deadline and sends on
// its channel; it returns nil when no timer is due.
func (f *Fake) popDue(end time.Time) *fakeTimer {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.timers) == 0 || f.timers[0].when.After(end) {
		return nil
	}
	t := f.timers[0]
	f.timers = f.timers[1:]
	if t.when.After(f.now) {
		f.now = t.when
	}
	t.send(f.now)
	return t
}

// remove takes t off the pending timers and reports whether it was there. f.mu is held.
func (f *Fake) remove(t *fakeTimer) bool {
	i := slices.Index(f.timers, t)
	if i < 0 {
		return false
	}
	f.timers = slices.Delete(f.timers, i, i+1)
	return true
}

// insert adds t, keeping the timers ordered by deadline, then by creation. f.mu is held.
func (f *Fake) insert(t *fakeTimer) {
	i, _ := slices.BinarySearchFunc(f.timers, t, func(a, b *fakeTimer) int {
		if c := a.when.Compare(b.when); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	f.timers = slices.Insert(f.timers, i, t)
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	t.drain()
	return t.clock.remove(t)
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	f := t.clock
	f.mu.Lock()
	defer f.mu.Unlock()
	t.drain()
	was := f.remove(t)
	f.seq++
	t.when, t.seq = f.now.Add(d), f.seq
	if d <= 0 && t.c != nil {
		t.send(f.now)
		return was
	}
	f.insert(t)
	return was
}

// send delivers now on the timer's channel, if it has one and it is empty.
func (t *fakeTimer) send(now time.Time) {
	if t.c == nil {
		return
	}
	select {
	case t.c <- now:
	default:
	}
}

// drain empties the timer's channel of a value sent before a Stop or Reset.
func (t *fakeTimer) drain() {
	if t.c == nil {
		return
	}
	select {
	case <-t.c:
	default:
	}
}
