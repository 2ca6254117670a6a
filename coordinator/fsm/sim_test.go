package fsm

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// TestFSM_Simulation drives the FSM with a simple leader and workers over many seeds: a fake
// clock, lease expiries, worker deaths, failed and handed-back attempts, duplicate and late
// results, cancels, and leader changes (the state moved to a new replica through a snapshot).
// Every seed must end with every job final, every shard of a succeeded job committed exactly
// once, no job finalized twice, and a replica that replays the log holding the same state.
func TestFSM_Simulation(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	var total simStats
	for seed := range seeds {
		st, err := simulate(t, uint64(seed))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		total.add(st)
	}
	t.Logf("%d seeds: %+v", seeds, total)
	// The runs must reach the cases they exist for.
	if total.succeeded == 0 || total.failed == 0 || total.refused == 0 || total.leaderChanges == 0 || total.deaths == 0 {
		t.Errorf("the simulation missed a case: %+v", total)
	}
}

// simStats count what the runs went through.
type simStats struct {
	succeeded, failed, canceled int // jobs
	committed, refused          int // results
	deaths, leaderChanges       int
}

func (a *simStats) add(b simStats) {
	a.succeeded += b.succeeded
	a.failed += b.failed
	a.canceled += b.canceled
	a.committed += b.committed
	a.refused += b.refused
	a.deaths += b.deaths
	a.leaderChanges += b.leaderChanges
}

const simTTL = 1000 // lease TTL, ms of the fake clock

type simRun struct {
	ref      TaskRef
	epoch    uint64
	attempt  uint32
	finishAt int64
}

type simWorker struct {
	id    string
	slots int
	dead  bool
	runs  []simRun
}

type simDelivery struct {
	at int64
	c  *pb.TaskCommit
}

type sim struct {
	h        *harness
	rng      *rand.Rand
	now      int64
	workers  []*simWorker
	shards   map[string]int // job -> plan size
	late     []simDelivery  // results in flight: duplicates and results of dead workers
	accepted map[TaskRef]int
	stats    simStats
}

func simulate(t *testing.T, seed uint64) (simStats, error) {
	s := &sim{h: newHarness(t), rng: rand.New(rand.NewPCG(seed, 17)), shards: map[string]int{}, accepted: map[TaskRef]int{}}
	for i := range 2 + s.rng.IntN(4) {
		s.workers = append(s.workers, &simWorker{id: fmt.Sprintf("w%d", i), slots: 1 + s.rng.IntN(3)})
	}
	jobs := 1 + s.rng.IntN(4)
	for step := 0; ; step++ {
		if step > 20000 {
			return s.stats, fmt.Errorf("jobs not final after %d steps: %v", step, s.h.f.Jobs())
		}
		if len(s.shards) < jobs && s.rng.IntN(10) == 0 || len(s.shards) == 0 {
			id := fmt.Sprintf("job%d", len(s.shards))
			s.shards[id] = s.rng.IntN(40)
			s.h.must(SubmitJob, &pb.SubmitJobCommand{JobId: id, Spec: []byte("name: x"), MaxAttempts: uint32(2 + s.rng.IntN(3))})
		}
		s.now += int64(1 + s.rng.IntN(200))
		s.chaos()
		s.expire()
		s.finish()
		s.deliverLate()
		s.grant()
		if s.rng.IntN(500) == 0 {
			s.leaderChange(t)
		}
		if len(s.shards) == jobs && s.allFinal() && len(s.late) == 0 {
			break
		}
	}
	for _, j := range s.h.f.Jobs() {
		switch j.State {
		case pb.JobState_JOB_STATE_SUCCEEDED:
			s.stats.succeeded++
		case pb.JobState_JOB_STATE_FAILED:
			s.stats.failed++
		case pb.JobState_JOB_STATE_CANCELED:
			s.stats.canceled++
		}
	}
	return s.stats, s.check(t)
}

