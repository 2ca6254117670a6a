package worker_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tokenmill/tokenmill/internal/members"
	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
	"google.golang.org/grpc"
)

// checkJob waits for the job to succeed and checks the invariants of every fault test: the
// output is byte for byte runner.Run's (run.json aside), each task was committed under one
// lease, and no staged file or temporary directory is left.
func checkJob(t *testing.T, c *testcluster.Cluster, l *ledger, id, dir string, want map[string]string) {
	t.Helper()
	st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
	out := filepath.Join(dir, "out")
	sameTree(t, hashTree(t, out), want)
	noLeftovers(t, out)
	l.check(t, id, st.Shards)
}

// The raft leader is killed while a worker holds a shard's commit and the others run
// shards: a new leader is elected among the two left, keeps the leases, and the job
// completes through it with the same bytes.
func TestCluster_KillLeader(t *testing.T) {
	h := newHold(commitOf(pb.TaskKind_TASK_KIND_SHARD))
	l := newLedger()
	c := faultCluster(t, l, h)
	dir := t.TempDir()
	writeCorpus(t, dir, 3, 300, true)
	spec := pretrainSpec(dir, "leader")
	want := reference(t, spec)
	id := submit(t, c, c.Followers()[0], spec)
	caught(t, h)
	old := c.WaitLeader()
	oldID := c.Node(old).ID()
	c.Kill(old)
	if now := c.WaitLeader(); c.Node(now).ID() == oldID {
		t.Fatalf("the killed leader %s still leads", oldID)
	}
	close(h.release)
	checkJob(t, c, l, id, dir, want)
}

// Every coordinator is restarted from its data directory while a worker holds a shard's
// commit and the others run shards: one after another (a rolling restart, each back and a
// leader known before the next goes), and all at once (the cluster is down until they are
// all back; the workers, which found every coordinator dead, rejoin the coordinators' new
// gossip cluster). The job completes with
// the same bytes.
func TestCluster_RestartEveryCoordinator(t *testing.T) {
	tests := []struct {
		name    string
		restart func(c *testcluster.Cluster)
	}{
		{"one after another", func(c *testcluster.Cluster) {
			for i := range c.Len() {
				c.Kill(i)
				c.WaitLeader()
				c.Restart(i)
				c.WaitLeader()
			}
		}},
		{"all at once", func(c *testcluster.Cluster) {
			for i := range c.Len() {
				c.Kill(i)
			}
			testcluster.WaitFor(t, testcluster.Timeout, "the workers to find every coordinator dead", func() error {
				for i := range c.WorkerCount() {
					for _, m := range c.Worker(i).Members() {
						if m.Meta.Role == members.RoleCoordinator && m.State != members.StateDead {
							return fmt.Errorf("worker %s sees %s %s", c.Worker(i).ID(), m.Name, m.State)
						}
					}
				}
				return nil
			})
			for i := range c.Len() {
				c.Restart(i)
			}
			c.WaitLeader()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHold(commitOf(pb.TaskKind_TASK_KIND_SHARD))
			l := newLedger()
			c := faultCluster(t, l, h)
			dir := t.TempDir()
			writeCorpus(t, dir, 3, 300, true)
			spec := pretrainSpec(dir, "restart")
			want := reference(t, spec)
			id := submit(t, c, 0, spec)
			caught(t, h)
			tt.restart(c)
			close(h.release)
			checkJob(t, c, l, id, dir, want)
		})
	}
}

// A worker added during a job takes tasks: the three first workers are held in their shard
// commits (every slot busy), the new one joins and commits shards, then the held commits go
// on. The job completes with the same bytes.
func TestCluster_AddWorker(t *testing.T) {
	g := newGate(func(id, method string, req any) bool {
		return id != "w4" && commitOf(pb.TaskKind_TASK_KIND_SHARD)(method, req)
	})
	l := newLedger()
	const workers, slots = 3, 2
	c := testcluster.Start(t, testcluster.Options{Coordinators: 3, Workers: workers, WorkerSlots: slots,
		Worker: func(_ int, cfg *worker.Config) { g.instrument(cfg, l) }})
	dir := t.TempDir()
	writeCorpus(t, dir, 4, 400, true)
	spec := pretrainSpec(dir, "add")
	want := reference(t, spec)
	id := submit(t, c, 0, spec)
	testcluster.WaitFor(t, jobTimeout, "every slot of the first workers held in a commit", func() error {
		if n := g.heldCalls(); n < workers*slots {
			return fmt.Errorf("%d commits held", n)
		}
		return nil
	})
	st, err := jobStatus(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Shards <= workers*slots {
		t.Fatalf("the job has %d shards; the test needs more than the %d slots held", st.Shards, workers*slots)
	}
	c.AddWorker(func(cfg *worker.Config) { g.instrument(cfg, l) })
	testcluster.WaitFor(t, jobTimeout, "a shard committed by the added worker w4", func() error {
		if n := g.acceptedBy("w4"); n == 0 {
			return fmt.Errorf("w4 committed nothing yet")
		}
		return nil
	})
	g.open()
	checkJob(t, c, l, id, dir, want)
}

// gate is a fault at the workers' transport: every call that match selects waits until the
// gate opens (or its context ends). It also counts, by worker, the commits accepted.
type gate struct {
	match  func(worker, method string, req any) bool
	opened chan struct{}
	once   sync.Once

	mu       sync.Mutex
	held     int // calls waiting now
	accepted map[string]int
}

func newGate(match func(worker, method string, req any) bool) *gate {
	return &gate{match: match, opened: make(chan struct{}), accepted: map[string]int{}}
}

// instrument adds the gate and the ledger l to the worker's transport.
func (g *gate) instrument(cfg *worker.Config, l *ledger) {
	cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(l.interceptor, g.unary(cfg.ID)))
}

func (g *gate) open() { g.once.Do(func() { close(g.opened) }) }

func (g *gate) heldCalls() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.held
}

func (g *gate) acceptedBy(worker string) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.accepted[worker]
}

func (g *gate) unary(id string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if g.match(id, method, req) {
			g.mu.Lock()
			g.held++
			g.mu.Unlock()
			var done error
			select {
			case <-ctx.Done():
				done = ctx.Err()
			case <-g.opened:
			}
			g.mu.Lock()
			g.held--
			g.mu.Unlock()
			if done != nil {
				return done
			}
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil && method == commitMethod {
			g.mu.Lock()
			g.accepted[id]++
			g.mu.Unlock()
		}
		return err
	}
}
