package coordinator

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// scheduler is the leader's broker of leases, in memory. The FSM says which leases exist
// (granted, expired, committed through raft); the scheduler keeps what only the leader needs:
// each lease's deadline, renewed by its worker's heartbeats, the progress the worker last
// reported, and each worker's heartbeat count and free slots. It is rebuilt from the FSM when
// the node gains leadership, every deadline then set a grace period ahead, and emptied when
// leadership is lost.
//
// Concurrency: the methods are safe for concurrent use; mu guards the maps. Raft entries are
// applied without mu held.
type scheduler struct {
	n   *Node
	log *slog.Logger

	mu      sync.Mutex
	active  bool // this node leads and the state is rebuilt
	leases  map[fsm.TaskRef]*lease
	workers map[string]*workerState
	// reserved are pending tasks being granted: the next Pending must not pick them again.
	reserved map[fsm.TaskRef]bool
	kick     chan struct{} // wakes the expiry loop when a lease is added

	grants  *batcher[*pb.Grant]
	commits *batcher[*pb.TaskCommit]
	fails   *batcher[*pb.TaskFailure]
}

// lease is the leader's memory of one lease of the FSM.
type lease struct {
	ref      fsm.TaskRef
	epoch    uint64
	worker   string
	deadline time.Time
	progress *pb.Progress
	// hb is the worker's heartbeat count when the lease was granted (0 for a lease rebuilt
	// from the FSM): a later heartbeat that does not list the lease shows the worker does
	// not run it.
	hb uint64
}

// workerState is what the leader knows of a worker from its heartbeats.
type workerState struct {
	hb      uint64 // heartbeats received since this node leads
	free    int    // free slots, as last reported
	running int    // tasks running, as last reported
	leases  map[fsm.TaskRef]*lease
}

func newScheduler(n *Node) *scheduler {
	s := &scheduler{n: n, log: n.log.With("component", "scheduler"), kick: make(chan struct{}, 1)}
	s.grants = newBatcher(n.cfg.BatchMax, n.cfg.BatchWindow, func(g []*pb.Grant) (*fsm.Result, error) {
		return n.apply(fsm.GrantLeases, &pb.GrantCommand{Grants: g})
	})
	s.commits = newBatcher(n.cfg.BatchMax, n.cfg.BatchWindow, func(c []*pb.TaskCommit) (*fsm.Result, error) {
		return n.apply(fsm.CommitTasks, &pb.CommitCommand{Commits: c})
	})
	s.fails = newBatcher(n.cfg.BatchMax, n.cfg.BatchWindow, func(f []*pb.TaskFailure) (*fsm.Result, error) {
		return n.apply(fsm.FailTasks, &pb.FailCommand{Failures: f})
	})
	return s
}

// runBatchers runs the batchers until ctx ends (the node's life).
func (s *scheduler) runBatchers(ctx context.Context, wg *sync.WaitGroup) {
	for _, run := range []func(context.Context){s.grants.run, s.commits.run, s.fails.run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx)
		}()
	}
}

// lead rebuilds the leases from the FSM, each due a grace period from now, and expires
// leases until ctx ends (leadership lost); then it empties the scheduler.
func (s *scheduler) lead(ctx context.Context) {
	now := s.n.clock.Now()
	s.mu.Lock()
	s.active = true
	s.leases = map[fsm.TaskRef]*lease{}
	s.workers = map[string]*workerState{}
	s.reserved = map[fsm.TaskRef]bool{}
	infos := s.n.fsm.Leases()
	for _, li := range infos {
		s.addLocked(&lease{ref: li.Task, epoch: li.Lease.Epoch, worker: li.Lease.Worker,
			deadline: now.Add(s.n.cfg.LeaseGrace)})
	}
	s.mu.Unlock()
	s.log.Info("scheduling", "leases", len(infos), "grace", s.n.cfg.LeaseGrace)
	s.expireLoop(ctx)
	s.mu.Lock()
	s.active = false
	s.leases, s.workers, s.reserved = nil, nil, nil
	s.mu.Unlock()
}

// worker returns the state of a worker, made on first use. s.mu is held.
func (s *scheduler) workerLocked(id string) *workerState {
	w := s.workers[id]
	if w == nil {
		w = &workerState{leases: map[fsm.TaskRef]*lease{}}
		s.workers[id] = w
	}
	return w
}

