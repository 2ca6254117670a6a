package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// heartbeatLoop heartbeats until the worker stops: every HeartbeatInterval (at most a third
// of the lease TTL), and at once when kicked (a slot freed, the worker joined or drains).
// Heartbeats are sequential, as the coordinator's protocol requires.
func (w *Worker) heartbeatLoop() {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
		w.heartbeat()
		timer.Reset(w.interval())
	}
}

// interval is the time to the next heartbeat: HeartbeatInterval, at most a third of the
// lease TTL.
func (w *Worker) interval() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.cfg.HeartbeatInterval
	if w.ttl > 0 {
		d = min(d, w.ttl/3)
	}
	return d
}

// heartbeat sends one heartbeat listing every task the worker runs, with its progress, and
// acts on the answer: the listed tasks' leases are renewed as of the time the heartbeat was
// sent, the tasks the coordinator no longer leases to this worker are stopped, the new
// leases started. Without an answer, the tasks whose leases have not been renewed for the
// lease TTL are abandoned.
func (w *Worker) heartbeat() {
	w.mu.Lock()
	if !w.joinedOnce || w.stopped {
		w.mu.Unlock()
		return
	}
	req := &pb.HeartbeatRequest{WorkerId: w.cfg.ID, Incarnation: w.incarnation}
	if !w.draining {
		req.FreeSlots = uint32(max(w.cfg.Slots-len(w.running), 0))
	}
	for job := range w.cleaning {
		req.Cleaning = append(req.Cleaning, job)
	}
	req.Cleaned = slices.Clone(w.cleaned)
	listed := make([]*task, 0, len(w.running))
	for _, t := range w.running {
		req.Running = append(req.Running, &pb.RunningTask{Task: t.a.Task, Epoch: t.a.Epoch, Progress: t.progressProto()})
		listed = append(listed, t)
	}
	w.mu.Unlock()
	sent := time.Now()
	var resp *pb.HeartbeatResponse
	err := w.coords.call(w.ctx, func(ctx context.Context, c pb.WorkerServiceClient) error {
		var err error
		req.Seq = w.seq.Add(1) // each attempt its own: a retry is not the stale copy of another
		resp, err = c.Heartbeat(ctx, req)
		return err
	})
	if err != nil {
		if w.ctx.Err() == nil {
			w.log.Warn("heartbeat failed", "err", err)
			w.abandonExpired(time.Now())
		}
		return
	}
	w.mu.Lock()
	if resp.LeaseTtlMs > 0 {
		w.ttl = time.Duration(resp.LeaseTtlMs) * time.Millisecond
	}
	for _, t := range listed {
		t.renewed = sent
	}
	w.cleaned = w.cleaned[len(req.Cleaned):]
	w.mu.Unlock()
	for _, s := range resp.Stop {
		w.stop(s)
	}
	for _, a := range resp.Start {
		w.start(a, sent)
	}
	for _, o := range resp.Cleanup {
		w.startCleanup(o)
	}
}

// abandonExpired cancels the tasks whose leases were last renewed more than a lease TTL
// before now: the coordinator has taken them back, so they could not commit. A task whose
// result is being reported goes on: its report stops by itself (see report).
func (w *Worker) abandonExpired(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ttl <= 0 {
		return
	}
	for _, t := range w.running {
		if now.Sub(t.renewed) > w.ttl && !t.committing {
			w.log.Warn("abandoning a task: its lease could not be renewed", "task", t.key, "epoch", t.a.Epoch, "ttl", w.ttl)
			t.cancel(fmt.Errorf("%w: no coordinator renewed it for %v", errLeaseLost, w.ttl))
		}
	}
}

// leaseDeadline returns when a task's lease is certainly gone if not renewed: a lease TTL
// after the send time of the last heartbeat that renewed it. The coordinator renews a lease
// as of when it receives the heartbeat, so its own deadline is no earlier.
func (w *Worker) leaseDeadline(t *task) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	ttl := w.ttl
	if ttl <= 0 {
		ttl = 3 * w.cfg.HeartbeatInterval
	}
	return t.renewed.Add(ttl)
}

// stop stops a task the coordinator no longer leases to this worker under that epoch. A
// task reporting its result is left to finish the report: the coordinator's answer says
// whether the result was taken.
func (w *Worker) stop(s *pb.StopTask) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.running[keyOf(s.Task)]
	if t == nil || t.a.Epoch != s.Epoch || t.committing {
		return
	}
	w.log.Info("stopping a task", "task", t.key, "epoch", s.Epoch, "reason", s.Reason)
	t.cancel(fmt.Errorf("%w: %s", errStopped, s.Reason))
}

// start runs a task the coordinator leased to this worker at the time sent, or hands it back
// when the worker drains or has no free slot.
func (w *Worker) start(a *pb.Assignment, sent time.Time) {
	w.mu.Lock()
	key := keyOf(a.Task)
	if old := w.running[key]; old != nil {
		// A new lease of a task this worker still runs under an older one: the old lease is
		// gone, so is its attempt.
		old.cancel(fmt.Errorf("%w: the task was leased again under epoch %d", errStopped, a.Epoch))
		w.mu.Unlock()
		w.handBack(a, "the worker still runs an older attempt of the task")
		return
	}
	if w.draining || w.stopped || len(w.running) >= w.cfg.Slots {
		w.mu.Unlock()
		w.handBack(a, "the worker is draining or has no free slot")
		return
	}
	t := newTask(w.ctx, a, sent)
	w.running[key] = t
	w.tasks.Add(1)
	w.mu.Unlock()
	w.log.Info("starting a task", "task", key, "epoch", a.Epoch, "attempt", a.Attempt)
	go w.run(t)
}

// handBack reports a lease the worker will not run (Fail RELEASED), in the background.
func (w *Worker) handBack(a *pb.Assignment, cause string) {
	w.tasks.Add(1)
	go func() {
		defer w.tasks.Done()
		deadline, cancel := context.WithTimeout(w.ctx, w.cfg.RPCTimeout)
		defer cancel()
		err := w.report(deadline, func(ctx context.Context, c pb.WorkerServiceClient) error {
			_, err := c.Fail(ctx, &pb.FailRequest{WorkerId: w.cfg.ID, Failure: &pb.TaskFailure{Task: a.Task, Epoch: a.Epoch,
				Kind: pb.FailureKind_FAILURE_KIND_RELEASED, Cause: fmt.Sprintf("worker %s: %s", w.cfg.ID, cause)}})
			return err
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			w.log.Warn("handing back a lease failed; it expires", "task", keyOf(a.Task), "err", err)
		}
	}()
}

// report calls a coordinator until one answers or refuses, or ctx ends.
func (w *Worker) report(ctx context.Context, fn func(context.Context, pb.WorkerServiceClient) error) error {
	return w.coords.callUntil(ctx, w.cfg.RetryInterval, fn)
}
