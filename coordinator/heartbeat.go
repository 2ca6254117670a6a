package coordinator

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// heartbeat serves a worker's heartbeat on the leader. The contract with the worker: its
// heartbeats are sequential and each lists every task it runs, those started from the
// previous response included. A heartbeat of the worker process last served (incarnation)
// numbered (seq) no higher than that one is stale, delayed in the network: it is refused
// (ErrStaleHeartbeat) and changes nothing. Then:
//   - a listed task whose lease is current is renewed (deadline now + LeaseTTL) and its
//     progress recorded;
//   - a listed task whose lease is not current gets a stop order with the reason;
//   - a lease of the worker granted before the previous heartbeat and not listed is taken
//     back at once (the worker does not run it: it restarted, or never got the grant);
//   - the cleanups the worker reports done are recorded, and it may be ordered to clean up
//     failed or canceled jobs (see cleanups);
//   - new leases are granted for up to free_slots pending tasks, in Pending's fair order;
//   - a worker granted nothing may be given speculative attempts of slow shards
//     (speculate.go).
//
// now is the time the heartbeat arrived.
func (s *scheduler) heartbeat(ctx context.Context, req *pb.HeartbeatRequest, now time.Time) (*pb.HeartbeatResponse, error) {
	id := req.GetWorkerId()
	if id == "" {
		return nil, fmt.Errorf("%w: a heartbeat needs the worker's id", ErrBadRequest)
	}
	s.mu.Lock()
	if !s.active {
		s.mu.Unlock()
		return nil, ErrNotLeader
	}
	w := s.workerLocked(id)
	if inc := req.GetIncarnation(); inc != 0 {
		if inc == w.incarnation && req.GetSeq() <= w.seq {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w: heartbeat %d of worker %s arrived after its heartbeat %d was served",
				ErrStaleHeartbeat, req.GetSeq(), id, w.seq)
		}
		w.incarnation, w.seq = inc, req.GetSeq()
	}
	w.hb++
	hb := w.hb
	if d := now.Sub(w.beat); !w.beat.IsZero() && d > 0 {
		if d > w.gap {
			w.gap = d
		} else {
			w.gap -= (w.gap - d) / 8
		}
	}
	w.beat = now
	w.free, w.running = int(req.FreeSlots), len(req.Running)
	w.jobs = map[string]bool{}
	for _, rt := range req.Running {
		w.jobs[rt.GetTask().GetJobId()] = true
	}
	listed := map[fsm.TaskRef]bool{}
	var stops []*pb.StopTask
	for _, rt := range req.Running {
		ref := fsm.RefOf(rt.Task)
		if reason := s.renewLocked(id, ref, rt.Epoch, rt.Progress, now, hb); reason != "" {
			stops = append(stops, &pb.StopTask{Task: rt.Task, Epoch: rt.Epoch, Reason: reason})
			continue
		}
		listed[ref] = true
	}
	var gone []*lease
	for ref, l := range w.leases {
		if !listed[ref] && l.hb < hb {
			gone = append(gone, l)
		}
	}
	sortLeases(gone)
	var missing []*pb.Expiry
	for _, l := range gone {
		missing = append(missing, &pb.Expiry{Task: l.ref.Proto(), Epoch: l.epoch,
			Cause: fmt.Sprintf("worker %s no longer runs it (restarted, or never received the lease)", id)})
		s.removeLocked(l)
	}
	s.mu.Unlock()
	s.changed() // progress
	if len(missing) > 0 {
		if err := s.expire(missing); err != nil {
			// Still in the state: keep them, by their deadlines, or nothing would expire
			// them; the worker's next heartbeat takes them back again.
			s.putBack(gone, time.Time{})
			return nil, err
		}
	}
	cleanup, err := s.cleanups(req, hb)
	if err != nil {
		return nil, err
	}
	start, err := s.assign(ctx, id, int(req.FreeSlots), hb, now)
	if err != nil {
		return nil, err
	}
	if free := int(req.FreeSlots) - len(start); free > 0 && len(start) == 0 {
		more, err := s.speculate(ctx, id, free, hb, now)
		if err != nil {
			return nil, err
		}
		start = append(start, more...)
	}
	return &pb.HeartbeatResponse{Start: start, Stop: stops, LeaseTtlMs: s.cfg.LeaseTTL.Milliseconds(),
		Cleanup: cleanup}, nil
}

// renewLocked renews the worker's lease of ref under epoch, or returns why the worker must
// stop the task. The FSM decides whether the lease is current; a current lease the leader
// has no memory of (granted just before it took over) is adopted. s.mu is held.
func (s *scheduler) renewLocked(worker string, ref fsm.TaskRef, epoch uint64, p *pb.Progress, now time.Time, hb uint64) string {
	info, ok := s.state.Task(ref)
	if !ok {
		return "the task does not exist"
	}
	if !info.Current(worker, epoch) {
		if l := s.leases[leaseKey{ref, epoch}]; l != nil {
			s.removeLocked(l)
		}
		return s.stopReason(ref, info, epoch)
	}
	l := s.leases[leaseKey{ref, epoch}]
	if l == nil {
		l = &lease{ref: ref, epoch: epoch, worker: worker, hb: hb}
		s.addLocked(l)
	}
	if l.died {
		s.log.Info("a worker gossip declared dead still heartbeats: its lease is renewed", "worker", worker, "task", ref)
		l.died = false
	}
	l.deadline = now.Add(s.cfg.LeaseTTL)
	if p != nil {
		l.progress = proto.Clone(p).(*pb.Progress)
		l.observe(p.Bytes, now)
	}
	return ""
}

