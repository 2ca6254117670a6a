package main

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// soakEvent is a worker the chaos killed or paused, and when: the raft log tells which tasks
// it held then and when they were committed.
type soakEvent struct {
	at     time.Time
	worker string
	what   string // "kill" or "pause"
}

// The chaos's actions; its first len(soakActions) actions are each of them once, in an
// order the seed draws, so that even a short run does every one.
var soakActions = []string{"kill the leader", "kill a follower", "pause a coordinator", "kill a worker", "pause a worker"}

// soakChaos kills, restarts, pauses and resumes the cluster's processes, drawing every
// choice (action, node, gaps, down times) from its seeded generator; the timing of what the
// processes do meanwhile is not seeded. Coordinator actions run one at a time to their end
// (the coordinator back and the cluster led), so no more than one coordinator is ever out;
// at most two workers are out (killed or paused) at once. The spares (c1, w1) are never
// killed: a spare leader is paused instead.
type soakChaos struct {
	c   *soakCluster
	rng *rand.Rand
	log func(format string, args ...any)

	mu          sync.Mutex
	counts      map[string]int
	events      []soakEvent
	out         map[string]bool // workers killed or paused, not back yet
	worstLeader time.Duration   // the longest time from a leader's kill or pause to a new leader
	err         error
	pending     sync.WaitGroup // scheduled restarts and resumptions of workers
}

func (ch *soakChaos) run(ctx context.Context) {
	ch.counts, ch.out = map[string]int{}, map[string]bool{}
	order := ch.rng.Perm(len(soakActions))
	for i := 0; ; i++ {
		gap := time.Duration(1500+ch.rng.IntN(2500)) * time.Millisecond
		select {
		case <-ctx.Done():
			return
		case <-time.After(gap):
		}
		a := soakActions[ch.rng.IntN(len(soakActions))]
		if i < len(order) {
			a = soakActions[order[i]]
		}
		if err := ch.do(a); err != nil {
			ch.mu.Lock()
			ch.err = err
			ch.mu.Unlock()
			return
		}
	}
}

func (ch *soakChaos) count(what string) {
	ch.mu.Lock()
	ch.counts[what]++
	ch.mu.Unlock()
}

func (ch *soakChaos) do(action string) error {
	switch action {
	case "kill the leader", "kill a follower":
		leader, _, err := ch.c.leader("")
		if err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		var n *soakNode
		if action == "kill the leader" {
			n = ch.c.coord(leader)
			if n.spare {
				return ch.pauseCoordinator(n, leader)
			}
		} else {
			var cands []*soakNode
			for _, c := range ch.c.coords {
				if !c.spare && c.id != leader {
					cands = append(cands, c)
				}
			}
			n = cands[ch.rng.IntN(len(cands))]
		}
		down := time.Duration(1000+ch.rng.IntN(2000)) * time.Millisecond
		at := time.Now()
		if err := n.kill(); err != nil {
			return err
		}
		what := "coordinator killed (follower)"
		if n.id == leader {
			what = "coordinator killed (leader)"
		}
		ch.count(what)
		ch.log("soak chaos [%s]: %s %s, back in %v", at.Format("15:04:05.000"), what, n.id, down)
		if n.id == leader {
			if err := ch.newLeader(n.id, at); err != nil {
				return err
			}
		}
		time.Sleep(down) // the coordinator's down time, drawn from the seed
		if err := n.start(); err != nil {
			return err
		}
		return ch.coordinatorBack(n)
	case "pause a coordinator":
		leader, _, err := ch.c.leader("")
		if err != nil {
			return fmt.Errorf("%s: %w", action, err)
		}
		n := ch.c.coords[ch.rng.IntN(len(ch.c.coords))]
		return ch.pauseCoordinator(n, leader)
	case "kill a worker", "pause a worker":
		ch.mu.Lock()
		var cands []*soakNode
		outs := 0
		for _, w := range ch.c.workers {
			switch {
			case ch.out[w.id]:
				outs++
			case action == "kill a worker" && w.spare:
			default:
				cands = append(cands, w)
			}
		}
		if outs >= 2 || len(cands) == 0 {
			ch.mu.Unlock()
			ch.log("soak chaos: %s skipped: %d workers out", action, outs)
			return nil
		}
		w := cands[ch.rng.IntN(len(cands))]
		ch.out[w.id] = true
		ch.mu.Unlock()
		if action == "kill a worker" {
			down := time.Duration(500+ch.rng.IntN(4000)) * time.Millisecond
			at := time.Now()
			if err := w.kill(); err != nil {
				return err
			}
			ch.record(soakEvent{at: at, worker: w.id, what: "kill"}, "worker killed")
			ch.log("soak chaos [%s]: worker %s killed, back in %v", at.Format("15:04:05.000"), w.id, down)
			ch.later(w, down, w.start)
			return nil
		}
		// Past its lease: the coordinators take its tasks back and its late results are
		// refused.
		stopped := soakLeaseTTL + time.Duration(1000+ch.rng.IntN(4000))*time.Millisecond
		at := time.Now()
		if err := w.pause(); err != nil {
			return err
		}
		ch.record(soakEvent{at: at, worker: w.id, what: "pause"}, "worker paused past its lease")
		ch.log("soak chaos [%s]: worker %s paused for %v", at.Format("15:04:05.000"), w.id, stopped)
		ch.later(w, stopped, w.resume)
		return nil
	}
	return fmt.Errorf("unknown action %q", action)
}

