package fsm

import (
	"errors"
	"slices"
	"testing"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// TestFSM_Fencing replays the ways a result reaches the leader late or twice: each must be
// refused with its typed error, and the committed result must stay the first accepted one.
func TestFSM_Fencing(t *testing.T) {
	ref := shardRef("j", 0)
	tests := []struct {
		name string
		// run leads the shard to the case and returns the commit to try.
		run  func(h *harness) *pb.TaskCommit
		want error
	}{
		{"stale epoch: the lease expired and was granted again", func(h *harness) *pb.TaskCommit {
			old := h.grant("w1", ref)
			h.must(ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: ref.Proto(), Epoch: old, Cause: "lease expired"}}})
			h.grant("w2", ref)
			return shardCommit(ref, old, 0)
		}, ErrStaleEpoch},
		{"stale epoch: the lease expired, not granted again", func(h *harness) *pb.TaskCommit {
			old := h.grant("w1", ref)
			h.must(ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: ref.Proto(), Epoch: old}}})
			return shardCommit(ref, old, 0)
		}, ErrStaleEpoch},
		{"never granted", func(h *harness) *pb.TaskCommit {
			return shardCommit(ref, h.index, 0)
		}, ErrStaleEpoch},
		{"duplicate commit of the same lease", func(h *harness) *pb.TaskCommit {
			e := h.grant("w1", ref)
			h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(ref, e, 0)}})
			return shardCommit(ref, e, 0)
		}, ErrCommitted},
		{"late result of an earlier attempt after the later one committed", func(h *harness) *pb.TaskCommit {
			old := h.grant("w1", ref)
			h.must(ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: ref.Proto(), Epoch: old}}})
			e := h.grant("w2", ref)
			h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(ref, e, 1)}})
			return shardCommit(ref, old, 0)
		}, ErrCommitted},
		{"result after cancel", func(h *harness) *pb.TaskCommit {
			e := h.grant("w1", ref)
			h.must(CancelJob, &pb.CancelJobCommand{JobId: "j"})
			return shardCommit(ref, e, 0)
		}, ErrJobFinal},
		{"result after the job failed", func(h *harness) *pb.TaskCommit {
			e := h.grant("w1", ref, shardRef("j", 1))
			h.must(FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{{Task: shardRef("j", 1).Proto(), Epoch: e,
				Kind: pb.FailureKind_FAILURE_KIND_INPUT, Cause: "truncated gzip stream"}}})
			return shardCommit(ref, e, 0)
		}, ErrJobFinal},
		{"second finalize", func(h *harness) *pb.TaskCommit {
			var commits []*pb.TaskCommit
			e := h.grant("w1", ref, shardRef("j", 1))
			commits = append(commits, shardCommit(ref, e, 0), shardCommit(shardRef("j", 1), e, 0))
			h.must(CommitTasks, &pb.CommitCommand{Commits: commits})
			fe := h.grant("w2", finalizeRef("j"))
			h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{finalizeCommit("j", fe)}})
			return finalizeCommit("j", fe)
		}, ErrJobFinal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.planned("j", 2, 3)
			c := tt.run(h)
			before, _ := h.f.Task(RefOf(c.Task))
			res := h.apply(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{c}})
			if !errors.Is(res.Err(), tt.want) {
				t.Fatalf("err = %v, want %v", res.Err(), tt.want)
			}
			if after, _ := h.f.Task(RefOf(c.Task)); after.State != before.State || after.Result != before.Result || after.Lease != before.Lease {
				t.Errorf("a refused commit changed the task: %+v -> %+v", before, after)
			}
		})
	}
}

