package fsm

import (
	"fmt"

	"github.com/tokenmill/tokenmill/planner"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// grant leases each pending task of the command to its worker; the lease's epoch is index.
func (st *state) grant(index uint64, c *pb.GrantCommand) []error {
	errs := make([]error, len(c.Grants))
	for i, g := range c.Grants {
		errs[i] = st.grantOne(index, g)
	}
	return errs
}

func (st *state) grantOne(index uint64, g *pb.Grant) error {
	if g.WorkerId == "" {
		return fmt.Errorf("%w: grant of %s names no worker", ErrBadCommand, RefOf(g.Task))
	}
	j, t, err := st.taskOf(g.Task)
	if err != nil {
		return err
	}
	switch t.state {
	case pb.TaskState_TASK_STATE_PENDING:
	case pb.TaskState_TASK_STATE_COMMITTED:
		return fmt.Errorf("%w: %s", ErrCommitted, j.ref(t))
	default:
		return fmt.Errorf("%w: %s", ErrNotPending, j.ref(t))
	}
	t.state = pb.TaskState_TASK_STATE_LEASED
	t.lease = Lease{Worker: g.WorkerId, Epoch: index, DeadlineUnixMS: g.DeadlineUnixMs}
	t.lastAttempt = max(t.lastAttempt, t.attempt)
	j.leased++
	st.track(g.WorkerId, j.ref(t))
	if t.kind == pb.TaskKind_TASK_KIND_SHARD && int(t.index) == j.nextPending {
		j.advancePending()
	}
	return nil
}

// advancePending moves nextPending to the first pending shard (or past the last).
func (j *job) advancePending() {
	for j.nextPending < len(j.shards) && j.shards[j.nextPending].state != pb.TaskState_TASK_STATE_PENDING {
		j.nextPending++
	}
}

// expire takes back each lease of the command: it counts as a failed attempt.
func (st *state) expire(_ uint64, c *pb.ExpireCommand) []error {
	errs := make([]error, len(c.Expiries))
	for i, e := range c.Expiries {
		j, t, backup, err := st.leased(e.Task, e.Epoch)
		if err == nil {
			st.loseLease(j, t, backup, e.Cause, true)
		}
		errs[i] = err
	}
	return errs
}

// fail records each failed or handed-back attempt of the command.
func (st *state) fail(_ uint64, c *pb.FailCommand) []error {
	errs := make([]error, len(c.Failures))
	for i, f := range c.Failures {
		errs[i] = st.failOne(f)
	}
	return errs
}

func (st *state) failOne(f *pb.TaskFailure) error {
	j, t, backup, err := st.leased(f.Task, f.Epoch)
	if err != nil {
		return err
	}
	switch f.Kind {
	case pb.FailureKind_FAILURE_KIND_ERROR:
		st.loseLease(j, t, backup, f.Cause, true)
	case pb.FailureKind_FAILURE_KIND_RELEASED:
		st.loseLease(j, t, backup, f.Cause, false)
	case pb.FailureKind_FAILURE_KIND_INPUT:
		st.unlease(j, t)
		t.cause = f.Cause
		st.failJob(j, fmt.Sprintf("%s: %s", t.describeFor(f.Cause), f.Cause))
	default:
		return fmt.Errorf("%w: failure of %s has no kind", ErrBadCommand, j.ref(t))
	}
	return nil
}

// loseLease takes back the task's lease (backup false) or its backup lease. The loss of a
// backup counts for nothing: the task runs on under its lease.
func (st *state) loseLease(j *job, t *task, backup bool, cause string, counted bool) {
	if backup {
		st.dropBackup(j, t)
		return
	}
	st.lose(j, t, cause, counted)
}

// dropBackup ends the task's backup lease, if it has one.
func (st *state) dropBackup(j *job, t *task) {
	if !t.backup.held() {
		return
	}
	st.untrack(t.backup.Worker, j.ref(t))
	t.backup, t.backupAttempt = Lease{}, 0
}

// lose takes a task's lease back; counted, it is a failure towards max_attempts, and the last
// one allowed fails the job. A task with a backup lease stays leased under it (the backup's
// attempt becomes the task's); any other becomes pending for its next attempt. A plan task's
// appended shards are dropped: the next attempt plans again.
func (st *state) lose(j *job, t *task, cause string, counted bool) {
	if t.backup.held() {
		st.untrack(t.lease.Worker, j.ref(t))
		t.lease, t.attempt = t.backup, t.backupAttempt
		t.backup, t.backupAttempt = Lease{}, 0
	} else {
		next := t.nextAttempt()
		st.unlease(j, t)
		t.attempt = next
	}
	t.cause = cause
	if t.kind == pb.TaskKind_TASK_KIND_PLAN {
		j.shards = nil
	}
	if !counted {
		return
	}
	t.failures++
	if t.failures >= j.maxAttempts {
		st.failJob(j, fmt.Sprintf("%s failed %d times (max_attempts %d), last: %s",
			t.describe(), t.failures, j.maxAttempts, cause))
	}
}

// commit commits each result of the command that its lease fences.
func (st *state) commit(_ uint64, c *pb.CommitCommand) []error {
	errs := make([]error, len(c.Commits))
	for i, cm := range c.Commits {
		errs[i] = st.commitOne(cm)
	}
	return errs
}

func (st *state) commitOne(c *pb.TaskCommit) error {
	j, t, backup, err := st.leased(c.Task, c.Epoch)
	if err != nil {
		return err
	}
	attempt := t.attempt
	if backup {
		attempt = t.backupAttempt
	}
	switch r := c.Result.(type) {
	case *pb.TaskCommit_Plan:
		if t.kind != pb.TaskKind_TASK_KIND_PLAN || r.Plan == nil {
			break
		}
		if int64(r.Plan.Shards) != int64(len(j.shards)) {
			return fmt.Errorf("%w: %s: the plan has %d shards appended, its commit says %d",
				ErrPlanOrder, j.ref(t), len(j.shards), r.Plan.Shards)
		}
		st.settle(j, t)
		j.commitPlan(r.Plan)
		return nil
	case *pb.TaskCommit_Shard:
		if t.kind != pb.TaskKind_TASK_KIND_SHARD || r.Shard == nil {
			break
		}
		if r.Shard.Attempt != attempt {
			return fmt.Errorf("%w: %s: result of attempt %d under the lease of attempt %d",
				ErrBadCommand, j.ref(t), r.Shard.Attempt, attempt)
		}
		t.attempt = attempt
		st.settle(j, t)
		j.commitShard(t, r.Shard)
		return nil
	case *pb.TaskCommit_Finalize:
		if t.kind != pb.TaskKind_TASK_KIND_FINALIZE || r.Finalize == nil {
			break
		}
		st.settle(j, t)
		j.finalize = r.Finalize
		j.state = pb.JobState_JOB_STATE_SUCCEEDED
		return nil
	}
	return fmt.Errorf("%w: %s: the result is not of its task's kind", ErrBadCommand, j.ref(t))
}

// settle ends a task's leases and marks it committed.
func (st *state) settle(j *job, t *task) {
	st.dropBackup(j, t)
	st.untrack(t.lease.Worker, j.ref(t))
	t.lease = Lease{}
	t.state = pb.TaskState_TASK_STATE_COMMITTED
	j.leased--
}

// commitPlan makes the appended shards pending and adds the finalize task.
func (j *job) commitPlan(p *pb.PlanResult) {
	j.plan = p
	for i := range j.shards {
		j.shards[i].state = pb.TaskState_TASK_STATE_PENDING
	}
	j.nextPending = 0
	j.finalTask = &task{kind: pb.TaskKind_TASK_KIND_FINALIZE, state: pb.TaskState_TASK_STATE_BLOCKED}
	j.state = pb.JobState_JOB_STATE_RUNNING
	j.unblockFinalize()
}

// commitShard keeps a shard's result; the last one unblocks the finalize task.
func (j *job) commitShard(t *task, r *pb.ShardResult) {
	t.result = r
	j.committed++
	j.addDone(r)
	j.unblockFinalize()
}

func (j *job) addDone(r *pb.ShardResult) {
	j.done.bytes += r.Bytes
	j.done.documents += r.GetDocuments().GetRead()
	j.done.rejected += r.GetDocuments().GetRejected()
	j.done.tokens += r.TokensTrain + r.TokensVal
}

// unblockFinalize makes the finalize task pending once every shard is committed.
func (j *job) unblockFinalize() {
	if j.committed == len(j.shards) && j.finalTask.state == pb.TaskState_TASK_STATE_BLOCKED {
		j.finalTask.state = pb.TaskState_TASK_STATE_PENDING
		j.state = pb.JobState_JOB_STATE_FINALIZING
	}
}

// appendPlan adds a batch of shard specs to the plan of the job's leased plan task.
func (st *state) appendPlan(_ uint64, c *pb.AppendPlanCommand) []error {
	j, t, _, err := st.leased(c.Task, c.Epoch)
	if err != nil {
		return []error{err}
	}
	if t.kind != pb.TaskKind_TASK_KIND_PLAN {
		return []error{fmt.Errorf("%w: plan batch for %s", ErrBadCommand, j.ref(t))}
	}
	if int64(c.FirstIndex) != int64(len(j.shards)) {
		return []error{fmt.Errorf("%w: %s: batch starts at shard %d, the plan has %d",
			ErrPlanOrder, j.ref(t), c.FirstIndex, len(j.shards))}
	}
	if len(j.shards)+len(c.Specs) > planner.MaxShards {
		return []error{fmt.Errorf("%w: %s: more than %d shards", ErrBadCommand, j.ref(t), planner.MaxShards)}
	}
	for _, s := range c.Specs {
		if len(s) == 0 {
			return []error{fmt.Errorf("%w: %s: empty shard spec", ErrBadCommand, j.ref(t))}
		}
	}
	for _, s := range c.Specs {
		j.shards = append(j.shards, task{kind: pb.TaskKind_TASK_KIND_SHARD, index: uint32(len(j.shards)),
			state: pb.TaskState_TASK_STATE_BLOCKED, spec: s})
	}
	return []error{nil}
}

// taskOf returns an active job's task named by ref.
func (st *state) taskOf(ref *pb.TaskRef) (*job, *task, error) {
	j, err := st.activeJob(ref.GetJobId())
	if err != nil {
		return nil, nil, err
	}
	t := j.task(ref.GetKind(), ref.GetShard())
	if t == nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrUnknownTask, RefOf(ref))
	}
	return j, t, nil
}

// leased returns an active job's task named by ref of which a current lease has epoch, and
// whether that lease is the task's backup.
func (st *state) leased(ref *pb.TaskRef, epoch uint64) (*job, *task, bool, error) {
	j, t, err := st.taskOf(ref)
	if err != nil {
		return nil, nil, false, err
	}
	if t.state == pb.TaskState_TASK_STATE_COMMITTED {
		return nil, nil, false, fmt.Errorf("%w: %s", ErrCommitted, j.ref(t))
	}
	if t.state == pb.TaskState_TASK_STATE_LEASED && t.backup.held() && t.backup.Epoch == epoch {
		return j, t, true, nil
	}
	if t.state != pb.TaskState_TASK_STATE_LEASED || t.lease.Epoch != epoch {
		return nil, nil, false, fmt.Errorf("%w: %s: epoch %d, current lease %d", ErrStaleEpoch, j.ref(t), epoch, t.lease.Epoch)
	}
	return j, t, false, nil
}