// pauseCoordinator stops n for 2 to 6 s (drawn from the seed); when n leads, the time to a
// new leader counts as a recovery.
func (ch *soakChaos) pauseCoordinator(n *soakNode, leader string) error {
	stopped := time.Duration(2000+ch.rng.IntN(4000)) * time.Millisecond
	at := time.Now()
	if err := n.pause(); err != nil {
		return err
	}
	what := "coordinator paused (follower)"
	if n.id == leader {
		what = "coordinator paused (leader)"
	}
	ch.count(what)
	ch.log("soak chaos [%s]: %s %s for %v", at.Format("15:04:05.000"), what, n.id, stopped)
	if n.id == leader {
		if err := ch.newLeader(n.id, at); err != nil {
			n.resume()
			return err
		}
	}
	time.Sleep(time.Until(at.Add(stopped))) // the pause's length, drawn from the seed
	if err := n.resume(); err != nil {
		return err
	}
	return ch.coordinatorBack(n)
}

// newLeader waits for the other coordinators to elect a leader other than old and records
// the time since at.
func (ch *soakChaos) newLeader(old string, at time.Time) error {
	err := pollUntil(2*clusterTimeout, func() (bool, error) {
		l, _, err := ch.c.leader(old)
		return err == nil && l != old, fmt.Errorf("leader %q: %v", l, err)
	})
	if err != nil {
		return fmt.Errorf("no new leader after %s stopped: %w", old, err)
	}
	d := time.Since(at)
	ch.mu.Lock()
	ch.worstLeader = max(ch.worstLeader, d)
	ch.mu.Unlock()
	ch.log("soak chaos: a new leader %v after %s stopped", d.Round(time.Millisecond), old)
	return nil
}

// coordinatorBack waits until n answers and knows a leader, with 3 voters.
func (ch *soakChaos) coordinatorBack(n *soakNode) error {
	err := pollUntil(2*clusterTimeout, func() (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		ps, err := ch.c.clients[n.id].RaftPeers(ctx)
		if err != nil {
			return false, err
		}
		leaders, voters := 0, 0
		for _, p := range ps {
			if p.State == "leader" {
				leaders++
			}
			if p.Voter {
				voters++
			}
		}
		return leaders == 1 && voters == 3, fmt.Errorf("%d leaders, %d voters", leaders, voters)
	})
	if err != nil {
		return fmt.Errorf("coordinator %s back: %w", n.id, err)
	}
	return nil
}

func (ch *soakChaos) record(e soakEvent, what string) {
	ch.mu.Lock()
	ch.events = append(ch.events, e)
	ch.counts[what]++
	ch.mu.Unlock()
}

// later runs fn (a restart or a resumption of w) after d, and marks w back.
func (ch *soakChaos) later(w *soakNode, d time.Duration, fn func() error) {
	ch.pending.Add(1)
	go func() {
		defer ch.pending.Done()
		time.Sleep(d) // the worker's down time, drawn from the seed
		err := fn()
		ch.mu.Lock()
		defer ch.mu.Unlock()
		delete(ch.out, w.id)
		if err != nil && ch.err == nil {
			ch.err = fmt.Errorf("bringing %s back: %w", w.id, err)
		}
	}()
}

// heal waits for the scheduled restarts and resumptions, makes sure every process runs
// unpaused, and waits for a leader, 3 voters and 4 alive workers.
func (ch *soakChaos) heal() error {
	ch.pending.Wait()
	for _, n := range ch.c.all() {
		if !n.running() {
			if err := n.start(); err != nil {
				return err
			}
		} else if !n.up() {
			if err := n.resume(); err != nil {
				return err
			}
		}
	}
	if err := pollUntil(2*clusterTimeout, func() (bool, error) {
		l, voters, err := ch.c.leader("")
		return err == nil && l != "" && voters == 3, fmt.Errorf("leader %q, %d voters: %v", l, voters, err)
	}); err != nil {
		return fmt.Errorf("after the chaos: %w", err)
	}
	return pollUntil(2*clusterTimeout, func() (bool, error) {
		alive, err := ch.c.aliveWorkers()
		return err == nil && len(alive) == 4, fmt.Errorf("alive workers %v: %v", alive, err)
	})
}

func (ch *soakChaos) kills() int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	n := 0
	for what, c := range ch.counts {
		if strings.Contains(what, "killed") {
			n += c
		}
	}
	return n
}

// summary says how many failures of each sort were injected.
func (ch *soakChaos) summary() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	total := 0
	var parts []string
	for _, what := range slices.Sorted(maps.Keys(ch.counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", ch.counts[what], what))
		total += ch.counts[what]
	}
	return fmt.Sprintf("%d: %s", total, strings.Join(parts, ", "))
}

func (ch *soakChaos) workerEvents() []soakEvent {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return slices.Clone(ch.events)
}

func (c *soakCluster) node(id string) *soakNode {
	for _, n := range c.all() {
		if n.id == id {
			return n
		}
	}
	panic("no node " + id)
}

func (c *soakCluster) coord(id string) *soakNode {
	for _, n := range c.coords {
		if n.id == id {
			return n
		}
	}
	panic("no coordinator " + id)
}