// TestFSM_MaxAttempts loses a shard's lease max_attempts times, in the ways a lease is lost.
func TestFSM_MaxAttempts(t *testing.T) {
	expire := func(h *harness, e uint64) {
		h.must(ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: shardRef("j", 0).Proto(), Epoch: e, Cause: "worker w1 died"}}})
	}
	fail := func(h *harness, e uint64) {
		h.must(FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{{Task: shardRef("j", 0).Proto(), Epoch: e,
			Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "worker w1 died"}}})
	}
	release := func(h *harness, e uint64) {
		h.must(FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{{Task: shardRef("j", 0).Proto(), Epoch: e,
			Kind: pb.FailureKind_FAILURE_KIND_RELEASED, Cause: "drain"}}})
	}
	tests := []struct {
		name        string
		maxAttempts uint32
		losses      []func(*harness, uint64)
		wantState   pb.JobState
	}{
		{"default 3: two expiries leave it running", 0, []func(*harness, uint64){expire, expire}, pb.JobState_JOB_STATE_RUNNING},
		{"default 3: the third loss fails the job", 0, []func(*harness, uint64){expire, fail, expire}, pb.JobState_JOB_STATE_FAILED},
		{"releases do not count", 2, []func(*harness, uint64){release, release, release, expire}, pb.JobState_JOB_STATE_RUNNING},
		{"max_attempts 1", 1, []func(*harness, uint64){fail}, pb.JobState_JOB_STATE_FAILED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.planned("j", 3, tt.maxAttempts)
			for _, lose := range tt.losses {
				lose(h, h.grant("w1", shardRef("j", 0)))
			}
			s, _ := h.f.Job("j")
			if s.State != tt.wantState {
				t.Fatalf("state = %v (%s), want %v", s.State, s.Error, tt.wantState)
			}
			ti, _ := h.f.Task(shardRef("j", 0))
			if ti.Attempt != uint32(len(tt.losses)) {
				t.Errorf("attempt = %d, want %d", ti.Attempt, len(tt.losses))
			}
			if tt.wantState == pb.JobState_JOB_STATE_FAILED {
				want := "shard 000000 (input /mnt/shared/corpora/common-crawl/2026-05/en/part-00000.jsonl) failed " +
					map[uint32]string{0: "3 times (max_attempts 3)", 1: "1 times (max_attempts 1)"}[tt.maxAttempts] + ", last: worker w1 died"
				if s.Error != want {
					t.Errorf("error = %q, want %q", s.Error, want)
				}
			}
		})
	}
}

// TestFSM_PendingFairness: free slots go to the running jobs in turn, the job with the fewest
// leases first, and a lost shard comes before later ones.
func TestFSM_PendingFairness(t *testing.T) {
	h := newHarness(t)
	h.planned("a", 10, 0)
	h.planned("b", 10, 0)
	h.submit("c", 0)
	e := h.grant("w1", shardRef("a", 0), shardRef("a", 1), shardRef("a", 2))
	want := []TaskRef{shardRef("b", 0), planRef("c"), shardRef("b", 1), shardRef("b", 2), shardRef("a", 3), shardRef("b", 3)}
	if got := h.f.Pending(6); !slices.Equal(got, want) {
		t.Errorf("Pending(6) = %v, want %v", got, want)
	}
	h.must(ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: shardRef("a", 1).Proto(), Epoch: e}}})
	h.grant("w2", planRef("c"), shardRef("b", 0), shardRef("b", 1), shardRef("b", 2))
	want = []TaskRef{shardRef("a", 1), shardRef("a", 3), shardRef("b", 3)}
	if got := h.f.Pending(3); !slices.Equal(got, want) {
		t.Errorf("after an expiry: Pending(3) = %v, want %v", got, want)
	}
	if got := h.f.Pending(1000); len(got) != 15 {
		t.Errorf("Pending(1000) has %d tasks, want 15: %v", len(got), got)
	}
}

// TestFSM_PendingWhere: the jobs jobOK refuses take no turn, so the fair order among the
// others is that of Pending without them; jobOK sees each active job's spec.
func TestFSM_PendingWhere(t *testing.T) {
	h := newHarness(t)
	h.planned("a", 10, 0)
	h.planned("b", 10, 0)
	h.planned("c", 10, 0)
	h.grant("w1", shardRef("a", 0), shardRef("a", 1))
	seen := map[string]bool{}
	got := h.f.PendingWhere(4, nil, func(id string, spec []byte) bool {
		seen[id] = len(spec) > 0
		return id != "b"
	})
	want := []TaskRef{shardRef("c", 0), shardRef("c", 1), shardRef("a", 2), shardRef("c", 2)}
	if !slices.Equal(got, want) {
		t.Errorf("PendingWhere(4, not b) = %v, want %v", got, want)
	}
	if !seen["a"] || !seen["b"] || !seen["c"] {
		t.Errorf("jobOK saw %v, want a, b and c with their specs", seen)
	}
	if got := h.f.PendingWhere(4, nil, func(string, []byte) bool { return false }); len(got) != 0 {
		t.Errorf("PendingWhere refusing every job = %v", got)
	}
}
