package worker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
)

// TestWorker_JoinsAgainWhenEveryCoordinatorRestarted: the only coordinator dies, the worker
// gives it up (it stops gossiping to the dead at once), and the coordinator comes back with a
// gossip cluster of its own. The worker, knowing no coordinator alive, joins again, so the
// coordinator lists it and can lease it tasks.
func TestWorker_JoinsAgainWhenEveryCoordinatorRestarted(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Coordinators: 1, Workers: 1,
		Worker: func(_ int, cfg *worker.Config) { cfg.Gossip.GossipToTheDeadTime = time.Millisecond }})
	workerAlive := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r, err := c.Cluster(0).Members(ctx, &pb.MembersRequest{})
		if err != nil {
			return err
		}
		for _, m := range r.Members {
			if m.Id == "w1" && m.State == "alive" {
				return nil
			}
		}
		return fmt.Errorf("members %v", r.Members)
	}
	testcluster.WaitFor(t, testcluster.Timeout, "w1 alive on the coordinator", workerAlive)
	c.Kill(0)
	// The worker declares the coordinator dead within about a second (testcluster.Gossip) and
	// gossips to it no more; nothing the worker exposes tells when.
	time.Sleep(2 * time.Second)
	c.Restart(0)
	testcluster.WaitFor(t, testcluster.Timeout, "w1 alive on the restarted coordinator", workerAlive)
}
