package fsm

import (
	"errors"
	"testing"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// speculate grants worker a backup lease of ref fenced by the lease epoch; it returns the
// backup's epoch and the items' errors.
func (h *harness) speculate(ref TaskRef, epoch uint64, worker string) (uint64, error) {
	h.t.Helper()
	res := h.apply(SpeculateLeases, &pb.SpeculateCommand{Speculations: []*pb.Speculation{{Task: ref.Proto(),
		Epoch: epoch, WorkerId: worker, DeadlineUnixMs: 1_780_000_040_000}}})
	return res.Index, res.Err()
}

func expiry(ref TaskRef, epoch uint64, cause string) *pb.ExpireCommand {
	return &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: ref.Proto(), Epoch: epoch, Cause: cause}}}
}

// TestFSM_Speculation: a backup lease runs the task's next attempt on another worker; the
// first of the two commits wins and ends both leases; losing either lease leaves the task
// leased under the other; no two attempts share an attempt number.
func TestFSM_Speculation(t *testing.T) {
	ref := shardRef("j", 0)
	type want struct {
		state    pb.TaskState
		attempt  uint32 // the task's attempt (its lease's, or its result's)
		failures uint32
		leasesW1 int // leases LeasesOf("w1") and LeasesOf("w2") return
		leasesW2 int
		err      error // of the last command
	}
	tests := []struct {
		name string
		run  func(h *harness, e1, e2 uint64) error
		want want
	}{
		{"both run", func(h *harness, e1, e2 uint64) error { return nil },
			want{pb.TaskState_TASK_STATE_LEASED, 0, 0, 1, 1, nil}},
		{"the backup commits first: the lease's commit is refused", func(h *harness, e1, e2 uint64) error {
			h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(ref, e2, 1)}})
			return h.apply(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(ref, e1, 0)}}).Err()
		}, want{pb.TaskState_TASK_STATE_COMMITTED, 1, 0, 0, 0, ErrCommitted}},
		{"the lease commits first: the backup's commit is refused", func(h *harness, e1, e2 uint64) error {
			h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(ref, e1, 0)}})
			return h.apply(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(ref, e2, 1)}}).Err()
		}, want{pb.TaskState_TASK_STATE_COMMITTED, 0, 0, 0, 0, ErrCommitted}},
		{"the backup's result must be of its attempt", func(h *harness, e1, e2 uint64) error {
			return h.apply(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(ref, e2, 0)}}).Err()
		}, want{pb.TaskState_TASK_STATE_LEASED, 0, 0, 1, 1, ErrBadCommand}},
		{"the lease expires: the backup becomes the lease", func(h *harness, e1, e2 uint64) error {
			h.must(ExpireLeases, expiry(ref, e1, "lease expired"))
			return h.apply(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(ref, e2, 1)}}).Err()
		}, want{pb.TaskState_TASK_STATE_COMMITTED, 1, 1, 0, 0, nil}},
		{"the backup fails: not counted, the lease runs on", func(h *harness, e1, e2 uint64) error {
			return h.apply(FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{{Task: ref.Proto(), Epoch: e2,
				Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "disk full"}}}).Err()
		}, want{pb.TaskState_TASK_STATE_LEASED, 0, 0, 1, 0, nil}},
		{"the backup expires, then the lease: the next attempt is past both", func(h *harness, e1, e2 uint64) error {
			h.must(ExpireLeases, expiry(ref, e2, "lease expired"))
			return h.apply(ExpireLeases, expiry(ref, e1, "lease expired")).Err()
		}, want{pb.TaskState_TASK_STATE_PENDING, 2, 1, 0, 0, nil}},
		{"a second backup is refused", func(h *harness, e1, e2 uint64) error {
			_, err := h.speculate(ref, e1, "w3")
			return err
		}, want{pb.TaskState_TASK_STATE_LEASED, 0, 0, 1, 1, ErrSpeculating}},
		{"an input error of the backup fails the job", func(h *harness, e1, e2 uint64) error {
			return h.apply(FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{{Task: ref.Proto(), Epoch: e2,
				Kind: pb.FailureKind_FAILURE_KIND_INPUT, Cause: "/data/a.jsonl: line 3: bad JSON"}}}).Err()
		}, want{pb.TaskState_TASK_STATE_PENDING, 0, 0, 0, 0, nil}},
		{"cancel drops both leases", func(h *harness, e1, e2 uint64) error {
			return h.apply(CancelJob, &pb.CancelJobCommand{JobId: "j"}).Err()
		}, want{pb.TaskState_TASK_STATE_PENDING, 0, 0, 0, 0, nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.planned("j", 2, 3)
			e1 := h.grant("w1", ref)
			e2, err := h.speculate(ref, e1, "w2")
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.run(h, e1, e2); !errors.Is(err, tt.want.err) {
				t.Fatalf("err = %v, want %v", err, tt.want.err)
			}
			info, _ := h.f.Task(ref)
			got := want{info.State, info.Attempt, info.Failures, len(h.f.LeasesOf("w1")), len(h.f.LeasesOf("w2")), tt.want.err}
			if got != tt.want {
				t.Errorf("task %+v, leases w1 %d w2 %d; want %+v", info, got.leasesW1, got.leasesW2, tt.want)
			}
			if info.State == pb.TaskState_TASK_STATE_COMMITTED && info.Result.Attempt != info.Attempt {
				t.Errorf("result of attempt %d, task attempt %d", info.Result.Attempt, info.Attempt)
			}
			assertReplayAndSnapshot(t, h)
		})
	}
}