// stopReason says why a lease under epoch is not current.
func (s *scheduler) stopReason(ref fsm.TaskRef, info fsm.TaskInfo, epoch uint64) string {
	if st, ok := s.state.Job(ref.Job); ok {
		switch st.State {
		case pb.JobState_JOB_STATE_CANCELED, pb.JobState_JOB_STATE_FAILED, pb.JobState_JOB_STATE_SUCCEEDED:
			return fmt.Sprintf("job %s is over (%s)", ref.Job, jobStateText(st.State))
		}
	}
	switch {
	case info.State == pb.TaskState_TASK_STATE_COMMITTED:
		return "the task's result is already committed"
	case info.State == pb.TaskState_TASK_STATE_LEASED:
		return fmt.Sprintf("the lease of epoch %d is not current: the task runs under epoch %d on worker %s",
			epoch, info.Lease.Epoch, info.Lease.Worker)
	}
	return fmt.Sprintf("the lease of epoch %d was taken back (%s)", epoch, info.Cause)
}

// pickLocked picks up to free pending tasks for worker, in Pending's fair order among the
// jobs whose constraints it satisfies: first those of jobs it is warm for or no worker is
// warm for, then, to fill its free slots, those of jobs warm on other workers (see
// placement.go); a task that last failed on this worker only if no other worker may take it
// (avoidLocked). s.mu is held.
func (s *scheduler) pickLocked(worker string, free int, now time.Time) []fsm.TaskRef {
	skip := func(ref fsm.TaskRef) bool { return s.reserved[ref] || s.avoidLocked(worker, ref, now) }
	pick := s.state.PendingWhere(free, skip, func(id string, spec []byte) bool {
		return s.canRunLocked(worker, id, spec) && !s.warmElsewhereLocked(worker, id, spec)
	})
	if len(pick) == free {
		return pick
	}
	picked := map[fsm.TaskRef]bool{}
	for _, ref := range pick {
		picked[ref] = true
	}
	more := s.state.PendingWhere(free-len(pick), func(ref fsm.TaskRef) bool { return skip(ref) || picked[ref] },
		func(id string, spec []byte) bool {
			return s.canRunLocked(worker, id, spec) && s.warmElsewhereLocked(worker, id, spec)
		})
	return append(pick, more...)
}

// assign grants the worker up to free pending tasks and returns them as assignments.
func (s *scheduler) assign(ctx context.Context, worker string, free int, hb uint64, now time.Time) ([]*pb.Assignment, error) {
	if free <= 0 {
		return nil, nil
	}
	s.mu.Lock()
	if s.down[worker] || s.coolingLocked(worker, now) {
		s.mu.Unlock()
		return nil, nil // gossip says it is gone (its heartbeat was in flight), or it cools down
	}
	deaths := s.deaths[worker]
	pick := s.pickLocked(worker, free, now)
	for _, ref := range pick {
		s.reserved[ref] = true
	}
	s.pruneJobsLocked()
	s.mu.Unlock()
	if len(pick) == 0 {
		return nil, nil
	}
	deadline := now.Add(s.cfg.LeaseTTL)
	grants := make([]*pb.Grant, len(pick))
	for i, ref := range pick {
		grants[i] = &pb.Grant{Task: ref.Proto(), WorkerId: worker, DeadlineUnixMs: deadline.UnixMilli()}
	}
	r := s.cmds.grant(ctx, grants)
	s.mu.Lock()
	for _, ref := range pick {
		delete(s.reserved, ref)
	}
	if r.err != nil {
		s.mu.Unlock()
		return nil, r.err
	}
	var granted []fsm.TaskRef
	var added []*lease
	for i, ref := range pick {
		if r.errs[i] == nil && s.active {
			l := &lease{ref: ref, epoch: r.index, worker: worker, deadline: deadline, hb: hb, since: now, seen: now}
			s.grantedLocked(l)
			added = append(added, l)
			granted = append(granted, ref)
		}
	}
	if s.deaths[worker] != deaths && len(added) > 0 {
		// Gossip declared the worker dead (or it left) while the grant was in raft, after
		// workerDied looked at its leases: these live only while its heartbeats renew them.
		s.dyingLocked(s.workerLocked(worker), slices.Values(added), now)
	}
	s.mu.Unlock()
	s.kickLoop()
	out := make([]*pb.Assignment, 0, len(granted))
	for _, ref := range granted {
		info, ok := s.state.Task(ref)
		spec, _ := s.state.JobSpec(ref.Job)
		if !ok || info.Lease.Epoch != r.index {
			continue // taken back (a cancel) between the grant and now
		}
		out = append(out, &pb.Assignment{Task: ref.Proto(), Epoch: r.index, Attempt: info.Attempt,
			JobSpec: spec, ShardSpec: info.Spec})
	}
	return out, nil
}