// addLocked records a lease. s.mu is held.
func (s *scheduler) addLocked(l *lease) {
	if old := s.leases[l.ref]; old != nil {
		s.removeLocked(old)
	}
	s.leases[l.ref] = l
	s.workerLocked(l.worker).leases[l.ref] = l
}

// removeLocked forgets a lease. s.mu is held.
func (s *scheduler) removeLocked(l *lease) {
	if s.leases[l.ref] == l {
		delete(s.leases, l.ref)
	}
	if w := s.workers[l.worker]; w != nil {
		delete(w.leases, l.ref)
	}
}

// forget forgets the lease of ref if its epoch is epoch: it was committed, failed or
// expired through raft.
func (s *scheduler) forget(ref fsm.TaskRef, epoch uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.leases[ref]; l != nil && l.epoch == epoch {
		s.removeLocked(l)
	}
}

// forgetJob forgets every lease of a job that ended.
func (s *scheduler) forgetJob(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ref, l := range s.leases {
		if ref.Job == id {
			s.removeLocked(l)
		}
	}
}

// expireLoop expires the leases whose deadline passed, in one raft entry per round, until
// ctx ends. It sleeps on the node's clock until the earliest deadline or a kick.
func (s *scheduler) expireLoop(ctx context.Context) {
	for {
		next, ok := s.earliest()
		var fire <-chan time.Time
		var t interface{ Stop() bool }
		if ok {
			timer := s.n.clock.NewTimer(next.Sub(s.n.clock.Now()))
			fire, t = timer.C(), timer
		}
		select {
		case <-fire:
			s.expireDue(ctx)
		case <-s.kick:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// earliest returns the earliest deadline of the leases.
func (s *scheduler) earliest() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, l := range s.leases {
		if next.IsZero() || l.deadline.Before(next) {
			next = l.deadline
		}
	}
	return next, !next.IsZero()
}

// expireDue expires every lease whose deadline has passed.
func (s *scheduler) expireDue(ctx context.Context) {
	now := s.n.clock.Now()
	s.mu.Lock()
	var due []*lease
	for _, l := range s.leases {
		if !l.deadline.After(now) {
			due = append(due, l)
			s.removeLocked(l)
		}
	}
	s.mu.Unlock()
	if len(due) == 0 {
		return
	}
	ex := make([]*pb.Expiry, len(due))
	for i, l := range due {
		ex[i] = &pb.Expiry{Task: l.ref.Proto(), Epoch: l.epoch,
			Cause: fmt.Sprintf("lease expired: no heartbeat from worker %s for %v", l.worker, s.n.cfg.LeaseTTL)}
	}
	if err := s.expire(ex); err != nil && ctx.Err() == nil {
		s.log.Warn("expiring leases failed; retrying", "leases", len(due), "err", err)
		s.mu.Lock()
		retry := now.Add(s.n.cfg.LeaseTTL / 10)
		for _, l := range due {
			if s.active && s.leases[l.ref] == nil {
				l.deadline = retry
				s.addLocked(l)
			}
		}
		s.mu.Unlock()
	}
}

// expire takes leases back through raft, in one entry.
func (s *scheduler) expire(ex []*pb.Expiry) error {
	res, err := s.n.apply(fsm.ExpireLeases, &pb.ExpireCommand{Expiries: ex})
	if err != nil {
		return err
	}
	n := 0
	for _, e := range res.Errs {
		if e == nil {
			n++
		}
	}
	s.log.Info("leases taken back", "leases", n, "refused", len(ex)-n, "cause", ex[0].Cause)
	return nil
}

// workerGone takes back at once, in one raft entry, every lease of a worker that gossip
// declared dead or that left. If that fails the leases stay, and expire by their deadlines.
func (s *scheduler) workerGone(id, cause string) {
	if !s.isActive() {
		return
	}
	var ex []*pb.Expiry
	for _, li := range s.n.fsm.LeasesOf(id) {
		ex = append(ex, &pb.Expiry{Task: li.Task.Proto(), Epoch: li.Lease.Epoch, Cause: cause})
	}
	if len(ex) > 0 {
		if err := s.expire(ex); err != nil {
			s.log.Warn("taking back the leases of a dead worker failed; they expire by their deadlines",
				"worker", id, "leases", len(ex), "err", err)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.workers[id]; w != nil {
		for _, l := range w.leases {
			s.removeLocked(l)
		}
		delete(s.workers, id)
	}
}

// isActive says the scheduler runs (this node leads).
func (s *scheduler) isActive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// kickLoop wakes the expiry loop to look at the deadlines again.
func (s *scheduler) kickLoop() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
