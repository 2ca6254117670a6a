package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/members"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc"
)

// Config configures a Worker. Start from DefaultConfig and set the identity, address and
// the coordinators to join.
type Config struct {
	// ID names the worker in gossip and in its leases; unique in the cluster. A worker
	// restarted with the same id is a new incarnation: the leases of the old one are taken
	// back.
	ID string
	// BindAddr is the IP address every listener binds: a concrete address, or 0.0.0.0 for
	// every interface.
	BindAddr string
	// AdvertiseAddr is the IP address other nodes reach this one at, advertised in gossip as
	// the host of the gRPC address. "" means BindAddr, or, when BindAddr is 0.0.0.0, the
	// private address memberlist picks (members.AdvertiseIP).
	AdvertiseAddr string
	// DataDir is the worker's own directory, created at start if missing; "" for none. The
	// worker holds a lock in it (.worker.lock) while it runs, so that two workers never share
	// one.
	DataDir string
	// HTTPPort is the port of the HTTP server that serves /healthz and Prometheus /metrics;
	// 0 lets the system choose (Worker.HTTPAddr tells which), -1 serves no HTTP.
	HTTPPort int
	// GossipPort is the gossip port (TCP and UDP); 0 lets the system choose.
	GossipPort int
	// GRPCPort is the port of the worker's gRPC server, which serves the standard health
	// service (grpc.health.v1: SERVING until the worker drains) and is advertised as the
	// worker's address; 0 lets the system choose. The worker calls the coordinators; they
	// never call it.
	GRPCPort int
	// Join lists gossip addresses (host:port) of nodes already in the cluster. The worker
	// joins them at start, retrying every JoinRetry until one answers.
	Join []string
	// JoinRetry is the time between join attempts while none of Join answered, and between
	// two looks for an alive coordinator once joined (see Worker's joinLoop).
	JoinRetry time.Duration
	// Slots is the number of tasks run at once.
	Slots int
	// Tags are advertised for placement (key=value, e.g. zone=a).
	Tags map[string]string
	// Version is the binary's version, advertised in gossip.
	Version string

	// HeartbeatInterval is the longest time between two heartbeats; a heartbeat also goes
	// at once when a slot frees. The worker heartbeats at least every third of the lease TTL
	// that the coordinators return, whatever this says.
	HeartbeatInterval time.Duration
	// RPCTimeout bounds one call to a coordinator (a heartbeat, a commit, a plan batch);
	// streams of shard results are bounded by the task's life instead.
	RPCTimeout time.Duration
	// RetryInterval is the pause between two rounds of calls to every coordinator when
	// none answered (a commit or failure report is retried this way until it is answered
	// or its lease is lost).
	RetryInterval time.Duration
	// PlanBatchBytes bounds the shard specs (JSON bytes) of one AppendPlan call; a spec
	// larger than it goes alone. PlanBatchSpecs bounds their number.
	PlanBatchBytes int
	PlanBatchSpecs int
	// TokenizerCache is the number of tokenizers kept loaded (by the job's tokenizer name or
	// path), so that a job's shards share one.
	TokenizerCache int

	// GossipKey, when set, encrypts and authenticates gossip (AES-256: 32 bytes, the
	// decoded --gossip-key-file); without the cluster's key the worker cannot join.
	GossipKey []byte
	// TLS, when set, is used for every call to the coordinators: the worker presents its
	// certificate (Subject OU auth.OUWorker, which is how the coordinators know a worker)
	// and accepts only a coordinator's. nil: plain TCP.
	TLS *auth.TLS
	// WorkerToken, when set, is sent with every call to the coordinators
	// (--worker-token-file): a worker's credential without TLS.
	WorkerToken []byte
	// AllowedRoots, when set (--allowed-roots), makes the worker refuse, before it opens
	// anything, a job whose inputs (as written and as listed) or output resolve outside it.
	AllowedRoots auth.Roots

	// Gossip is the memberlist configuration to start from (its timings); nil means
	// members.DefaultGossip.
	Gossip *memberlist.Config
	// DialOptions are added to those of the connections to the coordinators (tests inject
	// faults through interceptors).
	DialOptions []grpc.DialOption
	// Logger receives the worker's logs (memberlist's too); nil discards them.
	Logger *slog.Logger

	// hooks are set by the package's tests only (export_test.go), never by a flag.
	hooks hooks
}

// hooks let tests slow a worker down or make its disk fail.
type hooks struct {
	// shardStart, when set, is called before a shard task executes, with the task's
	// context (done when the task ends); an error fails the attempt.
	shardStart func(ctx context.Context, a *pb.Assignment) error
}

// DefaultConfig returns the settings of a production worker, without identity, address or
// coordinators.
func DefaultConfig() Config {
	return Config{
		GossipPort:        7102,
		GRPCPort:          7100,
		HTTPPort:          -1,
		JoinRetry:         2 * time.Second,
		Slots:             1,
		HeartbeatInterval: time.Second,
		RPCTimeout:        15 * time.Second,
		RetryInterval:     500 * time.Millisecond,
		PlanBatchBytes:    1 << 20,
		PlanBatchSpecs:    1024,
		TokenizerCache:    4,
	}
}

// Validate checks the configuration and returns every problem found, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("worker: "+format, args...)) }
	if c.ID == "" {
		bad("an id is required")
	}
	for _, msg := range members.CheckAddresses(c.BindAddr, c.AdvertiseAddr) {
		bad("%s", msg)
	}
	for _, p := range []struct {
		name string
		port int
		min  int
	}{{"gossip", c.GossipPort, 0}, {"grpc", c.GRPCPort, 0}, {"http", c.HTTPPort, -1}} {
		if p.port < p.min || p.port > 65535 {
			bad("%s port %d out of range", p.name, p.port)
		}
	}
	if len(c.Join) == 0 {
		bad("no coordinator to join: give at least one gossip address (host:port)")
	}
	if c.Slots < 1 {
		bad("slots must be >= 1, got %d", c.Slots)
	}
	for k := range c.Tags {
		if k == "" || strings.ContainsAny(k, "=") {
			bad("tag key %q: want a non-empty key without '='", k)
		}
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"join retry", c.JoinRetry}, {"heartbeat interval", c.HeartbeatInterval},
		{"rpc timeout", c.RPCTimeout}, {"retry interval", c.RetryInterval}} {
		if d.d <= 0 {
			bad("%s must be > 0, got %v", d.name, d.d)
		}
	}
	if c.PlanBatchBytes < 1 || c.PlanBatchSpecs < 1 {
		bad("plan batches must allow at least one spec and one byte, got %d specs and %d bytes",
			c.PlanBatchSpecs, c.PlanBatchBytes)
	}
	if len(c.GossipKey) != 0 && len(c.GossipKey) != auth.GossipKeySize {
		bad("gossip key of %d bytes: want %d", len(c.GossipKey), auth.GossipKeySize)
	}
	if c.TLS != nil && c.TLS.Role() != auth.RoleWorker {
		bad("the TLS certificate is a %s's: a worker needs one whose Subject OU is %s", c.TLS.Role(), auth.OUWorker)
	}
	if c.TokenizerCache < 1 {
		bad("tokenizer cache must hold at least 1 tokenizer, got %d", c.TokenizerCache)
	}
	return errors.Join(errs...)
}

// ParseTags turns key=value strings (the --tag flags) into a map; a string without '=' or a
// key given twice is an error naming it.
func ParseTags(tags []string) (map[string]string, error) {
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("worker: tag %q: want key=value", t)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("worker: tag %q given twice", k)
		}
		out[k] = v
	}
	return out, nil
}
