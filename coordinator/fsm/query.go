package fsm

import (
	"cmp"
	"maps"
	"slices"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// The query methods read the state for the scheduler and the services. They return copies;
// the []byte specs and *pb.ShardResult they share with the state are never modified and must
// not be modified by callers.

// TaskInfo is a task as the state holds it.
type TaskInfo struct {
	Ref      TaskRef
	State    pb.TaskState
	Attempt  uint32 // the attempt its current or next lease runs
	Failures uint32 // failed attempts and lost leases, towards max_attempts
	Lease    Lease  // zero unless State is leased
	Cause    string // the last failure's cause
	Spec     []byte // shard tasks: the shard spec (JSON)
	Result   *pb.ShardResult
	// Backup is the lease of a speculative attempt (zero when none runs), which runs
	// BackupAttempt.
	Backup        Lease
	BackupAttempt uint32
}

func (j *job) info(t *task) TaskInfo {
	return TaskInfo{Ref: j.ref(t), State: t.state, Attempt: t.attempt, Failures: t.failures,
		Lease: t.lease, Cause: t.cause, Spec: t.spec, Result: t.result, Backup: t.backup, BackupAttempt: t.backupAttempt}
}

// Current says whether worker holds a current lease of the task under epoch: its lease or
// its backup lease.
func (i TaskInfo) Current(worker string, epoch uint64) bool {
	if i.State != pb.TaskState_TASK_STATE_LEASED {
		return false
	}
	return i.Lease.Epoch == epoch && i.Lease.Worker == worker || i.Backup.held() && i.Backup.Epoch == epoch && i.Backup.Worker == worker
}

// LeaseAt returns the current lease of the task with epoch (its lease or its backup), and
// the attempt it runs.
func (i TaskInfo) LeaseAt(epoch uint64) (Lease, uint32, bool) {
	switch {
	case i.State != pb.TaskState_TASK_STATE_LEASED:
	case i.Lease.Epoch == epoch:
		return i.Lease, i.Attempt, true
	case i.Backup.held() && i.Backup.Epoch == epoch:
		return i.Backup, i.BackupAttempt, true
	}
	return Lease{}, 0, false
}

// Task returns the task named by ref.
func (f *FSM) Task(ref TaskRef) (TaskInfo, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	j, ok := f.st.jobs[ref.Job]
	if !ok {
		return TaskInfo{}, false
	}
	t := j.task(ref.Kind, ref.Index)
	if t == nil {
		return TaskInfo{}, false
	}
	return j.info(t), true
}

// JobSpec returns the job file of a job as submitted.
func (f *FSM) JobSpec(id string) ([]byte, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	j, ok := f.st.jobs[id]
	if !ok {
		return nil, false
	}
	return j.spec, true
}

// Pending returns up to limit pending tasks of the active jobs, shared among the jobs in turn:
// each next task goes to the job with the fewest tasks leased and picked so far (the earliest
// submitted on a tie), and a job's tasks come in plan order (a lost shard before later ones).
func (f *FSM) Pending(limit int) []TaskRef { return f.PendingExcept(limit, nil) }

// PendingExcept is Pending without the tasks skip reports (being granted by another request):
// each skipped task counts as picked for its job, as if Pending had returned it, but not
// towards limit. A nil skip skips nothing.
func (f *FSM) PendingExcept(limit int, skip func(TaskRef) bool) []TaskRef {
	return f.PendingWhere(limit, skip, nil)
}

// PendingWhere is PendingExcept among the jobs that jobOK accepts, given each job's id and
// spec as submitted: the others are left out of the turn entirely (they neither get tasks
// nor count in the fair order). A nil jobOK accepts every job. jobOK is called once per
// active job, under the state's read lock: it must not call the FSM.
func (f *FSM) PendingWhere(limit int, skip func(TaskRef) bool, jobOK func(id string, spec []byte) bool) []TaskRef {
	f.mu.RLock()
	defer f.mu.RUnlock()
	type cand struct {
		j    *job
		load int
		pos  int // next shard to look at; -1: the plan or finalize task
	}
	var cands []cand
	for _, j := range f.st.order {
		if j.active() && (jobOK == nil || jobOK(j.id, j.spec)) {
			cands = append(cands, cand{j: j, load: j.leased, pos: -1})
		}
	}
	var out []TaskRef
	for len(out) < limit && len(cands) > 0 {
		best := 0
		for i := range cands {
			if cands[i].load < cands[best].load {
				best = i
			}
		}
		c := &cands[best]
		ref, ok := c.j.nextPendingFrom(&c.pos)
		if !ok {
			cands = slices.Delete(cands, best, best+1)
			continue
		}
		c.load++
		if skip == nil || !skip(ref) {
			out = append(out, ref)
		}
	}
	return out
}

// nextPendingFrom returns the job's next pending task from *pos on and moves *pos past it.
func (j *job) nextPendingFrom(pos *int) (TaskRef, bool) {
	if *pos < 0 {
		*pos = j.nextPending
		if t := &j.planTask; t.state == pb.TaskState_TASK_STATE_PENDING {
			return j.ref(t), true
		}
		if t := j.finalTask; t != nil && t.state == pb.TaskState_TASK_STATE_PENDING {
			return j.ref(t), true
		}
	}
	if j.state != pb.JobState_JOB_STATE_RUNNING {
		return TaskRef{}, false
	}
	for ; *pos < len(j.shards); *pos++ {
		if t := &j.shards[*pos]; t.state == pb.TaskState_TASK_STATE_PENDING {
			*pos++
			return j.ref(t), true
		}
	}
	return TaskRef{}, false
}

// LeaseInfo is a lease on a task; Backup says it is the lease of a speculative attempt.
type LeaseInfo struct {
	Task    TaskRef
	Attempt uint32
	Lease   Lease
	Backup  bool
}

// Leases returns every current lease, in job submission order and task order: what a new
// leader rebuilds its lease timers from.
func (f *FSM) Leases() []LeaseInfo {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []LeaseInfo
	for _, j := range f.st.order {
		if j.leased == 0 {
			continue
		}
		add := func(t *task) {
			if t.state == pb.TaskState_TASK_STATE_LEASED {
				out = append(out, LeaseInfo{Task: j.ref(t), Attempt: t.attempt, Lease: t.lease})
				if t.backup.held() {
					out = append(out, LeaseInfo{Task: j.ref(t), Attempt: t.backupAttempt, Lease: t.backup, Backup: true})
				}
			}
		}
		add(&j.planTask)
		for i := range j.shards {
			add(&j.shards[i])
		}
		if j.finalTask != nil {
			add(j.finalTask)
		}
	}
	return out
}

// LeasesOf returns the current leases of a worker, in job submission order and task order.
func (f *FSM) LeasesOf(worker string) []LeaseInfo {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]LeaseInfo, 0, len(f.st.byWorker[worker]))
	for ref := range f.st.byWorker[worker] {
		j := f.st.jobs[ref.Job]
		t := j.task(ref.Kind, ref.Index)
		if t.backup.held() && t.backup.Worker == worker {
			out = append(out, LeaseInfo{Task: ref, Attempt: t.backupAttempt, Lease: t.backup, Backup: true})
			continue
		}
		out = append(out, LeaseInfo{Task: ref, Attempt: t.attempt, Lease: t.lease})
	}
	slices.SortFunc(out, func(a, b LeaseInfo) int {
		return cmp.Or(cmp.Compare(f.st.jobs[a.Task.Job].seq, f.st.jobs[b.Task.Job].seq),
			cmp.Compare(a.Task.Kind, b.Task.Kind), cmp.Compare(a.Task.Index, b.Task.Index))
	})
	return out
}

