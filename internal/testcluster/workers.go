package testcluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/coordinator"
	"github.com/tokenmill/tokenmill/worker"
)

// workerSet holds a cluster's workers.
type workerSet struct {
	mu      sync.Mutex
	workers []*worker.Worker // nil for a worker that is down
	cleanup bool             // the cleanup that stops them is registered
}

// Options say what Start builds.
type Options struct {
	// Coordinators is the number of coordinators (bootstrap-expect that many).
	Coordinators int
	// Workers is the number of workers; WorkerSlots their slots each (0 means 2).
	Workers     int
	WorkerSlots int
	// Worker, when not nil, adjusts the configuration of worker i before it starts.
	Worker func(i int, cfg *worker.Config)
	// DefaultTimings makes the coordinators keep coordinator.DefaultConfig's gossip timings
	// (members.DefaultGossip), lease TTL and grace, and time their leases on the system
	// clock instead of the cluster's fake Clock (raft's timeouts stay tight, to form the
	// cluster quickly). Workers are adjusted by Worker.
	DefaultTimings bool
	// SpeculateAfter, when > 0, is the coordinators' SpeculateAfter (how long an attempt
	// runs before its progress rate is judged).
	SpeculateAfter time.Duration
	// Laggards are the indexes of coordinators with raft heartbeat and election timeouts of
	// 2s (SlowRaft): they neither campaign first nor give up a leader quickly, so that one of
	// the others leads.
	Laggards []int
}

// SlowRaft is the raft heartbeat and election timeout of Options.Laggards.
const SlowRaft = 2 * time.Second

// Start builds a whole cluster in the test's process: the coordinators (as New) and then
// the workers, which join them by gossip and heartbeat to them. Cleanup stops the workers
// (as a crash would) before the coordinators.
func Start(t testing.TB, opt Options) *Cluster {
	t.Helper()
	adjust := func(i int, cfg *coordinator.Config) {
		if opt.DefaultTimings {
			d := coordinator.DefaultConfig()
			cfg.Gossip, cfg.Clock = d.Gossip, nil
			cfg.LeaseTTL, cfg.LeaseGrace = d.LeaseTTL, d.LeaseGrace
		}
		if opt.SpeculateAfter > 0 {
			cfg.SpeculateAfter = opt.SpeculateAfter
		}
		if slices.Contains(opt.Laggards, i) {
			cfg.HeartbeatTimeout, cfg.ElectionTimeout = SlowRaft, SlowRaft
		}
	}
	c := newCluster(t, opt.Coordinators, adjust)
	for i := range opt.Workers {
		c.AddWorker(func(cfg *worker.Config) {
			if opt.WorkerSlots > 0 {
				cfg.Slots = opt.WorkerSlots
			}
			if opt.Worker != nil {
				opt.Worker(i, cfg)
			}
		})
	}
	return c
}

// WorkerConfig returns a worker configuration for tests: loopback, ports from the system,
// 2 slots, heartbeats every 50 ms, the gossip timings of Gossip, joining the gossip
// addresses join.
func WorkerConfig(id string, join []string) worker.Config {
	c := worker.DefaultConfig()
	c.ID = id
	c.BindAddr = "127.0.0.1"
	c.GossipPort, c.GRPCPort = 0, 0
	c.Join = join
	c.JoinRetry = 50 * time.Millisecond
	c.Slots = 2
	c.HeartbeatInterval = 50 * time.Millisecond
	c.RPCTimeout = 5 * time.Second
	c.RetryInterval = 20 * time.Millisecond
	c.Gossip = Gossip()
	c.Version = "test"
	return c
}

// AddWorker starts a worker named w<i+1> that joins the running coordinators, with its
// configuration adjusted by adjust (may be nil), and returns its index.
func (c *Cluster) AddWorker(adjust func(*worker.Config)) int {
	c.t.Helper()
	ws := &c.workers
	ws.mu.Lock()
	i := len(ws.workers)
	if !ws.cleanup {
		ws.cleanup = true
		c.t.Cleanup(c.stopWorkers)
	}
	ws.mu.Unlock()
	var join []string
	for _, n := range c.running() {
		join = append(join, n.Addrs().Gossip)
	}
	cfg := WorkerConfig(fmt.Sprintf("w%d", i+1), join)
	cfg.Logger = logger(c.t)
	if adjust != nil {
		adjust(&cfg)
	}
	w, err := worker.New(cfg)
	if err != nil {
		c.t.Fatalf("start worker %s: %v", cfg.ID, err)
	}
	ws.mu.Lock()
	ws.workers = append(ws.workers, w)
	ws.mu.Unlock()
	return i
}

// Worker returns worker i, or nil if it is down.
func (c *Cluster) Worker(i int) *worker.Worker {
	c.workers.mu.Lock()
	defer c.workers.mu.Unlock()
	return c.workers.workers[i]
}

// WorkerCount returns the number of workers started, up or down.
func (c *Cluster) WorkerCount() int {
	c.workers.mu.Lock()
	defer c.workers.mu.Unlock()
	return len(c.workers.workers)
}

// take marks worker i down and returns it.
func (c *Cluster) take(i int) *worker.Worker {
	c.workers.mu.Lock()
	defer c.workers.mu.Unlock()
	w := c.workers.workers[i]
	c.workers.workers[i] = nil
	return w
}

// KillWorker stops worker i as a crash would (no report, no leave).
func (c *Cluster) KillWorker(i int) {
	if w := c.take(i); w != nil {
		w.Kill()
	}
}

// PassDeathWait advances the cluster's fake clock past the wait the leader gives the leases
// of worker id, which gossip declared dead (at most a third of the lease TTL, see the
// coordinator's workerDied), once the leader has set its timer for them: on the fake clock,
// which tests do not move otherwise, they would never expire. A worker that holds no lease
// (its last one ended as it died) needs no wait.
func (c *Cluster) PassDeathWait(id string) {
	c.t.Helper()
	wait := c.cfgs[0].LeaseTTL / 3
	WaitFor(c.t, Timeout, "the leader's timer for the dead worker's leases", func() error {
		leader := c.Node(c.WaitLeader())
		if len(leader.FSM().LeasesOf(id)) == 0 {
			return nil
		}
		next, ok := c.Clock.Next()
		if !ok {
			return fmt.Errorf("no timer set")
		}
		if d := next.Sub(c.Clock.Now()); d > wait {
			return fmt.Errorf("the earliest timer is due in %v, after the death's wait of %v", d, wait)
		}
		return nil
	})
	c.Clock.Advance(wait)
}

// DrainWorker drains worker i, giving its tasks timeout to finish, and returns Drain's
// error.
func (c *Cluster) DrainWorker(i int, timeout time.Duration) error {
	w := c.take(i)
	if w == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return w.Drain(ctx)
}

// stopWorkers kills every worker still up.
func (c *Cluster) stopWorkers() {
	for i := range c.WorkerCount() {
		c.KillWorker(i)
	}
}
