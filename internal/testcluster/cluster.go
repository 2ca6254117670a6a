package testcluster

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/tokenmill/tokenmill/coordinator"
	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/clock"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Timeout is how long the helpers wait for the cluster to reach a state.
const Timeout = 20 * time.Second

// Gossip returns memberlist settings for loopback tests: a node that stops answering is
// declared dead within about a second.
func Gossip() *memberlist.Config {
	c := memberlist.DefaultLocalConfig()
	c.ProbeInterval = 100 * time.Millisecond
	c.ProbeTimeout = 50 * time.Millisecond
	c.GossipInterval = 20 * time.Millisecond
	c.PushPullInterval = time.Second
	c.SuspicionMult = 2
	c.TCPTimeout = time.Second
	c.DeadNodeReclaimTime = time.Millisecond
	return c
}

// Config returns a coordinator configuration for tests: loopback, ports from the system,
// raft timeouts of 100 ms, an HTTP server, and the clock given (nil: the system clock).
func Config(id, dir string, clk clock.Clock) coordinator.Config {
	c := coordinator.DefaultConfig()
	c.ID = id
	c.DataDir = dir
	c.BindAddr = "127.0.0.1"
	c.RaftPort, c.GossipPort, c.GRPCPort, c.HTTPPort = 0, 0, 0, 0
	c.JoinRetry = 50 * time.Millisecond
	c.HeartbeatTimeout = 100 * time.Millisecond
	c.ElectionTimeout = 100 * time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.ApplyTimeout = 5 * time.Second
	c.ForwardTimeout = 10 * time.Second
	c.Gossip = Gossip()
	c.Clock = clk
	c.Version = "test"
	return c
}

// Cluster is a set of coordinators in one process.
type Cluster struct {
	t   testing.TB
	dir string
	// Clock is the fake clock every node times its leases with.
	Clock *clock.Fake

	mu    sync.Mutex
	nodes []*coordinator.Node // nil for a node that is down
	cfgs  []coordinator.Config
	conns []*grpc.ClientConn
	dial  []grpc.DialOption // of the connections Conn makes; nil: plain TCP
	// holes close the listeners that swallow the connections to vanished nodes (see
	// Vanish), by node index.
	holes map[int]func()

	workers workerSet // see workers.go
}

// New starts n coordinators that form a cluster by gossip with bootstrap-expect n, all on
// one fake clock, and waits for a leader. Cleanup shuts them down.
func New(t testing.TB, n int) *Cluster {
	t.Helper()
	return newCluster(t, n, nil)
}

// newCluster is New with the configuration of coordinator i adjusted by adjust (may be nil)
// before it starts.
func newCluster(t testing.TB, n int, adjust func(i int, cfg *coordinator.Config)) *Cluster {
	t.Helper()
	c := &Cluster{t: t, dir: t.TempDir(), Clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	t.Cleanup(c.Shutdown)
	for i := range n {
		cfg := Config(fmt.Sprintf("c%d", i+1), filepath.Join(c.dir, fmt.Sprintf("c%d", i+1)), c.Clock)
		cfg.BootstrapExpect = n
		cfg.Logger = logger(t)
		if i > 0 {
			cfg.Join = []string{c.nodes[0].Addrs().Gossip}
		}
		if adjust != nil {
			adjust(i, &cfg)
		}
		node, err := coordinator.New(cfg)
		if err != nil {
			t.Fatalf("start %s: %v", cfg.ID, err)
		}
		c.nodes = append(c.nodes, node)
		c.cfgs = append(c.cfgs, cfg)
		c.conns = append(c.conns, nil)
	}
	c.WaitLeader()
	return c
}

// Security are settings of a test cluster's coordinators: the security pieces (each off
// when zero, see coordinator.Config) and a logger.
type Security struct {
	GossipKey                []byte
	TLS                      *auth.TLS
	PersonToken, WorkerToken []byte
	AllowedRoots             auth.Roots
	// Logger, when set, receives every coordinator's logs.
	Logger *slog.Logger
}

// NewSecure is New with the settings s on every coordinator.
func NewSecure(t testing.TB, n int, s Security) *Cluster {
	t.Helper()
	return newCluster(t, n, func(_ int, cfg *coordinator.Config) {
		cfg.GossipKey, cfg.TLS, cfg.PersonToken, cfg.WorkerToken, cfg.AllowedRoots = s.GossipKey, s.TLS, s.PersonToken, s.WorkerToken, s.AllowedRoots
		if s.Logger != nil {
			cfg.Logger = s.Logger
		}
	})
}

// Add starts one more coordinator (bootstrap-expect as the others) that joins the running
// nodes, and returns its index.
func (c *Cluster) Add() int {
	c.t.Helper()
	i := len(c.nodes)
	cfg := Config(fmt.Sprintf("c%d", i+1), filepath.Join(c.dir, fmt.Sprintf("c%d", i+1)), c.Clock)
	cfg.BootstrapExpect = c.cfgs[0].BootstrapExpect
	cfg.Logger = logger(c.t)
	for _, n := range c.running() {
		cfg.Join = append(cfg.Join, n.Addrs().Gossip)
	}
	n, err := coordinator.New(cfg)
	if err != nil {
		c.t.Fatalf("start %s: %v", cfg.ID, err)
	}
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.cfgs = append(c.cfgs, cfg)
	c.conns = append(c.conns, nil)
	c.mu.Unlock()
	return i
}

// logger returns a logger for the nodes: discarded unless TOKENMILL_TEST_LOG is set.
func logger(t testing.TB) *slog.Logger {
	if os.Getenv("TOKENMILL_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Node returns node i, or nil if it is down.
func (c *Cluster) Node(i int) *coordinator.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// Len returns the number of nodes, up or down.
func (c *Cluster) Len() int { return len(c.nodes) }

// WaitLeader waits until every running node knows the same leader, and returns its index.
func (c *Cluster) WaitLeader() int {
	c.t.Helper()
	var leader int
	WaitFor(c.t, Timeout, "a leader known to every running node", func() error {
		id := ""
		for _, n := range c.running() {
			l := n.Leader()
			if l == "" {
				return fmt.Errorf("node %s knows no leader", n.ID())
			}
			if id != "" && l != id {
				return fmt.Errorf("nodes disagree: %s and %s", id, l)
			}
			id = l
		}
		for i, n := range c.nodes {
			if n != nil && n.ID() == id && n.IsLeader() {
				leader = i
				return nil
			}
		}
		return fmt.Errorf("the leader %s is not a running node that knows it leads", id)
	})
	return leader
}

// Followers returns the indexes of the running nodes that do not lead.
func (c *Cluster) Followers() []int {
	var out []int
	for i := range c.nodes {
		if n := c.Node(i); n != nil && !n.IsLeader() {
			out = append(out, i)
		}
	}
	return out
}

func (c *Cluster) running() []*coordinator.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*coordinator.Node
	for _, n := range c.nodes {
		if n != nil {
			out = append(out, n)
		}
	}
	return out
}

// Kill stops node i as a crash would (it does not leave), and closes the test's connection
// to it.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	c.mu.Lock()
	n, conn := c.nodes[i], c.conns[i]
	c.nodes[i], c.conns[i] = nil, nil
	if n != nil {
		// Keep the ports the system chose, for Restart.
		a := n.Addrs()
		c.cfgs[i].RaftPort, c.cfgs[i].GossipPort, c.cfgs[i].GRPCPort = port(a.Raft), port(a.Gossip), port(a.GRPC)
		if a.HTTP != "" {
			c.cfgs[i].HTTPPort = port(a.HTTP)
		}
	}
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	if n != nil {
		if err := n.Shutdown(); err != nil {
			c.t.Errorf("shutdown %s: %v", n.ID(), err)
		}
	}
}

// Vanish stops node i as Kill does, and then its gRPC address accepts connections but never
// answers on them: what the others see of a host that vanished from the network (a killed
// container, whose address drops every packet), where Kill's closed port refuses at once.
// A call to it, direct or forwarded, waits until its caller gives up. Restart or the test's
// end closes the address again.
func (c *Cluster) Vanish(i int) {
	c.t.Helper()
	addr := c.Node(i).Addrs().GRPC
	c.Kill(i)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		c.t.Fatalf("vanish node %d: swallow its gRPC address %s: %v", i, addr, err)
	}
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn) // never read, written or closed until the hole closes
			mu.Unlock()
		}
	}()
	closeHole := sync.OnceFunc(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, conn := range held {
			conn.Close()
		}
		mu.Unlock()
	})
	c.t.Cleanup(closeHole)
	c.mu.Lock()
	if c.holes == nil {
		c.holes = map[int]func(){}
	}
	c.holes[i] = closeHole
	c.mu.Unlock()
}

