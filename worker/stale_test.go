package worker_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A worker is cut off from the coordinators while it commits a shard; its lease expires
// (the coordinators' clock moves past the TTL while the other workers heartbeat), the shard
// runs and commits elsewhere, then the worker comes back and its stale commit is refused.
// The job publishes the bytes of runner.Run, each task committed once, and the refused
// attempt's staged files are gone.
func TestCluster_StaleCommitRefused(t *testing.T) {
	h := newHold(commitOf(pb.TaskKind_TASK_KIND_SHARD))
	l := newLedger()
	c := faultCluster(t, l, h)
	dir := t.TempDir()
	writeCorpus(t, dir, 3, 300, true)
	spec := pretrainSpec(dir, "stale")
	want := reference(t, spec)
	id := submit(t, c, 0, spec)
	caught(t, h)
	h.setCut(true)
	h.mu.Lock()
	held := h.task
	h.mu.Unlock()
	testcluster.WaitFor(t, jobTimeout, held+" committed by another worker", func() error {
		c.Clock.Advance(500 * time.Millisecond) // 50 s of lease time per second: TTL 10 s
		if l.epochs(held) == 0 {
			return fmt.Errorf("not committed yet")
		}
		return nil
	})
	h.setCut(false)
	close(h.release)
	testcluster.WaitFor(t, jobTimeout, "the stale commit's answer", func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.after == nil {
			return fmt.Errorf("no answer yet")
		}
		return nil
	})
	h.mu.Lock()
	code := status.Code(h.after)
	h.mu.Unlock()
	if code != codes.AlreadyExists && code != codes.FailedPrecondition {
		t.Fatalf("the stale commit got %v, want a refusal", h.after)
	}
	st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
	out := filepath.Join(dir, "out")
	sameTree(t, hashTree(t, out), want)
	noLeftovers(t, out)
	l.check(t, id, st.Shards)
}