// chaos kills and revives workers and cancels jobs, now and then.
func (s *sim) chaos() {
	w := s.workers[s.rng.IntN(len(s.workers))]
	switch {
	case !w.dead && s.rng.IntN(100) == 0:
		// Gossip declares it dead: the leader takes its leases back; what it was running
		// may still arrive later.
		w.dead = true
		s.stats.deaths++
		var c pb.ExpireCommand
		for _, l := range s.h.f.LeasesOf(w.id) {
			c.Expiries = append(c.Expiries, &pb.Expiry{Task: l.Task.Proto(), Epoch: l.Lease.Epoch, Cause: "worker " + w.id + " died"})
		}
		s.h.apply(ExpireLeases, &c)
		for _, r := range w.runs {
			if s.rng.IntN(2) == 0 {
				s.late = append(s.late, simDelivery{at: s.now + int64(s.rng.IntN(5*simTTL)), c: s.result(r)})
			}
		}
		w.runs = nil
	case w.dead && s.rng.IntN(20) == 0:
		w.dead = false
	}
	if s.rng.IntN(3000) == 0 {
		if id := fmt.Sprintf("job%d", s.rng.IntN(len(s.shards))); s.rng.IntN(2) == 0 {
			s.h.apply(CancelJob, &pb.CancelJobCommand{JobId: id, Reason: "sim"})
		}
	}
}

// expire takes back the leases past their deadline, in one batch.
func (s *sim) expire() {
	var c pb.ExpireCommand
	for _, l := range s.h.f.Leases() {
		if l.Lease.DeadlineUnixMS < s.now {
			c.Expiries = append(c.Expiries, &pb.Expiry{Task: l.Task.Proto(), Epoch: l.Lease.Epoch, Cause: "lease expired"})
		}
	}
	if len(c.Expiries) > 0 {
		s.h.apply(ExpireLeases, &c)
	}
}

// finish reports the runs that are done: mostly results (some sent twice), some failures.
func (s *sim) finish() {
	var commits pb.CommitCommand
	var fails pb.FailCommand
	for _, w := range s.workers {
		keep := w.runs[:0]
		for _, r := range w.runs {
			if r.finishAt > s.now {
				keep = append(keep, r)
				continue
			}
			switch n := s.rng.IntN(100); {
			case n < 3:
				fails.Failures = append(fails.Failures, &pb.TaskFailure{Task: r.ref.Proto(), Epoch: r.epoch, Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "boom"})
			case n < 5:
				fails.Failures = append(fails.Failures, &pb.TaskFailure{Task: r.ref.Proto(), Epoch: r.epoch, Kind: pb.FailureKind_FAILURE_KIND_RELEASED, Cause: "drain"})
			case n == 5 && s.rng.IntN(10) == 0:
				fails.Failures = append(fails.Failures, &pb.TaskFailure{Task: r.ref.Proto(), Epoch: r.epoch, Kind: pb.FailureKind_FAILURE_KIND_INPUT, Cause: "corrupt"})
			default:
				if r.ref.Kind == pb.TaskKind_TASK_KIND_PLAN {
					s.appendPlan(r)
				}
				c := s.result(r)
				commits.Commits = append(commits.Commits, c)
				if s.rng.IntN(10) == 0 {
					s.late = append(s.late, simDelivery{at: s.now + int64(s.rng.IntN(3*simTTL)), c: c})
				}
			}
		}
		w.runs = keep
	}
	if len(fails.Failures) > 0 {
		s.h.apply(FailTasks, &fails)
	}
	s.commit(commits.Commits)
}

// appendPlan sends a plan task's shard specs in batches (each refused once the lease is gone).
func (s *sim) appendPlan(r simRun) {
	n := s.shards[r.ref.Job]
	for from := 0; from < n; {
		to := min(n, from+1+s.rng.IntN(10))
		c := &pb.AppendPlanCommand{Task: r.ref.Proto(), Epoch: r.epoch, FirstIndex: uint32(from)}
		for i := from; i < to; i++ {
			c.Specs = append(c.Specs, specJSON(i))
		}
		if s.h.apply(AppendPlan, c).Err() != nil {
			return
		}
		from = to
	}
}

