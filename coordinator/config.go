package coordinator

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/clock"
	"github.com/tokenmill/tokenmill/internal/members"
)

// Config configures a coordinator Node. Start from DefaultConfig and set the identity,
// addresses and data directory.
type Config struct {
	// ID names the node in raft and gossip; unique in the cluster, stable across restarts.
	ID string
	// DataDir holds the raft log and stable store (raft.db) and the snapshots (snapshots/).
	// A node restarted on the same directory recovers its state and rejoins.
	DataDir string
	// BindAddr is the IP address every listener binds: a concrete address, or 0.0.0.0 for
	// every interface.
	BindAddr string
	// AdvertiseAddr is the IP address other nodes reach this one at, advertised in gossip as
	// the host of the raft and gRPC addresses. "" means BindAddr, or, when BindAddr is
	// 0.0.0.0, the private address memberlist picks (members.AdvertiseIP).
	AdvertiseAddr string
	// RaftPort, GossipPort, GRPCPort and HTTPPort are TCP ports (gossip also UDP). 0 lets
	// the system choose (Node.Addrs tells which); HTTPPort -1 serves no HTTP.
	RaftPort, GossipPort, GRPCPort, HTTPPort int
	// Join lists gossip addresses (host:port) of nodes already in the cluster; empty for the
	// first node. A node joins them at start, and keeps retrying every JoinRetry until one
	// answers.
	Join []string
	// JoinRetry is the time between join attempts while none of Join answered.
	JoinRetry time.Duration
	// BootstrapExpect is the number of coordinators that bootstrap the raft cluster
	// together: once this many coordinators see each other by gossip, and none of them has
	// raft state, they all bootstrap the same configuration (the sorted list of those
	// coordinators). 0: never bootstrap; the node waits to be added by a leader. A node with
	// existing raft state never bootstraps again.
	BootstrapExpect int
	// Version is the binary's version, advertised in gossip.
	Version string

	// HeartbeatTimeout, ElectionTimeout and LeaderLeaseTimeout are raft's timeouts (see
	// raft.Config); CommitTimeout is raft's longest wait before it sends a heartbeat with
	// the commit index.
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout, CommitTimeout time.Duration
	// SnapshotThreshold is the number of log entries after which raft snapshots the state;
	// SnapshotInterval how often it checks.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	// SnapshotsRetained is the number of snapshots kept in DataDir/snapshots.
	SnapshotsRetained int
	// ApplyTimeout bounds the wait for one command to be committed and applied.
	ApplyTimeout time.Duration
	// ForwardTimeout bounds how long a follower waits for a leader to forward a call to
	// (during an election), unless the caller's deadline is shorter.
	ForwardTimeout time.Duration

	// LeaseTTL is how long a lease lives without a heartbeat of its worker. Workers
	// heartbeat at least every third of it.
	LeaseTTL time.Duration
	// LeaseGrace is the time a new leader gives every existing lease before it may expire,
	// so that workers find the new leader and heartbeat to it: at least LeaseTTL.
	LeaseGrace time.Duration
	// SpeculateSlowness turns on speculative execution when > 0 (0: off): once no shard of
	// a job is pending, a running shard whose progress rate (bytes read per second, from
	// heartbeats) is below SpeculateSlowness times the median rate of the job's shards
	// (running for at least SpeculateAfter, or committed) runs again on a worker that asks
	// for work and gets none; the first commit wins. A fraction in (0, 1); default 0.5.
	SpeculateSlowness float64
	// SpeculateAfter is how long an attempt runs before its rate counts, towards the median
	// and for being judged slow (default 30s); SpeculateSamples the rates a job needs for a
	// median (default 3).
	SpeculateAfter   time.Duration
	SpeculateSamples int
	// BatchMax is the largest number of grants, commits or failures put in one raft entry.
	BatchMax int
	// BatchWindow is how long the first request of a batch waits for others to join it; 0
	// sends a batch with whatever arrived while the previous one was being applied.
	BatchWindow time.Duration

	// GossipKey, when set, encrypts and authenticates gossip (AES-256: 32 bytes, the
	// decoded --gossip-key-file); a node without it, or with another key, cannot join.
	// nil: gossip in clear.
	GossipKey []byte
	// TLS, when set, puts mutual TLS on the gRPC server (a client without a certificate the
	// CA signed fails at the handshake), on the calls to other coordinators and on the raft
	// transport (both ends must hold a coordinator's certificate). Its certificate must be a
	// coordinator's (Subject OU auth.OUCoordinator, DNS name auth.ServerName). nil: plain
	// TCP.
	TLS *auth.TLS
	// PersonToken, when set, is the token people's calls (JobService, ClusterService)
	// must carry (--token-file); WorkerToken the token workers' calls (WorkerService)
	// carry without TLS (--worker-token-file). See auth.Policy for the table of calls.
	PersonToken, WorkerToken []byte
	// AllowedRoots, when set (--allowed-roots), refuses at submission a job whose inputs or
	// output resolve outside it. Zero: every path is allowed.
	AllowedRoots auth.Roots

	// Gossip is the memberlist configuration to start from (its timings); nil means
	// members.DefaultGossip.
	Gossip *memberlist.Config
	// Clock times leases and the grace period; nil means the system clock. Network timeouts
	// and retries always use the system clock.
	Clock clock.Clock
	// Logger receives the node's logs (raft's and memberlist's too); nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns the settings of a production coordinator, without identity,
// addresses or data directory.
func DefaultConfig() Config {
	return Config{
		RaftPort:           7001,
		GossipPort:         7002,
		GRPCPort:           7000,
		HTTPPort:           -1,
		JoinRetry:          2 * time.Second,
		HeartbeatTimeout:   1000 * time.Millisecond,
		ElectionTimeout:    1000 * time.Millisecond,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      50 * time.Millisecond,
		SnapshotThreshold:  8192,
		SnapshotInterval:   2 * time.Minute,
		SnapshotsRetained:  2,
		ApplyTimeout:       10 * time.Second,
		ForwardTimeout:     15 * time.Second,
		LeaseTTL:           10 * time.Second,
		LeaseGrace:         20 * time.Second,
		SpeculateSlowness:  0.5,
		SpeculateAfter:     30 * time.Second,
		SpeculateSamples:   3,
		BatchMax:           1024,
		BatchWindow:        2 * time.Millisecond,
	}
}

// Validate checks the configuration and returns every problem found, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("coordinator: "+format, args...)) }
	if c.ID == "" {
		bad("an id is required")
	}
	if c.DataDir == "" {
		bad("a data directory is required")
	}
	for _, msg := range members.CheckAddresses(c.BindAddr, c.AdvertiseAddr) {
		bad("%s", msg)
	}
	bind := net.ParseIP(c.BindAddr)
	if c.RaftPort == 0 && (bind.IsUnspecified() || c.AdvertiseAddr != "" && c.AdvertiseAddr != c.BindAddr) {
		bad("raft port 0 needs a concrete bind address that is also the advertised one")
	}
	for _, p := range []struct {
		name string
		port int
		min  int
	}{{"raft", c.RaftPort, 0}, {"gossip", c.GossipPort, 0}, {"grpc", c.GRPCPort, 0}, {"http", c.HTTPPort, -1}} {
		if p.port < p.min || p.port > 65535 {
			bad("%s port %d out of range", p.name, p.port)
		}
	}
	if c.BootstrapExpect < 0 {
		bad("bootstrap-expect %d: want 0 or more", c.BootstrapExpect)
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"join retry", c.JoinRetry}, {"heartbeat timeout", c.HeartbeatTimeout}, {"election timeout", c.ElectionTimeout},
		{"leader lease timeout", c.LeaderLeaseTimeout}, {"commit timeout", c.CommitTimeout},
		{"snapshot interval", c.SnapshotInterval}, {"apply timeout", c.ApplyTimeout},
		{"forward timeout", c.ForwardTimeout}, {"lease ttl", c.LeaseTTL}} {
		if d.d <= 0 {
			bad("%s must be > 0, got %v", d.name, d.d)
		}
	}
	if c.LeaseGrace < c.LeaseTTL {
		bad("lease grace %v must be at least the lease ttl %v", c.LeaseGrace, c.LeaseTTL)
	}
	if c.SpeculateSlowness < 0 || c.SpeculateSlowness >= 1 {
		bad("speculate slowness %v: want 0 (off) or a fraction in (0, 1)", c.SpeculateSlowness)
	}
	if c.SpeculateSlowness > 0 && (c.SpeculateAfter <= 0 || c.SpeculateSamples < 1) {
		bad("speculation needs speculate-after > 0 (got %v) and speculate samples >= 1 (got %d)", c.SpeculateAfter, c.SpeculateSamples)
	}
	if c.BatchMax < 1 {
		bad("batch max must be >= 1, got %d", c.BatchMax)
	}
	if c.BatchWindow < 0 {
		bad("batch window must be >= 0, got %v", c.BatchWindow)
	}
	if len(c.GossipKey) != 0 && len(c.GossipKey) != auth.GossipKeySize {
		bad("gossip key of %d bytes: want %d", len(c.GossipKey), auth.GossipKeySize)
	}
	if c.TLS != nil && c.TLS.Role() != auth.RoleCoordinator {
		bad("the TLS certificate is a %s's: a coordinator needs one whose Subject OU is %s", c.TLS.Role(), auth.OUCoordinator)
	}
	if err := c.policy().Validate(); err != nil {
		bad("%v", err)
	}
	if c.SnapshotsRetained < 1 {
		bad("snapshots retained must be >= 1, got %d", c.SnapshotsRetained)
	}
	return errors.Join(errs...)
}