// Restart starts node i again on its data directory and ports, joining the running nodes.
func (c *Cluster) Restart(i int) *coordinator.Node {
	c.t.Helper()
	c.mu.Lock()
	closeHole := c.holes[i]
	delete(c.holes, i)
	c.mu.Unlock()
	if closeHole != nil {
		closeHole()
	}
	cfg := c.cfgs[i]
	cfg.Join = nil
	for _, n := range c.running() {
		cfg.Join = append(cfg.Join, n.Addrs().Gossip)
	}
	n, err := coordinator.New(cfg)
	if err != nil {
		c.t.Fatalf("restart %s: %v", cfg.ID, err)
	}
	c.mu.Lock()
	c.nodes[i] = n
	c.mu.Unlock()
	return n
}

// RestartMoved starts node i again on its data directory and its gossip and gRPC ports, but
// with a raft port the system chooses: its raft address is not the one the raft
// configurations hold, as for a container restarted at another IP address.
func (c *Cluster) RestartMoved(i int) *coordinator.Node {
	c.t.Helper()
	c.mu.Lock()
	c.cfgs[i].RaftPort = 0
	c.mu.Unlock()
	return c.Restart(i)
}

// Conn returns a gRPC connection to node i, made on first use.
func (c *Cluster) Conn(i int) *grpc.ClientConn {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conns[i] == nil {
		if c.nodes[i] == nil {
			c.t.Fatalf("node %d is down", i)
		}
		dial := c.dial
		if dial == nil {
			dial = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
		}
		cc, err := grpc.NewClient(c.nodes[i].Addrs().GRPC, dial...)
		if err != nil {
			c.t.Fatal(err)
		}
		c.conns[i] = cc
	}
	return c.conns[i]
}

// SetDial sets the options (credentials) of the connections Conn makes, and closes those
// made before, so that the next calls use them.
func (c *Cluster) SetDial(opts ...grpc.DialOption) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dial = opts
	for i, cc := range c.conns {
		if cc != nil {
			cc.Close()
			c.conns[i] = nil
		}
	}
}

// Jobs, Cluster and Workers return clients of node i's services.
func (c *Cluster) Jobs(i int) pb.JobServiceClient { return pb.NewJobServiceClient(c.Conn(i)) }
func (c *Cluster) Cluster(i int) pb.ClusterServiceClient {
	return pb.NewClusterServiceClient(c.Conn(i))
}
func (c *Cluster) Workers(i int) pb.WorkerServiceClient { return pb.NewWorkerServiceClient(c.Conn(i)) }

// Shutdown stops every node and closes the connections.
func (c *Cluster) Shutdown() {
	for i := range c.nodes {
		c.Kill(i)
	}
}

func port(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