// TestFSM_SpeculationRefusals: a speculation needs a current lease of a shard task, on
// another worker.
func TestFSM_SpeculationRefusals(t *testing.T) {
	tests := []struct {
		name string
		run  func(h *harness) error
		want error
	}{
		{"stale epoch", func(h *harness) error {
			e := h.grant("w1", shardRef("j", 0))
			h.must(ExpireLeases, expiry(shardRef("j", 0), e, "lease expired"))
			_, err := h.speculate(shardRef("j", 0), e, "w2")
			return err
		}, ErrStaleEpoch},
		{"same worker", func(h *harness) error {
			e := h.grant("w1", shardRef("j", 0))
			_, err := h.speculate(shardRef("j", 0), e, "w1")
			return err
		}, ErrBadCommand},
		{"finalize task", func(h *harness) error {
			e := h.grant("w1", shardRef("j", 0), shardRef("j", 1))
			h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(shardRef("j", 0), e, 0), shardCommit(shardRef("j", 1), e, 0)}})
			fe := h.grant("w1", finalizeRef("j"))
			_, err := h.speculate(finalizeRef("j"), fe, "w2")
			return err
		}, ErrBadCommand},
		{"committed", func(h *harness) error {
			e := h.grant("w1", shardRef("j", 0))
			h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(shardRef("j", 0), e, 0)}})
			_, err := h.speculate(shardRef("j", 0), e, "w2")
			return err
		}, ErrCommitted},
		{"no worker", func(h *harness) error {
			e := h.grant("w1", shardRef("j", 0))
			_, err := h.speculate(shardRef("j", 0), e, "")
			return err
		}, ErrBadCommand},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.planned("j", 2, 3)
			if err := tt.run(h); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// assertReplayAndSnapshot checks that a replica replaying h's log, and one restored from a
// snapshot, answer every query as h's state does.
func assertReplayAndSnapshot(t *testing.T, h *harness) {
	t.Helper()
	r := New()
	for i, data := range h.log {
		if _, err := r.ApplyCommand(uint64(i+1), data); err != nil {
			t.Fatal(err)
		}
	}
	sameState(t, h.f, r)
	sameState(t, h.f, restore(t, persist(t, h.f)))
}
