package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
	"google.golang.org/grpc/status"
)

// Why a task's context ends, besides the worker's death.
var (
	// errStopped: the coordinator no longer leases the task to this worker.
	errStopped = errors.New("worker: stopped by the coordinator")
	// errLeaseLost: no coordinator renewed the lease for its TTL.
	errLeaseLost = errors.New("worker: lease lost")
)

// task is one leased task the worker runs.
type task struct {
	a   *pb.Assignment
	key string
	// ctx ends when the task must stop: stopped, abandoned, handed back, or the worker
	// killed; context.Cause says which.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// progress counts a shard task's work, reported in heartbeats.
	progress shard.Progress

	// Guarded by Worker.mu.
	renewed    time.Time // send time of the last heartbeat that renewed the lease
	committing bool      // the work is done and its result is being reported
}

func newTask(parent context.Context, a *pb.Assignment, granted time.Time) *task {
	t := &task{a: a, key: keyOf(a.Task), renewed: granted}
	t.ctx, t.cancel = context.WithCancelCause(parent)
	return t
}

// keyOf names a task as the coordinator does: job/kind/shard.
func keyOf(r *pb.TaskRef) string {
	switch r.GetKind() {
	case pb.TaskKind_TASK_KIND_PLAN:
		return r.GetJobId() + "/plan"
	case pb.TaskKind_TASK_KIND_FINALIZE:
		return r.GetJobId() + "/finalize"
	}
	return fmt.Sprintf("%s/shard/%d", r.GetJobId(), r.GetShard())
}

func (t *task) progressProto() *pb.Progress {
	return &pb.Progress{Bytes: t.progress.Bytes.Load(), Documents: t.progress.Documents.Load(),
		Rejected: t.progress.Rejected.Load(), Tokens: t.progress.Tokens.Load()}
}

// outcome is what a task's work produced: the commit to report, and how to remove what the
// attempt staged if its result is refused.
type outcome struct {
	commit  *pb.TaskCommit
	discard func()
}

// run runs a task to its end: its work, then the report of its result or of its failure.
func (w *Worker) run(t *task) {
	defer func() {
		w.mu.Lock()
		if w.running[t.key] == t {
			delete(w.running, t.key)
			w.tokens += t.progress.Tokens.Load()
		}
		w.mu.Unlock()
		t.cancel(nil)
		w.tasks.Done()
		w.kick() // a slot is free
	}()
	var out outcome
	var err error
	switch t.a.Task.GetKind() {
	case pb.TaskKind_TASK_KIND_PLAN:
		out, err = w.runPlan(t)
	case pb.TaskKind_TASK_KIND_SHARD:
		out, err = w.runShard(t)
	case pb.TaskKind_TASK_KIND_FINALIZE:
		out, err = w.runFinalize(t)
	default:
		err = fmt.Errorf("worker: task %s of unknown kind", t.key)
	}
	if err != nil {
		w.failed(t, err)
		return
	}
	w.commit(t, out)
}

// failed reports a task that did not finish: as handed back when a drain ran out of time,
// not at all when it was stopped, abandoned or the worker killed (its lease is gone), else
// as a failed attempt of the kind classify says.
func (w *Worker) failed(t *task, err error) {
	cause := context.Cause(t.ctx)
	kind := classify(err)
	switch {
	case w.ctx.Err() != nil:
		return
	case refused(err):
		w.log.Info("task refused by the coordinator", "task", t.key, "epoch", t.a.Epoch, "err", err)
		return
	case errors.Is(cause, errStopped), errors.Is(cause, errLeaseLost):
		w.log.Info("task stopped", "task", t.key, "epoch", t.a.Epoch, "cause", cause)
		return
	case errors.Is(cause, errReleased):
		kind, err = pb.FailureKind_FAILURE_KIND_RELEASED, fmt.Errorf("worker %s drained before the task finished", w.cfg.ID)
	default:
		w.log.Warn("task failed", "task", t.key, "epoch", t.a.Epoch, "kind", kind, "err", err)
	}
	ctx, cancel := context.WithDeadline(w.ctx, w.leaseDeadline(t))
	defer cancel()
	rerr := w.report(ctx, func(ctx context.Context, c pb.WorkerServiceClient) error {
		_, err := c.Fail(ctx, &pb.FailRequest{WorkerId: w.cfg.ID, Failure: &pb.TaskFailure{Task: t.a.Task,
			Epoch: t.a.Epoch, Kind: kind, Cause: err.Error()}})
		return err
	})
	if rerr != nil && w.ctx.Err() == nil {
		w.log.Warn("reporting a failed task", "task", t.key, "err", rerr)
	}
}

// commit reports a task's result, retrying until a coordinator answers or the lease is
// certainly gone. A refused result is the attempt of a lost lease: its staged files are
// removed, as are those of a result whose lease ran out before it could be sent at all.
// Without any answer they stay: the result may have been taken, and the finalize of the job
// removes what no committed result names.
func (w *Worker) commit(t *task, out outcome) {
	w.mu.Lock()
	t.committing = true
	w.mu.Unlock()
	c := out.commit
	c.Task, c.Epoch = t.a.Task, t.a.Epoch
	if !time.Now().Before(w.leaseDeadline(t)) {
		// The lease ran out before the result could be reported (the process was paused
		// past it): no commit went out, so none can be taken, and the job may be finalized
		// already, its staging area gone with the publish. The files this attempt staged
		// would be left in the published output.
		w.log.Warn("the lease ran out before the result was reported; its staged files are removed", "task", t.key,
			"epoch", t.a.Epoch)
		if out.discard != nil {
			out.discard()
		}
		return
	}
	for {
		ctx, cancel := context.WithDeadline(w.ctx, w.leaseDeadline(t))
		err := w.report(ctx, func(ctx context.Context, cl pb.WorkerServiceClient) error {
			_, err := cl.Commit(ctx, &pb.CommitRequest{WorkerId: w.cfg.ID, Commit: c})
			return err
		})
		expired := ctx.Err() != nil
		cancel()
		switch {
		case err == nil:
			w.log.Info("task committed", "task", t.key, "epoch", t.a.Epoch)
			return
		case refused(err):
			w.log.Info("result refused", "task", t.key, "epoch", t.a.Epoch, "err", err)
			if out.discard != nil {
				out.discard()
			}
			return
		case w.ctx.Err() != nil:
			return
		case expired && time.Now().After(w.leaseDeadline(t)):
			w.log.Warn("no coordinator answered the commit before the lease ran out", "task", t.key, "err", err)
			return
		}
		// The deadline moved: a heartbeat renewed the lease meanwhile. Go on.
	}
}

// classify says how a failed attempt counts. I/O errors (a file that cannot be opened,
// read or written here, a full disk) may be this worker's or this moment's: ERROR, and
// another attempt may succeed. Anything else the data plane returns is a property of the
// input and the job spec (a corrupt file, a file that changed since the plan, a job the
// finalize refuses) and would fail again: INPUT, which fails the job at once. A call to the
// coordinators that failed is ERROR.
func classify(err error) pb.FailureKind {
	if _, ok := status.FromError(err); ok {
		return pb.FailureKind_FAILURE_KIND_ERROR
	}
	var pe *fs.PathError
	var le *os.LinkError
	var se *os.SyscallError
	var errno syscall.Errno
	switch {
	case errors.As(err, &pe), errors.As(err, &le), errors.As(err, &se), errors.As(err, &errno),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, errNoCoordinator):
		return pb.FailureKind_FAILURE_KIND_ERROR
	}
	return pb.FailureKind_FAILURE_KIND_INPUT
}
