package fsm

import (
	"fmt"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// submit adds a job in state planning, its plan task pending.
func (st *state) submit(_ uint64, c *pb.SubmitJobCommand) []error {
	if c.JobId == "" || len(c.Spec) == 0 {
		return []error{fmt.Errorf("%w: submit needs a job id and a spec", ErrBadCommand)}
	}
	if _, ok := st.jobs[c.JobId]; ok {
		return []error{fmt.Errorf("%w: %s", ErrJobExists, c.JobId)}
	}
	j := &job{id: c.JobId, name: c.Name, spec: c.Spec, maxAttempts: c.MaxAttempts,
		submitted: c.SubmittedUnixMs, state: pb.JobState_JOB_STATE_PLANNING,
		planTask: task{kind: pb.TaskKind_TASK_KIND_PLAN, state: pb.TaskState_TASK_STATE_PENDING}}
	if j.maxAttempts == 0 {
		j.maxAttempts = DefaultMaxAttempts
	}
	j.seq = len(st.order)
	st.jobs[j.id] = j
	st.order = append(st.order, j)
	return []error{nil}
}

// cancel ends a job that is not final: no new leases, no results, its leases dropped.
func (st *state) cancel(_ uint64, c *pb.CancelJobCommand) []error {
	j, err := st.activeJob(c.JobId)
	if err != nil {
		return []error{err}
	}
	j.state = pb.JobState_JOB_STATE_CANCELED
	j.err = "canceled"
	if c.Reason != "" {
		j.err = "canceled: " + c.Reason
	}
	st.dropLeases(j)
	st.unclean[j.id] = j
	return []error{nil}
}

// clean records that the staged files of failed or canceled jobs are removed. A job
// cleaned already is no error (the order may have run twice); one that is not failed or
// canceled is refused.
func (st *state) clean(_ uint64, c *pb.CleanJobsCommand) []error {
	errs := make([]error, len(c.JobIds))
	for i, id := range c.JobIds {
		j, ok := st.jobs[id]
		switch {
		case !ok:
			errs[i] = fmt.Errorf("%w: %q", ErrUnknownJob, id)
		case j.state != pb.JobState_JOB_STATE_FAILED && j.state != pb.JobState_JOB_STATE_CANCELED:
			errs[i] = fmt.Errorf("%w: job %s is %s, not failed or canceled", ErrBadCommand, id, jobStateName(j.state))
		default:
			j.cleaned = true
			delete(st.unclean, id)
		}
	}
	return errs
}

// activeJob returns the job id if it is neither unknown nor final.
func (st *state) activeJob(id string) (*job, error) {
	j, ok := st.jobs[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownJob, id)
	}
	if !j.active() {
		return nil, fmt.Errorf("%w: job %s is %s", ErrJobFinal, id, jobStateName(j.state))
	}
	return j, nil
}

// failJob ends j with err.
func (st *state) failJob(j *job, err string) {
	j.state = pb.JobState_JOB_STATE_FAILED
	j.err = err
	st.dropLeases(j)
	st.unclean[j.id] = j
}

// dropLeases takes back every lease of a job that has ended; its leased tasks become pending
// (they are never leased again: the job is final).
func (st *state) dropLeases(j *job) {
	if j.leased == 0 {
		return
	}
	st.unlease(j, &j.planTask)
	for i := range j.shards {
		st.unlease(j, &j.shards[i])
	}
	if j.finalTask != nil {
		st.unlease(j, j.finalTask)
	}
}

// unlease clears a task's lease, if it has one, and makes it pending.
func (st *state) unlease(j *job, t *task) {
	if t.state != pb.TaskState_TASK_STATE_LEASED {
		return
	}
	st.dropBackup(j, t)
	st.untrack(t.lease.Worker, j.ref(t))
	t.lease = Lease{}
	t.state = pb.TaskState_TASK_STATE_PENDING
	j.leased--
	if t.kind == pb.TaskKind_TASK_KIND_SHARD && int(t.index) < j.nextPending {
		j.nextPending = int(t.index)
	}
}

// ref returns the TaskRef of a task of j.
func (j *job) ref(t *task) TaskRef { return TaskRef{Job: j.id, Kind: t.kind, Index: t.index} }

// track records that worker holds a lease on r.
func (st *state) track(worker string, r TaskRef) {
	m := st.byWorker[worker]
	if m == nil {
		m = map[TaskRef]struct{}{}
		st.byWorker[worker] = m
	}
	m[r] = struct{}{}
}

// untrack forgets a lease of worker on r.
func (st *state) untrack(worker string, r TaskRef) {
	m := st.byWorker[worker]
	delete(m, r)
	if len(m) == 0 {
		delete(st.byWorker, worker)
	}
}

func jobStateName(s pb.JobState) string {
	switch s {
	case pb.JobState_JOB_STATE_PLANNING:
		return "planning"
	case pb.JobState_JOB_STATE_RUNNING:
		return "running"
	case pb.JobState_JOB_STATE_FINALIZING:
		return "finalizing"
	case pb.JobState_JOB_STATE_SUCCEEDED:
		return "succeeded"
	case pb.JobState_JOB_STATE_FAILED:
		return "failed"
	case pb.JobState_JOB_STATE_CANCELED:
		return "canceled"
	}
	return "unknown"
}