// commit commits a task's result (batched with others' on a Node) at now, then forgets its
// lease and records the worker's success. A commit that repeats the one that won (a retry
// after a lost answer) succeeds.
func (s *scheduler) commit(ctx context.Context, c *pb.TaskCommit, now time.Time) error {
	ref := fsm.RefOf(c.Task)
	info, _ := s.state.Task(ref)
	worker := workerAt(info, c.Epoch)
	r := s.cmds.commit(ctx, []*pb.TaskCommit{c})
	if r.err != nil {
		return r.err
	}
	err := r.errs[0]
	if err == nil && c.GetShard() != nil {
		s.committedShard(info, c.Epoch, c.GetShard().Bytes, now)
	}
	s.forget(ref, c.Epoch)
	if err == nil && worker != "" {
		s.outcome(worker, pb.FailureKind_FAILURE_KIND_UNSPECIFIED, now)
	}
	if err != nil && s.alreadyCommitted(ref, c) {
		return nil
	}
	if err == nil && c.GetFinalize() != nil {
		s.forgetJob(ref.Job)
	}
	return err
}

// alreadyCommitted says c is the result the task holds: the same attempt of a shard, the
// same plan or finalize result.
func (s *scheduler) alreadyCommitted(ref fsm.TaskRef, c *pb.TaskCommit) bool {
	info, ok := s.state.Task(ref)
	if !ok || info.State != pb.TaskState_TASK_STATE_COMMITTED {
		return false
	}
	switch r := c.Result.(type) {
	case *pb.TaskCommit_Shard:
		return info.Result != nil && proto.Equal(info.Result, r.Shard)
	case *pb.TaskCommit_Plan, *pb.TaskCommit_Finalize:
		st, ok := s.state.Job(ref.Job)
		if !ok {
			return false
		}
		if f := c.GetFinalize(); f != nil {
			return st.State == pb.JobState_JOB_STATE_SUCCEEDED && proto.Equal(st.Result, f)
		}
		return st.Shards == c.GetPlan().GetShards() && st.State != pb.JobState_JOB_STATE_PLANNING
	}
	return false
}

// fail records a failed or handed-back attempt (batched with others' on a Node) at now,
// then forgets its lease and, for an ERROR, counts it against the worker (cooldown.go).
func (s *scheduler) fail(ctx context.Context, f *pb.TaskFailure, now time.Time) error {
	ref := fsm.RefOf(f.Task)
	worker := s.leaseWorker(ref, f.Epoch)
	r := s.cmds.fail(ctx, []*pb.TaskFailure{f})
	if r.err != nil {
		return r.err
	}
	s.forget(ref, f.Epoch)
	if r.errs[0] == nil && worker != "" && f.Kind == pb.FailureKind_FAILURE_KIND_ERROR {
		s.outcome(worker, f.Kind, now)
		s.failedOnWorker(ref, worker)
	}
	return r.errs[0]
}

// leaseWorker returns the worker of the lease of ref under epoch, "" if that lease is not
// current.
func (s *scheduler) leaseWorker(ref fsm.TaskRef, epoch uint64) string {
	info, _ := s.state.Task(ref)
	return workerAt(info, epoch)
}

// workerAt returns the worker of the task's lease under epoch, "" if that lease is not
// current.
func workerAt(info fsm.TaskInfo, epoch uint64) string {
	l, _, ok := info.LeaseAt(epoch)
	if !ok {
		return ""
	}
	return l.Worker
}

// outcome records an attempt's end on worker at now: a commit (kind UNSPECIFIED) or an
// ERROR failure.
func (s *scheduler) outcome(worker string, kind pb.FailureKind, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active {
		return
	}
	if kind == pb.FailureKind_FAILURE_KIND_ERROR {
		s.failedLocked(worker, now)
	} else {
		s.committedLocked(worker, now)
	}
}

// progress returns the last reported progress of the running tasks of a job, summed; of a
// task running twice (a speculative attempt), the attempt further on counts.
func (s *scheduler) progress(job string) *pb.Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	ahead := map[fsm.TaskRef]*pb.Progress{}
	for k, l := range s.leases {
		if k.ref.Job != job || l.progress == nil {
			continue
		}
		if q := ahead[k.ref]; q == nil || l.progress.Bytes > q.Bytes {
			ahead[k.ref] = l.progress
		}
	}
	var p pb.Progress
	for _, l := range ahead {
		p.Bytes += l.Bytes
		p.Documents += l.Documents
		p.Rejected += l.Rejected
		p.Tokens += l.Tokens
	}
	return &p
}

// busy returns the running tasks each worker last reported.
func (s *scheduler) busy() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.workers))
	for id, w := range s.workers {
		out[id] = w.running
	}
	return out
}

// slots returns the free and busy slots the workers last reported.
func (s *scheduler) slots() (free, busy int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.workers {
		free += w.free
		busy += w.running
	}
	return free, busy
}
