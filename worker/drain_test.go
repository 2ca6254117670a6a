package worker_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// A drain whose tasks finish in time returns nil; one that runs out of time hands its task
// back (here the plan, held in its first AppendPlan), which another worker then runs
// without it counting as a failed attempt: the job succeeds with the same bytes.
func TestWorker_Drain(t *testing.T) {
	h := newHold(func(method string, _ any) bool { return method == appendPlanMethod })
	l := newLedger()
	c := faultCluster(t, l, h)
	dir := t.TempDir()
	writeCorpus(t, dir, 3, 300, true)
	spec := pretrainSpec(dir, "drain")
	want := reference(t, spec)
	id := submit(t, c, 0, spec)
	name := caught(t, h)
	victim := workerIndex(t, c, name)
	err := c.DrainWorker(victim, 200*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain of a worker whose plan is held = %v, want the deadline", err)
	}
	waitMember(t, c, name, "left")
	st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
	sameTree(t, hashTree(t, filepath.Join(dir, "out")), want)
	noLeftovers(t, filepath.Join(dir, "out"))
	l.check(t, id, st.Shards)
	// A worker that drains while idle, or whose tasks finish, returns nil.
	for i := range c.WorkerCount() {
		if c.Worker(i) != nil {
			if err := c.DrainWorker(i, 10*time.Second); err != nil {
				t.Errorf("Drain of an idle worker: %v", err)
			}
		}
	}
}
