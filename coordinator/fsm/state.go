package fsm

import (
	"encoding/json"
	"fmt"
	"strings"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
)

// DefaultMaxAttempts is a job's max_attempts when its submission gives none.
const DefaultMaxAttempts = 3

// Lease is a worker's right to run one attempt of a task. Epoch is the raft index of the
// grant: a result is accepted only with the epoch of the task's current lease.
type Lease struct {
	Worker         string
	Epoch          uint64
	DeadlineUnixMS int64
}

// task is one task of a job. Its Spec and Result are never modified once set.
type task struct {
	kind     pb.TaskKind
	index    uint32 // the shard's index; 0 for plan and finalize tasks
	state    pb.TaskState
	attempt  uint32 // the attempt the next (or current) lease runs: its staging directory
	failures uint32 // lost leases and failed attempts, towards max_attempts
	lease    Lease  // zero unless state is leased
	cause    string // the last failure's cause
	spec     []byte // shard tasks: the shard spec, JSON
	result   *pb.ShardResult
	// backup is the lease of a speculative attempt of a leased shard task, on another worker
	// than lease's (zero when none runs); it runs attempt backupAttempt. The first of the two
	// to commit wins. lastAttempt is the highest attempt any lease of the task ran, so that
	// no two attempts share a staging directory.
	backup        Lease
	backupAttempt uint32
	lastAttempt   uint32
}

// held says the lease exists (an epoch is never 0: it is a raft index).
func (l Lease) held() bool { return l.Epoch != 0 }

// nextAttempt is the attempt a new lease of the task runs after the current ones.
func (t *task) nextAttempt() uint32 { return max(t.attempt, t.lastAttempt) + 1 }

// job is one job and its tasks.
type job struct {
	id          string
	name        string
	spec        []byte
	maxAttempts uint32
	submitted   int64 // unix ms, as the submit command said
	state       pb.JobState
	err         string
	plan        *pb.PlanResult
	finalize    *pb.FinalizeResult
	cleaned     bool // failed or canceled, and its staged files are removed

	planTask  task
	shards    []task
	finalTask *task // nil until the plan is committed

	// Derived from the tasks (rebuilt by Restore).
	seq         int      // position in submission order
	leased      int      // tasks under lease
	committed   int      // shard tasks committed
	nextPending int      // no shard below it is pending
	done        progress // sums of the committed shards
}

// progress sums the committed shards of a job.
type progress struct {
	bytes, documents, rejected, tokens int64
}

// needsCleanup says the job failed or was canceled and its staged files are not yet
// removed. (A job that succeeded needs none: its finalize removed them.)
func (j *job) needsCleanup() bool {
	return !j.cleaned && (j.state == pb.JobState_JOB_STATE_FAILED || j.state == pb.JobState_JOB_STATE_CANCELED)
}

// active says the job may still take leases and results.
func (j *job) active() bool {
	switch j.state {
	case pb.JobState_JOB_STATE_PLANNING, pb.JobState_JOB_STATE_RUNNING, pb.JobState_JOB_STATE_FINALIZING:
		return true
	}
	return false
}

// task returns the job's task named by kind and index, or nil.
func (j *job) task(kind pb.TaskKind, index uint32) *task {
	switch kind {
	case pb.TaskKind_TASK_KIND_PLAN:
		if index == 0 {
			return &j.planTask
		}
	case pb.TaskKind_TASK_KIND_SHARD:
		if int64(index) < int64(len(j.shards)) && j.state != pb.JobState_JOB_STATE_PLANNING {
			return &j.shards[index]
		}
	case pb.TaskKind_TASK_KIND_FINALIZE:
		if index == 0 {
			return j.finalTask
		}
	}
	return nil
}

// TaskRef names a task: its job, kind and, for a shard task, index.
type TaskRef struct {
	Job   string
	Kind  pb.TaskKind
	Index uint32
}

func (r TaskRef) String() string {
	switch r.Kind {
	case pb.TaskKind_TASK_KIND_PLAN:
		return r.Job + "/plan"
	case pb.TaskKind_TASK_KIND_FINALIZE:
		return r.Job + "/finalize"
	}
	return fmt.Sprintf("%s/shard/%d", r.Job, r.Index)
}

// Proto returns r as a message.
func (r TaskRef) Proto() *pb.TaskRef {
	return &pb.TaskRef{JobId: r.Job, Kind: r.Kind, Shard: r.Index}
}

// RefOf returns the TaskRef of a message (the zero TaskRef for nil).
func RefOf(m *pb.TaskRef) TaskRef {
	return TaskRef{Job: m.GetJobId(), Kind: m.GetKind(), Index: m.GetShard()}
}

// describe names a task for an error message: a shard by its id and input, from its spec.
func (t *task) describe() string { return t.describeFor("") }

// describeFor names a task for an error message whose cause is cause: a shard by its id, and
// by its input unless cause already names it (the readers' errors begin with their file).
func (t *task) describeFor(cause string) string {
	switch t.kind {
	case pb.TaskKind_TASK_KIND_PLAN:
		return "plan"
	case pb.TaskKind_TASK_KIND_FINALIZE:
		return "finalize"
	}
	var s shard.Spec
	if err := json.Unmarshal(t.spec, &s); err != nil || s.Path == "" {
		return fmt.Sprintf("shard %d", t.index)
	}
	id := s.ID
	if id == "" {
		id = fmt.Sprint(t.index)
	}
	in := s.Path
	if cause != "" && strings.Contains(cause, s.Path) {
		return "shard " + id
	}
	if n := len(s.Files); n > 1 {
		in = fmt.Sprintf("%s and %d more files", s.Path, n-1)
	}
	return fmt.Sprintf("shard %s (input %s)", id, in)
}
