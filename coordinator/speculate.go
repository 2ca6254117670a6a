package coordinator

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// Speculative execution: the tail of a job waits for its slowest shard, and a slow or sick
// machine makes that shard slower still. Once no shard of a job is pending, a worker that
// asks for work and gets none may be given a second, speculative attempt of a running shard
// whose progress rate is well below the job's median: the task's backup lease in the FSM
// (fsm.SpeculateLeases), which runs the task's next attempt in its own staging directory.
// The first of the two attempts to commit wins (fencing); the other's next heartbeat gets a
// stop order, and the stopped or refused attempt removes its staged files.
//
// A lease's progress rate is the bytes read its worker reported in heartbeats, divided by
// the time since the grant (for a lease this leader did not grant, since its first
// heartbeat here). A rate counts only once the attempt ran SpeculateAfter; a committed
// shard's rate is its bytes over the time from its grant to its commit (the job's last
// maxRates are kept). With at least
// SpeculateSamples such rates, a running shard (not speculated already, on another worker
// than the one asking) whose rate is below SpeculateSlowness times their median is slow;
// the slowest go first. The rates are the leader's memory, lost with leadership, like the
// lease timers. A speculative attempt counts towards nothing: losing it (an error, its
// worker's death) leaves the task running under its first lease.

// maxRates bounds the committed shards' rates kept per job: the most recent ones.
const maxRates = 1024

// observe records the bytes a heartbeat reported at now.
func (l *lease) observe(bytes int64, now time.Time) {
	if l.since.IsZero() {
		l.since, l.base = now, bytes
	}
	l.seen = now
}

// rateAt returns the lease's progress rate in bytes per second at now and whether it ran
// at least after.
func (l *lease) rateAt(now time.Time, after time.Duration) (float64, bool) {
	if l.since.IsZero() || now.Sub(l.since) < after || l.seen.Sub(l.since) <= 0 {
		return 0, false
	}
	var b int64
	if l.progress != nil {
		b = l.progress.Bytes
	}
	return float64(b-l.base) / l.seen.Sub(l.since).Seconds(), true
}

// committedShard records the commit at now of a shard under epoch, whose task was info
// before: its rate joins the job's rates, the task's other lease is forgotten (its worker is
// told to stop at its next heartbeat), and a winning backup is counted.
func (s *scheduler) committedShard(info fsm.TaskInfo, epoch uint64, bytes int64, now time.Time) {
	ref := info.Ref
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.leases[leaseKey{ref, epoch}]; l != nil && s.active && !l.since.IsZero() && now.After(l.since) {
		r := s.rates[ref.Job]
		if len(r) >= maxRates {
			r = append(r[:0], r[len(r)-maxRates+1:]...)
		}
		s.rates[ref.Job] = append(r, float64(bytes-l.base)/now.Sub(l.since).Seconds())
	}
	if info.Backup.Epoch != 0 && info.Backup.Epoch == epoch {
		s.specWon++
	}
	delete(s.failedOn, ref)
	for _, e := range []uint64{info.Lease.Epoch, info.Backup.Epoch} {
		if l := s.leases[leaseKey{ref, e}]; l != nil {
			s.removeLocked(l)
		}
	}
}

