package worker_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
	"google.golang.org/grpc"
)

// faultCluster starts 3 coordinators and 3 workers whose transports record accepted
// commits in l and hold the call h selects.
func faultCluster(t *testing.T, l *ledger, h *hold) *testcluster.Cluster {
	return testcluster.Start(t, testcluster.Options{Coordinators: 3, Workers: 3,
		Worker: func(i int, cfg *worker.Config) {
			cfg.DialOptions = append(cfg.DialOptions,
				grpc.WithChainUnaryInterceptor(l.interceptor, h.unary(cfg.ID)),
				grpc.WithStreamInterceptor(h.stream(cfg.ID)))
		}})
}

// workerIndex returns the index of the worker named id (w<i+1>).
func workerIndex(t testing.TB, c *testcluster.Cluster, id string) int {
	t.Helper()
	for i := range c.WorkerCount() {
		if w := c.Worker(i); w != nil && w.ID() == id {
			return i
		}
	}
	t.Fatalf("no worker %s up", id)
	return -1
}

// caught waits for the hold to catch a call and returns the worker that made it.
func caught(t testing.TB, h *hold) string {
	t.Helper()
	select {
	case id := <-h.caught:
		return id
	case <-time.After(jobTimeout):
		t.Fatal("timed out waiting for the fault's call")
		return ""
	}
}

// A worker killed with a shard done but not committed (its staged files written) and its
// other slot busy: the job completes on the others with the same bytes, every task is
// committed once, and the killed attempt's staged files are gone.
func TestCluster_KillWorkerMidShard(t *testing.T) {
	testKill(t, newHold(commitOf(pb.TaskKind_TASK_KIND_SHARD)))
}

// The worker that finalizes is killed before it reads the shard results, and another
// finalizes from scratch; or after it published, before its commit, and another finds the
// output published by the job and commits it.
func TestCluster_KillFinalizingWorker(t *testing.T) {
	t.Run("before publish", func(t *testing.T) {
		testKill(t, newHold(func(method string, _ any) bool { return method == shardResultsMethod }))
	})
	t.Run("after publish", func(t *testing.T) {
		testKill(t, newHold(commitOf(pb.TaskKind_TASK_KIND_FINALIZE)))
	})
}

func testKill(t *testing.T, h *hold) {
	l := newLedger()
	c := faultCluster(t, l, h)
	dir := t.TempDir()
	writeCorpus(t, dir, 3, 300, true)
	spec := pretrainSpec(dir, "kill")
	want := reference(t, spec)
	id := submit(t, c, 0, spec)
	victim := caught(t, h)
	c.KillWorker(workerIndex(t, c, victim))
	waitMember(t, c, victim, "dead")
	c.PassDeathWait(victim)
	st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
	out := filepath.Join(dir, "out")
	sameTree(t, hashTree(t, out), want)
	noLeftovers(t, out)
	l.check(t, id, st.Shards)
}