func (s *sim) result(r simRun) *pb.TaskCommit {
	switch r.ref.Kind {
	case pb.TaskKind_TASK_KIND_PLAN:
		return commitPlan(r.ref, r.epoch, s.shards[r.ref.Job]).Commits[0]
	case pb.TaskKind_TASK_KIND_FINALIZE:
		return finalizeCommit(r.ref.Job, r.epoch)
	}
	return shardCommit(r.ref, r.epoch, r.attempt)
}

// commit applies commits in one entry and counts the accepted ones.
func (s *sim) commit(cs []*pb.TaskCommit) {
	if len(cs) == 0 {
		return
	}
	res := s.h.apply(CommitTasks, &pb.CommitCommand{Commits: cs})
	for i, err := range res.Errs {
		if err == nil {
			s.accepted[RefOf(cs[i].Task)]++
			s.stats.committed++
		} else {
			s.stats.refused++
		}
	}
}

func (s *sim) deliverLate() {
	var due []*pb.TaskCommit
	keep := s.late[:0]
	for _, d := range s.late {
		if d.at <= s.now {
			due = append(due, d.c)
		} else {
			keep = append(keep, d)
		}
	}
	s.late = keep
	s.commit(due)
}

// grant fills the live workers' free slots from Pending, in one entry.
func (s *sim) grant() {
	var free []*simWorker
	for _, w := range s.workers {
		for range w.slots - len(w.runs) {
			if !w.dead {
				free = append(free, w)
			}
		}
	}
	refs := s.h.f.Pending(len(free))
	if len(refs) == 0 {
		return
	}
	c := &pb.GrantCommand{}
	for i, r := range refs {
		c.Grants = append(c.Grants, &pb.Grant{Task: r.Proto(), WorkerId: free[i].id, DeadlineUnixMs: s.now + simTTL})
	}
	res := s.h.must(GrantLeases, c)
	for i, r := range refs {
		ti, _ := s.h.f.Task(r)
		free[i].runs = append(free[i].runs, simRun{ref: r, epoch: res.Index, attempt: ti.Attempt,
			finishAt: s.now + int64(1+s.rng.IntN(simTTL*11/10))})
	}
}

// leaderChange moves the state to a new replica through a snapshot, as a follower that
// installs a snapshot and becomes leader would hold it.
func (s *sim) leaderChange(t *testing.T) {
	s.h.f = restore(t, persist(t, s.h.f))
	s.stats.leaderChanges++
}

func (s *sim) allFinal() bool {
	for _, j := range s.h.f.Jobs() {
		switch j.State {
		case pb.JobState_JOB_STATE_SUCCEEDED, pb.JobState_JOB_STATE_FAILED, pb.JobState_JOB_STATE_CANCELED:
		default:
			return false
		}
	}
	return true
}

func (s *sim) check(t *testing.T) error {
	for ref, n := range s.accepted {
		if n > 1 {
			return fmt.Errorf("%s committed %d times", ref, n)
		}
	}
	for _, j := range s.h.f.Jobs() {
		fin := s.accepted[finalizeRef(j.JobId)]
		if j.State != pb.JobState_JOB_STATE_SUCCEEDED {
			if fin != 0 {
				return fmt.Errorf("job %s is %s but was finalized", j.JobId, j.State)
			}
			continue
		}
		if fin != 1 || j.Shards != uint32(s.shards[j.JobId]) || j.Result == nil {
			return fmt.Errorf("job %s succeeded with %d finalizes, %d shards", j.JobId, fin, j.Shards)
		}
		for i := range s.shards[j.JobId] {
			ti, _ := s.h.f.Task(shardRef(j.JobId, i))
			if s.accepted[ti.Ref] != 1 || ti.Result == nil || ti.Result.Attempt != ti.Attempt {
				return fmt.Errorf("shard %s of a succeeded job: %d commits, %+v", ti.Ref, s.accepted[ti.Ref], ti)
			}
		}
	}
	// A replica that applies the same log from the start holds the same state.
	replica := newHarness(t)
	for i, data := range s.h.log {
		if _, err := replica.f.ApplyCommand(uint64(i+1), data); err != nil {
			return err
		}
	}
	if !bytes.Equal(persist(t, replica.f), persist(t, s.h.f)) {
		return fmt.Errorf("a replica that replayed the log holds another state")
	}
	return nil
}