// slowLocked returns up to n leases of shards that worker may run a speculative attempt of,
// the slowest first. s.mu is held.
func (s *scheduler) slowLocked(worker string, n int, now time.Time) []*lease {
	byJob := map[string][]*lease{}
	for k, l := range s.leases {
		if k.ref.Kind == pb.TaskKind_TASK_KIND_SHARD {
			byJob[k.ref.Job] = append(byJob[k.ref.Job], l)
		}
	}
	type cand struct {
		l     *lease
		ratio float64
	}
	var cands []cand
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range byJob {
			if !yield(id) {
				return
			}
		}
	}) {
		spec, ok := s.state.JobSpec(id)
		if !ok || !s.canRunLocked(worker, id, spec) ||
			len(s.state.PendingWhere(1, nil, func(j string, _ []byte) bool { return j == id })) > 0 {
			continue
		}
		rates := slices.Clone(s.rates[id])
		for _, l := range byJob[id] {
			if r, ok := l.rateAt(now, s.cfg.SpeculateAfter); ok {
				rates = append(rates, r)
			}
		}
		if len(rates) < max(1, s.cfg.SpeculateSamples) {
			continue
		}
		med := median(rates)
		for _, l := range byJob[id] {
			r, ok := l.rateAt(now, s.cfg.SpeculateAfter)
			if !ok || l.worker == worker || s.reserved[l.ref] || r >= s.cfg.SpeculateSlowness*med {
				continue
			}
			info, ok := s.state.Task(l.ref)
			if !ok || info.State != pb.TaskState_TASK_STATE_LEASED || info.Lease.Epoch != l.epoch || info.Backup.Epoch != 0 {
				continue // a backup itself, or the task has one
			}
			ratio := 0.0
			if med > 0 {
				ratio = r / med
			}
			cands = append(cands, cand{l, ratio})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		return cmp.Or(cmp.Compare(a.ratio, b.ratio), cmp.Compare(a.l.ref.Job, b.l.ref.Job), cmp.Compare(a.l.ref.Index, b.l.ref.Index))
	})
	out := make([]*lease, 0, min(n, len(cands)))
	for _, c := range cands[:min(n, len(cands))] {
		out = append(out, c.l)
	}
	return out
}

// median returns the median of xs (not empty); it reorders xs.
func median(xs []float64) float64 {
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// speculate grants worker, which asks for up to free tasks and got none, speculative
// attempts of slow shards, and returns them as assignments.
func (s *scheduler) speculate(ctx context.Context, worker string, free int, hb uint64, now time.Time) ([]*pb.Assignment, error) {
	if s.cfg.SpeculateSlowness <= 0 || free <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	if !s.active || s.down[worker] || s.coolingLocked(worker, now) {
		s.mu.Unlock()
		return nil, nil
	}
	deaths := s.deaths[worker]
	slow := s.slowLocked(worker, free, now)
	for _, l := range slow {
		s.reserved[l.ref] = true
	}
	s.mu.Unlock()
	if len(slow) == 0 {
		return nil, nil
	}
	deadline := now.Add(s.cfg.LeaseTTL)
	c := &pb.SpeculateCommand{}
	for _, l := range slow {
		c.Speculations = append(c.Speculations, &pb.Speculation{Task: l.ref.Proto(), Epoch: l.epoch, WorkerId: worker,
			DeadlineUnixMs: deadline.UnixMilli()})
	}
	res, err := s.cmds.apply(fsm.SpeculateLeases, c)
	s.mu.Lock()
	for _, l := range slow {
		delete(s.reserved, l.ref)
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var granted []fsm.TaskRef
	var added []*lease
	for i, l := range slow {
		if res.Errs[i] != nil || !s.active {
			continue
		}
		b := &lease{ref: l.ref, epoch: res.Index, worker: worker, deadline: deadline, hb: hb, since: now, seen: now}
		s.grantedLocked(b)
		added = append(added, b)
		s.specStarted++
		granted = append(granted, l.ref)
		s.log.Info("speculative attempt", "task", l.ref, "worker", worker, "slow_worker", l.worker, "epoch", res.Index)
	}
	if s.deaths[worker] != deaths && len(added) > 0 {
		// Gossip declared the worker dead (or it left) while the backups were in raft, after
		// workerDied looked at its leases: as assign's grants, these live only while its
		// heartbeats renew them.
		s.dyingLocked(s.workerLocked(worker), slices.Values(added), now)
	}
	s.mu.Unlock()
	s.kickLoop()
	var out []*pb.Assignment
	for _, ref := range granted {
		info, ok := s.state.Task(ref)
		spec, _ := s.state.JobSpec(ref.Job)
		_, attempt, current := info.LeaseAt(res.Index)
		if !ok || !current {
			continue // committed or taken back between the grant and now
		}
		out = append(out, &pb.Assignment{Task: ref.Proto(), Epoch: res.Index, Attempt: attempt, JobSpec: spec, ShardSpec: info.Spec})
	}
	return out, nil
}

// speculations returns the speculative attempts started and those that won, over every
// leadership of this node.
func (s *scheduler) speculations() (started, won uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.specStarted, s.specWon
}
