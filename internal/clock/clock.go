// Package clock gives code that waits for time (leases, heartbeats, retries) its time through
// an interface, so that tests advance a fake clock instead of sleeping. Real returns the
// system clock; NewFake returns a clock that moves only when its Advance is called.
//
// Both clocks and their timers are safe for concurrent use.
package clock

import "time"

// Clock is the source of the current time and of timers.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has passed.
	After(d time.Duration) <-chan time.Time
	// NewTimer returns a timer whose channel receives the time once d has passed.
	NewTimer(d time.Duration) Timer
	// AfterFunc returns a timer that calls f once d has passed; its C is nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a single event, as time.Timer.
type Timer interface {
	// C is the channel the time is sent on; nil for a timer made by AfterFunc.
	C() <-chan time.Time
	// Stop prevents the timer from firing; it returns false if the timer had already fired
	// or been stopped. After Stop, C receives no value from before the call.
	Stop() bool
	// Reset makes the timer fire once d has passed from now; it returns whether the timer
	// was pending. After Reset, C receives no value from before the call.
	Reset(d time.Duration) bool
}

// Real returns the system clock: the functions of package time.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
func (realClock) NewTimer(d time.Duration) Timer         { return realTimer{time.NewTimer(d)} }
func (realClock) AfterFunc(d time.Duration, f func()) Timer {
	return realTimer{time.AfterFunc(d, f)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }
