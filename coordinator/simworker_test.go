package coordinator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// simWorker is a worker of the simulation. It follows the heartbeat protocol: each heartbeat
// lists every task it runs (finished ones whose result waits for a leader included), starts
// what the response grants and drops what it stops. It dies, comes back, restarts without
// gossip noticing, and now and then heartbeats late.
type simWorker struct {
	w     *simWorld
	id    string
	slots int
	up    bool
	tags  map[string]string // announced in gossip
	sick  bool              // its attempts fail far more often than others' (cool-down)
	slow  bool              // its shards run simSlow times longer (speculation)
	gen   int               // incarnation: events of an earlier one are dropped
	// declared: gossip declared it dead (every coordinator's view) since it last came back.
	declared bool
	seq      uint64 // the heartbeats sent
	running  []*simTask
}

// simTask is a task a worker runs. Once finished, commit or failure is what it reports.
type simTask struct {
	a        *pb.Assignment
	ref      fsm.TaskRef
	start    time.Time     // when the worker started it
	dur      time.Duration // how long it runs
	finished bool
	commit   *pb.TaskCommit
	failure  *pb.TaskFailure
}

// after queues do for this incarnation of the worker.
func (k *simWorker) after(d time.Duration, do func()) {
	gen := k.gen
	k.w.at(d, func() {
		if k.up && k.gen == gen {
			do()
		}
	})
}

// nextBeat queues the next heartbeat: every third of the TTL (within 10%), but now and then
// late enough for its leases to expire.
func (k *simWorker) nextBeat() {
	d := k.w.between(simBeat*9/10, simBeat*11/10)
	if k.w.rng.IntN(60) == 0 {
		d = k.w.between(simTTL*21/20, 2*simTTL)
		k.w.stats.SlowBeats++
	}
	k.after(d, k.beat)
}

func (k *simWorker) beat() {
	w := k.w
	defer k.nextBeat()
	k.report()
	if w.sched == nil {
		return
	}
	k.seq++
	req := &pb.HeartbeatRequest{WorkerId: k.id, FreeSlots: uint32(k.slots - len(k.running)),
		Incarnation: uint64(k.gen) + 1, Seq: k.seq}
	for _, t := range k.running {
		req.Running = append(req.Running, &pb.RunningTask{Task: t.a.Task, Epoch: t.a.Epoch,
			Progress: &pb.Progress{Bytes: t.bytesAt(w.now)}})
	}
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	killed := w.rng.IntN(80) == 0
	if killed {
		w.midApply = cancel
	}
	resp, err := w.sched.heartbeat(ctx, req, w.now)
	w.midApply = nil
	w.logf("%s heartbeat free %d running %v -> %v", k.id, req.FreeSlots, refsOf(k.running), err)
	if killed {
		// Killed while the leader served the heartbeat: the answer (its grants) is lost,
		// and the worker starts again under the same id before gossip notices. The leader
		// renewed the leases it listed that it did not stop all the same.
		if err == nil {
			for _, t := range k.running {
				if !slices.ContainsFunc(resp.Stop, func(st *pb.StopTask) bool { return fsm.RefOf(st.Task) == t.ref && st.Epoch == t.a.Epoch }) {
					w.deadline[simLease{t.ref, t.a.Epoch}] = w.now.Add(simTTL)
				}
			}
		}
		w.stats.MidBeatKills++
		w.logf("%s killed during its heartbeat; restarts, forgetting %v", k.id, refsOf(k.running))
		k.running = nil
		k.gen++
		return
	}
	if err != nil {
		return
	}
	for _, s := range resp.Stop {
		w.logf("%s stops %s epoch %d: %s", k.id, fsm.RefOf(s.Task), s.Epoch, s.Reason)
		k.drop(fsm.RefOf(s.Task), s.Epoch)
	}
	for _, t := range k.running {
		// A listed task that was not stopped is renewed, and its lease must be current.
		info, _ := w.state.Task(t.ref)
		if !info.Current(k.id, t.a.Epoch) {
			w.violate("%s runs %s under epoch %d and was not told to stop, but the task is %v under epoch %d of %q (backup %d of %q)",
				k.id, t.ref, t.a.Epoch, info.State, info.Lease.Epoch, info.Lease.Worker, info.Backup.Epoch, info.Backup.Worker)
		}
		w.deadline[simLease{t.ref, t.a.Epoch}] = w.now.Add(simTTL)
	}
	for _, a := range resp.Start {
		t := &simTask{a: a, ref: fsm.RefOf(a.Task), start: w.now, dur: k.duration(fsm.RefOf(a.Task).Kind)}
		w.logf("%s starts %s epoch %d attempt %d", k.id, t.ref, a.Epoch, a.Attempt)
		k.running = append(k.running, t)
		if t.ref.Kind == pb.TaskKind_TASK_KIND_SHARD {
			k.stage(t)
		}
		k.after(t.dur, func() { k.finish(t) })
	}
	// The worker holds no lease it does not run: what it did not list is taken back.
	for _, li := range w.state.LeasesOf(k.id) {
		if !slices.ContainsFunc(k.running, func(t *simTask) bool { return t.ref == li.Task && t.a.Epoch == li.Lease.Epoch }) {
			w.violate("%s holds the lease %s@%d after a heartbeat that did not list it", k.id, li.Task, li.Lease.Epoch)
		}
	}
}

// stage makes the staging directory of a shard attempt t: it must be no other attempt's.
func (k *simWorker) stage(t *simTask) {
	w := k.w
	l := simLease{t.ref, t.a.Epoch}
	for o, s := range w.staged {
		if o.ref == t.ref && s.attempt == t.a.Attempt {
			w.violate("%s starts %s attempt %d under epoch %d, which %s ran under epoch %d: they share a staging directory",
				k.id, t.ref, t.a.Attempt, t.a.Epoch, s.worker, o.epoch)
		}
	}
	w.staged[l] = simStage{worker: k.id, gen: k.gen, attempt: t.a.Attempt}
}

// duration is how long a task runs: a shard of a slow worker simSlow times longer.
func (k *simWorker) duration(kind pb.TaskKind) time.Duration {
	if kind == pb.TaskKind_TASK_KIND_SHARD {
		d := k.w.between(500*time.Millisecond, 15*time.Second)
		if k.slow {
			d *= simSlow
		}
		return d
	}
	return k.w.between(200*time.Millisecond, 4*time.Second)
}

// bytesAt is the progress of a running task at now: a shard reads simShardBytes evenly
// over its duration.
func (t *simTask) bytesAt(now time.Time) int64 {
	if t.finished || now.Sub(t.start) >= t.dur {
		return simShardBytes
	}
	return int64(float64(simShardBytes) * float64(now.Sub(t.start)) / float64(t.dur))
}

// drop forgets the task ref running under epoch and removes what it staged, as a worker
// does with a stopped, failed or refused attempt.
func (k *simWorker) drop(ref fsm.TaskRef, epoch uint64) {
	k.running = slices.DeleteFunc(k.running, func(t *simTask) bool { return t.ref == ref && t.a.Epoch == epoch })
	delete(k.w.staged, simLease{ref, epoch})
}

func (k *simWorker) holds(t *simTask) bool { return slices.Contains(k.running, t) }

// finish ends a task: mostly a result, sometimes a failure, a hand-back, or (rarely) an
// input error. A plan appends its shard specs first; it waits for a leader to do so.
func (k *simWorker) finish(t *simTask) {
	w := k.w
	if !k.holds(t) {
		return
	}
	if t.ref.Kind == pb.TaskKind_TASK_KIND_PLAN && w.sched == nil {
		k.after(simBeat, func() { k.finish(t) })
		return
	}
	t.finished = true
	fail := func(kind pb.FailureKind, cause string) {
		t.failure = &pb.TaskFailure{Task: t.a.Task, Epoch: t.a.Epoch, Kind: kind, Cause: cause}
	}
	switch n := w.rng.IntN(1000); {
	case n < 25 || k.sick && n < 400:
		fail(pb.FailureKind_FAILURE_KIND_ERROR, "simulated error")
	case n < 35:
		fail(pb.FailureKind_FAILURE_KIND_RELEASED, "draining")
	case n < 36 && w.inputErrors:
		fail(pb.FailureKind_FAILURE_KIND_INPUT, "simulated corrupt input")
	default:
		t.commit = k.result(t)
	}
	k.report()
}

// result returns the task's commit; a plan's shard specs are appended first, in batches
// (an error ends the attempt with a failure).
func (k *simWorker) result(t *simTask) *pb.TaskCommit {
	c := &pb.TaskCommit{Task: t.a.Task, Epoch: t.a.Epoch}
	switch t.ref.Kind {
	case pb.TaskKind_TASK_KIND_PLAN:
		n := k.w.job(t.ref.Job).shards
		for from := 0; from < n; {
			to := min(n, from+1+k.w.rng.IntN(8))
			ac := &pb.AppendPlanCommand{Task: t.a.Task, Epoch: t.a.Epoch, FirstIndex: uint32(from)}
			for i := from; i < to; i++ {
				ac.Specs = append(ac.Specs, fmt.Appendf(nil, `{"id":"%06d","index":%d,"path":"/data/%d.jsonl"}`, i, i, i))
			}
			res, err := k.w.apply(fsm.AppendPlan, ac)
			if err == nil {
				err = res.Err()
			}
			if err != nil {
				t.failure = &pb.TaskFailure{Task: t.a.Task, Epoch: t.a.Epoch, Kind: pb.FailureKind_FAILURE_KIND_ERROR,
					Cause: "append plan: " + err.Error()}
				return nil
			}
			from = to
		}
		c.Result = &pb.TaskCommit_Plan{Plan: &pb.PlanResult{Shards: uint32(n), Inputs: uint32(n)}}
	case pb.TaskKind_TASK_KIND_FINALIZE:
		c.Result = &pb.TaskCommit_Finalize{Finalize: &pb.FinalizeResult{Manifest: &pb.FileRef{Name: "manifest.json", Bytes: 10}}}
	default:
		c.Result = &pb.TaskCommit_Shard{Shard: &pb.ShardResult{Attempt: t.a.Attempt,
			Dir: fmt.Sprintf("%06d/%d", t.ref.Index, t.a.Attempt), Bytes: simShardBytes, TokensTrain: 10}}
	}
	return c
}

// report sends the results and failures of the finished tasks; those that meet no leader
// stay, listed in heartbeats, and go again at the next heartbeat.
func (k *simWorker) report() {
	w := k.w
	for _, t := range slices.Clone(k.running) {
		if !t.finished || w.sched == nil || !k.holds(t) {
			continue
		}
		var err error
		if t.failure != nil {
			sched := w.sched
			_, before := sched.cooldowns(w.now)[k.id]
			err = sched.fail(w.ctx, t.failure, w.now)
			if _, after := sched.cooldowns(w.now)[k.id]; after && !before {
				w.stats.Cooldowns++
				w.logf("%s cools down", k.id)
			}
			w.logf("%s fails %s epoch %d (%s) -> %v", k.id, t.ref, t.a.Epoch, t.failure.Kind, err)
		} else {
			err = w.sched.commit(w.ctx, t.commit, w.now)
			w.logf("%s commits %s epoch %d -> %v", k.id, t.ref, t.a.Epoch, err)
		}
		if unavailable(err) {
			continue
		}
		if err == nil && t.commit != nil {
			w.checkHolds(t.commit)
			// The committed attempt's staging stays: the finalize reads and removes it.
			k.running = slices.DeleteFunc(k.running, func(r *simTask) bool { return r == t })
		} else {
			k.drop(t.ref, t.a.Epoch)
		}
		if err == nil && t.commit != nil && w.rng.IntN(20) == 0 {
			// The answer was lost: the worker sends the same result again later.
			w.deliverLate(t.commit, w.between(0, 3*simTTL))
		}
	}
}

// die stops the worker at once: gossip declares it dead a little later, and it comes back
// after a while as a new process. Half its running tasks finish all the same (it was cut
// off, not killed) and their results arrive late.
func (k *simWorker) die() {
	w := k.w
	w.stats.Deaths++
	w.logf("%s dies running %v", k.id, refsOf(k.running))
	for _, t := range k.running {
		if w.rng.IntN(2) == 0 && t.ref.Kind != pb.TaskKind_TASK_KIND_PLAN {
			w.deliverLate(k.result(t), w.between(0, 5*simTTL))
		}
	}
	k.up, k.running = false, nil
	k.gen++
	w.at(w.between(500*time.Millisecond, 3*time.Second), func() {
		k.declared = true
		if w.sched != nil {
			w.logf("gossip: %s dead", k.id)
			w.sched.workerDied(k.id, w.now)
			// Its leases now expire within a third of the TTL unless a heartbeat renews
			// them (it sends none while down).
			due := w.now.Add(simTTL / 3)
			w.sched.mu.Lock()
			for _, li := range w.state.LeasesOf(k.id) {
				if l := w.sched.leases[leaseKey{li.Task, li.Lease.Epoch}]; l == nil || !l.died || l.deadline.After(due) {
					w.violate("gossip declared %s dead, but its lease %s@%d does not expire by %v", k.id, li.Task, li.Lease.Epoch, due)
				}
			}
			w.sched.mu.Unlock()
			if w.rng.IntN(4) == 0 {
				// The leader changes right after the death: the next one, which gossip
				// tells of the death before it leads, gives the leases the death's wait.
				w.loseLeader()
			}
		}
	})
	w.at(w.between(5*time.Second, 90*time.Second), func() {
		k.up, k.declared = true, false
		k.gen++
		w.logf("%s back", k.id)
		if w.sched != nil {
			w.sched.workerAlive(k.id, k.tags)
		}
		k.after(0, k.beat)
	})
}

// restart restarts the worker faster than gossip notices: it forgets its tasks, and its next
// heartbeat lists none of them.
func (k *simWorker) restart() {
	k.w.stats.Restarts++
	k.w.logf("%s restarts, forgetting %v", k.id, refsOf(k.running))
	k.running = nil
	k.gen++
	k.after(k.w.between(0, simBeat), k.beat)
}

// deliverLate sends c to the leader after d, from a worker that no longer runs the task.
func (w *simWorld) deliverLate(c *pb.TaskCommit, d time.Duration) {
	w.late++
	w.at(d, func() {
		w.late--
		if w.sched == nil {
			return
		}
		w.stats.Duplicates++
		err := w.sched.commit(w.ctx, c, w.now)
		w.logf("late result of %s epoch %d -> %v", fsm.RefOf(c.Task), c.Epoch, err)
		if err == nil {
			w.checkHolds(c)
		}
		if err != nil && !unavailable(err) && !errors.Is(err, fsm.ErrStaleEpoch) &&
			!errors.Is(err, fsm.ErrCommitted) && !errors.Is(err, fsm.ErrJobFinal) && !errors.Is(err, fsm.ErrPlanOrder) &&
			!errors.Is(err, fsm.ErrUnknownTask) {
			w.violate("late result of %s refused for an unexpected reason: %v", fsm.RefOf(c.Task), err)
		}
	})
}

func refsOf(ts []*simTask) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = fmt.Sprintf("%s@%d", t.ref, t.a.Epoch)
	}
	return out
}

// checkHolds checks that a commit acknowledged to a worker is the result the state holds.
func (w *simWorld) checkHolds(c *pb.TaskCommit) {
	ref := fsm.RefOf(c.Task)
	info, _ := w.state.Task(ref)
	st, _ := w.state.Job(ref.Job)
	var ok bool
	switch r := c.Result.(type) {
	case *pb.TaskCommit_Shard:
		ok = info.State == pb.TaskState_TASK_STATE_COMMITTED && proto.Equal(info.Result, r.Shard)
	case *pb.TaskCommit_Plan:
		ok = st.State != pb.JobState_JOB_STATE_PLANNING && st.Shards == r.Plan.Shards
	case *pb.TaskCommit_Finalize:
		ok = st.State == pb.JobState_JOB_STATE_SUCCEEDED && proto.Equal(st.Result, r.Finalize)
	}
	if !ok {
		w.violate("the commit of %s epoch %d was acknowledged, but the state holds %v (%v)", ref, c.Epoch, info.Result, st.State)
	}
}
