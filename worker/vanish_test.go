package worker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
	"google.golang.org/grpc"
)

const heartbeatMethod = "/tokenmill.v1.WorkerService/Heartbeat"

// answered counts, by worker, the heartbeats a coordinator answered since mark.
type answered struct {
	mu     sync.Mutex
	marked bool
	by     map[string]int
}

func (a *answered) mark() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.marked, a.by = true, map[string]int{}
}

// missing returns the workers of ids without an answered heartbeat since mark.
func (a *answered) missing(ids []string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, id := range ids {
		if a.by[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

func (a *answered) unary(id string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil && method == heartbeatMethod {
			a.mu.Lock()
			if a.marked {
				a.by[id]++
			}
			a.mu.Unlock()
		}
		return err
	}
}

// The raft leader vanishes from the network (as a killed container does: its address drops
// every packet, where a killed process's closed port refuses at once) while every worker
// holds a shard's commit, with the production timings: lease TTL 10s and grace 20s,
// heartbeats every second, calls bounded by 15s, memberlist's default probes. The workers
// call either a follower, which forwards their calls to the leader, or the leader itself.
// Every worker reaches the new leader well within its grace, keeps its lease, and commits:
// the job completes with the same bytes and without one lost lease or failed attempt.
func TestCluster_LeaderVanishes(t *testing.T) {
	if testing.Short() {
		t.Skip("production timings: the failover takes seconds")
	}
	tests := []struct {
		name string
		// slow are the coordinators that must not lead first.
		slow []int
		// leaderFirst: the workers' first coordinator (c1, by gossip's name order) leads.
		leaderFirst bool
	}{
		{"the workers call a follower", []int{0}, false},
		{"the workers call the leader", []int{1, 2}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const workers = 3
			g := newGate(func(_, method string, req any) bool { return commitOf(pb.TaskKind_TASK_KIND_SHARD)(method, req) })
			l := newLedger()
			a := &answered{}
			c := testcluster.Start(t, testcluster.Options{Coordinators: 3, Workers: workers, WorkerSlots: 1,
				DefaultTimings: true, Laggards: tt.slow,
				Worker: func(_ int, cfg *worker.Config) {
					d := worker.DefaultConfig()
					cfg.HeartbeatInterval, cfg.RPCTimeout, cfg.RetryInterval, cfg.Gossip = d.HeartbeatInterval, d.RPCTimeout, d.RetryInterval, d.Gossip
					g.instrument(cfg, l)
					cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(a.unary(cfg.ID)))
				}})
			leader := c.WaitLeader()
			if tt.leaderFirst && leader != 0 {
				// The first election raced with the bootstrap: restart the leader, and c1,
				// the one with quick raft timeouts left, wins the next.
				c.Kill(leader)
				c.Restart(leader)
				leader = c.WaitLeader()
			}
			if (leader == 0) != tt.leaderFirst {
				t.Fatalf("c%d leads: the slow raft timeouts of %v did not decide the leader", leader+1, tt.slow)
			}
			dir := t.TempDir()
			writeCorpus(t, dir, 3, 300, true)
			spec := pretrainSpec(dir, "vanish")
			want := reference(t, spec)
			id := submit(t, c, 0, spec)
			testcluster.WaitFor(t, jobTimeout, "every worker held in a shard's commit", func() error {
				if n := g.heldCalls(); n < workers {
					return fmt.Errorf("%d commits held", n)
				}
				return nil
			})
			oldID := c.Node(leader).ID()
			a.mark()
			c.Vanish(leader)
			var ids []string
			for i := range workers {
				ids = append(ids, c.Worker(i).ID())
			}
			// Longer than the grace: without an answer by then, the leases are lost, which
			// the count of failed attempts below shows.
			testcluster.WaitFor(t, time.Minute, "a heartbeat of every worker answered after the leader vanished", func() error {
				if m := a.missing(ids); len(m) > 0 {
					return fmt.Errorf("no answer yet to %v", m)
				}
				return nil
			})
			if now := c.WaitLeader(); c.Node(now).ID() == oldID {
				t.Fatalf("the vanished leader %s still leads", oldID)
			}
			g.open()
			st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
			if st.FailedAttempts != 0 {
				t.Errorf("%d failed attempts or lost leases after the leader vanished, want 0", st.FailedAttempts)
			}
			sameTree(t, hashTree(t, filepath.Join(dir, "out")), want)
			l.check(t, id, st.Shards)
		})
	}
}