// Workers returns the workers that hold leases, sorted.
func (f *FSM) Workers() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]string, 0, len(f.st.byWorker))
	for w := range f.st.byWorker {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// Job returns the status of a job.
func (f *FSM) Job(id string) (*pb.JobStatus, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	j, ok := f.st.jobs[id]
	if !ok {
		return nil, false
	}
	return j.status(), true
}

// Unclean returns the ids of the failed or canceled jobs whose staged files are not yet
// removed, in submission order.
func (f *FSM) Unclean() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if len(f.st.unclean) == 0 {
		return nil
	}
	jobs := slices.SortedFunc(maps.Values(f.st.unclean), func(a, b *job) int { return a.seq - b.seq })
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.id
	}
	return out
}

// Jobs returns the status of every job, in submission order.
func (f *FSM) Jobs() []*pb.JobStatus {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]*pb.JobStatus, len(f.st.order))
	for i, j := range f.st.order {
		out[i] = j.status()
	}
	return out
}

// status returns the job's status; its progress counts the committed shards.
func (j *job) status() *pb.JobStatus {
	s := &pb.JobStatus{JobId: j.id, Name: j.name, State: j.state, Error: j.err, MaxAttempts: j.maxAttempts,
		SubmittedUnixMs: j.submitted, Tasks: &pb.TaskCounts{},
		Progress: &pb.Progress{Bytes: j.done.bytes, Documents: j.done.documents, Rejected: j.done.rejected, Tokens: j.done.tokens},
		Result:   j.finalize, Cleaned: j.cleaned}
	if j.plan != nil {
		s.Shards = uint32(len(j.shards))
	}
	count := func(t *task) {
		s.FailedAttempts += t.failures
		switch t.state {
		case pb.TaskState_TASK_STATE_BLOCKED:
			s.Tasks.Blocked++
		case pb.TaskState_TASK_STATE_PENDING:
			s.Tasks.Pending++
		case pb.TaskState_TASK_STATE_LEASED:
			s.Tasks.Leased++
		case pb.TaskState_TASK_STATE_COMMITTED:
			s.Tasks.Committed++
		}
	}
	count(&j.planTask)
	if j.plan != nil {
		for i := range j.shards {
			count(&j.shards[i])
			if j.shards[i].state == pb.TaskState_TASK_STATE_COMMITTED {
				s.ShardsDone++
			}
		}
		count(j.finalTask)
	}
	return s
}

// ShardResults returns the committed results of a job's shards [from, from+max), in shard
// order; a shard not committed has a nil result.
func (f *FSM) ShardResults(id string, from, max int) []*pb.ShardResult {
	f.mu.RLock()
	defer f.mu.RUnlock()
	j, ok := f.st.jobs[id]
	if !ok || j.plan == nil || from < 0 || from >= len(j.shards) {
		return nil
	}
	to := min(from+max, len(j.shards))
	out := make([]*pb.ShardResult, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, j.shards[i].result)
	}
	return out
}
