package coordinator

import (
	"time"
)

// Cool-down: a worker on which attempts keep failing while tasks succeed on other workers
// gets no new tasks for a while. The leader counts, per worker, the attempts that failed
// with kind ERROR (input errors are the data's fault, hand-backs no one's, lost leases the
// network's or a crash's, which gossip and the lease handle); when CooldownFailures of them
// fall within CooldownWindow and another worker committed a task within that window, the
// worker cools down for CooldownBase, doubled at each cool-down after the first (up to
// CooldownMax) until it commits a task again. The memory is the leader's: it survives a
// worker's death (a crashed process restarts on the same machine) and is lost with
// leadership.

// Cool-down defaults, used where schedConfig leaves them zero.
const (
	defaultCooldownFailures = 3
	defaultCooldownWindow   = 5 * time.Minute
	defaultCooldownBase     = time.Minute
	defaultCooldownMax      = 16 * time.Minute
)

// health is the leader's record of one worker's recent outcomes.
type health struct {
	fails     []time.Time // ERROR failures within the window, oldest first
	committed time.Time   // the worker's last commit
	until     time.Time   // end of the current or last cool-down
	level     int         // cool-downs since the worker last committed
}

// healthLocked returns the worker's record, made on first use. s.mu is held.
func (s *scheduler) healthLocked(id string) *health {
	h := s.health[id]
	if h == nil {
		h = &health{}
		s.health[id] = h
	}
	return h
}

// coolingLocked says the worker is cooling down at now. s.mu is held.
func (s *scheduler) coolingLocked(id string, now time.Time) bool {
	h := s.health[id]
	return h != nil && now.Before(h.until)
}

// failedLocked records an ERROR failure of an attempt on worker at now, and starts a
// cool-down when the rule says so. s.mu is held.
func (s *scheduler) failedLocked(worker string, now time.Time) {
	h := s.healthLocked(worker)
	from := now.Add(-s.cfg.CooldownWindow)
	h.fails = append(h.fails, now)
	for len(h.fails) > 0 && h.fails[0].Before(from) {
		h.fails = h.fails[1:]
	}
	if len(h.fails) < s.cfg.CooldownFailures || now.Before(h.until) || !s.succeededElsewhereLocked(worker, from) {
		return
	}
	d := min(s.cfg.CooldownBase<<min(h.level, 20), s.cfg.CooldownMax)
	h.until, h.fails = now.Add(d), nil
	h.level++
	s.started++
	s.log.Warn("worker cooling down: its attempts keep failing while others succeed",
		"worker", worker, "for", d, "failures", s.cfg.CooldownFailures, "window", s.cfg.CooldownWindow)
}

// succeededElsewhereLocked says a worker other than worker committed a task since from.
// s.mu is held.
func (s *scheduler) succeededElsewhereLocked(worker string, from time.Time) bool {
	for id, h := range s.health {
		if id != worker && !h.committed.Before(from) && !h.committed.IsZero() {
			return true
		}
	}
	return false
}

// committedLocked records a commit of worker at now: its failures are forgiven and its next
// cool-down, if any, starts again at CooldownBase. s.mu is held.
func (s *scheduler) committedLocked(worker string, now time.Time) {
	h := s.healthLocked(worker)
	h.committed, h.fails, h.level = now, nil, 0
}

// cooldowns returns the end of each worker's cool-down that has not ended at now.
func (s *scheduler) cooldowns(now time.Time) map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for id, h := range s.health {
		if now.Before(h.until) {
			out[id] = h.until
		}
	}
	return out
}

// cooldownsStarted returns the cool-downs started since the scheduler was made.
func (s *scheduler) cooldownsStarted() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// withCooldownDefaults fills the zero cool-down settings of c with the defaults.
func (c schedConfig) withCooldownDefaults() schedConfig {
	if c.CooldownFailures <= 0 {
		c.CooldownFailures = defaultCooldownFailures
	}
	if c.CooldownWindow <= 0 {
		c.CooldownWindow = defaultCooldownWindow
	}
	if c.CooldownBase <= 0 {
		c.CooldownBase = defaultCooldownBase
	}
	if c.CooldownMax <= 0 {
		c.CooldownMax = defaultCooldownMax
	}
	return c
}
