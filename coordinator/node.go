package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/clock"
	"github.com/tokenmill/tokenmill/internal/members"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Node is one coordinator: a raft replica of the FSM, a gossip member, a gRPC server for the
// CLI and the workers, and, while it leads, the scheduler.
type Node struct {
	cfg     Config
	log     *slog.Logger
	clock   clock.Clock
	fsm     *fsm.FSM
	changed *notifier // the FSM changed, or progress was reported

	rp     *raftParts
	raft   *raft.Raft
	gossip *members.Agent
	sched  *scheduler
	conns  connPool

	grpc     *grpc.Server
	grpcLn   net.Listener
	http     *http.Server
	httpLn   net.Listener
	registry *prometheus.Registry

	ctx      context.Context // ends at Shutdown
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	leaderCh chan bool
	stopOnce sync.Once
	stopErr  error
}

// Addrs are the addresses other nodes reach a Node at (the advertised address, with the ports
// the system chose for ports 0), and the address of its HTTP server.
type Addrs struct {
	Raft, Gossip, GRPC, HTTP string // HTTP is empty without an HTTP server
}

// New starts a coordinator: it opens (or recovers) the raft state in cfg.DataDir, starts
// the gRPC and HTTP servers, joins the gossip cluster and, with BootstrapExpect, bootstraps
// raft once enough coordinators see each other. It returns once the servers listen; the
// cluster forms in the background.
func New(cfg Config) (n *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n = &Node{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, fsm: fsm.New(), changed: newNotifier(),
		leaderCh: make(chan bool, 16), registry: prometheus.NewRegistry()}
	if n.log == nil {
		n.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	n.log = n.log.With("node", cfg.ID)
	if n.clock == nil {
		n.clock = clock.Real()
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.Shutdown()
		}
	}()
	if n.cfg.AdvertiseAddr == "" {
		if n.cfg.AdvertiseAddr, err = members.AdvertiseIP(cfg.BindAddr); err != nil {
			return nil, fmt.Errorf("coordinator: %w", err)
		}
	}
	if n.grpcLn, err = net.Listen("tcp", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.GRPCPort))); err != nil {
		return nil, fmt.Errorf("coordinator: grpc listener: %w", err)
	}
	addrs := &gossipAddrs{}
	if n.rp, err = openRaft(&n.cfg, watchedFSM{n.fsm, n.changed}, newHCLog(n.log, "raft"), n.leaderCh, addrs); err != nil {
		return nil, err
	}
	n.raft = n.rp.raft
	cmds := newRaftCommands(n)
	cmds.run(n.ctx, &n.wg)
	n.sched = newScheduler(schedConfig{LeaseTTL: cfg.LeaseTTL, LeaseGrace: cfg.LeaseGrace, SpeculateSlowness: cfg.SpeculateSlowness,
		SpeculateAfter: cfg.SpeculateAfter, SpeculateSamples: cfg.SpeculateSamples}, n.fsm, cmds,
		n.log.With("component", "scheduler"), n.changed.notify)
	if n.gossip, err = members.New(members.Config{Name: cfg.ID, BindAddr: cfg.BindAddr, BindPort: cfg.GossipPort,
		AdvertiseAddr: n.cfg.AdvertiseAddr,
		Meta: members.Meta{Role: members.RoleCoordinator, GRPCAddr: n.grpcAddr(),
			RaftAddr: string(n.rp.trans.LocalAddr()), Version: cfg.Version},
		Gossip: cfg.Gossip, SecretKey: cfg.GossipKey, Logger: n.log.With("component", "gossip")}); err != nil {
		return nil, err
	}
	addrs.agent.Store(n.gossip)
	n.conns.dial = auth.DialOptions(cfg.TLS, nil)
	n.grpc = grpc.NewServer(auth.ServerOptions(cfg.TLS, cfg.policy())...)
	pb.RegisterJobServiceServer(n.grpc, &jobService{n: n})
	pb.RegisterClusterServiceServer(n.grpc, &clusterService{n: n})
	pb.RegisterWorkerServiceServer(n.grpc, &workerService{n: n})
	n.goRun(func() {
		if err := n.grpc.Serve(n.grpcLn); err != nil {
			n.log.Error("grpc server stopped", "err", err)
		}
	})
	if err = n.startHTTP(); err != nil {
		return nil, err
	}
	n.goRun(n.monitorLeadership)
	n.goRun(n.gossipEvents)
	n.goRun(n.joinLoop)
	n.log.Info("coordinator started", "raft", n.rp.trans.LocalAddr(), "gossip", n.gossip.Addr(),
		"grpc", n.grpcAddr(), "existing_state", n.rp.existing)
	return n, nil
}

func (n *Node) goRun(f func()) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
}

// Addrs returns the node's advertised addresses.
func (n *Node) Addrs() Addrs {
	a := Addrs{Raft: string(n.rp.trans.LocalAddr()), Gossip: n.gossip.Addr(), GRPC: n.grpcAddr()}
	if n.httpLn != nil {
		a.HTTP = n.httpLn.Addr().String()
	}
	return a
}

// grpcAddr is the advertised address of the gRPC server: the advertise IP and the port
// listened on.
func (n *Node) grpcAddr() string {
	return net.JoinHostPort(n.cfg.AdvertiseAddr, strconv.Itoa(n.grpcLn.Addr().(*net.TCPAddr).Port))
}

// ID returns the node's id.
func (n *Node) ID() string { return n.cfg.ID }

// IsLeader says this node is the raft leader.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the id of the leader this node knows, or "".
func (n *Node) Leader() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// FSM returns the node's replicated state, for reading.
func (n *Node) FSM() *fsm.FSM { return n.fsm }

// Shutdown stops the node as a crash would, for the others: it does not leave the gossip
// cluster or the raft configuration. It stops the servers, the scheduler and raft, and
// closes the data directory. It may be called more than once.
func (n *Node) Shutdown() error {
	n.stopOnce.Do(func() {
		n.cancel()
		if n.grpc != nil {
			n.grpc.Stop()
		} else if n.grpcLn != nil {
			n.grpcLn.Close()
		}
		if n.http != nil {
			n.http.Close()
		}
		if n.gossip != nil {
			n.gossip.Shutdown()
		}
		n.conns.close()
		n.wg.Wait()
		if n.rp != nil {
			n.stopErr = n.rp.close()
		}
	})
	return n.stopErr
}

// apply commits a command through raft and returns its result, waiting up to ApplyTimeout.
func (n *Node) apply(t fsm.CommandType, m proto.Message) (*fsm.Result, error) {
	data, err := fsm.Encode(t, m)
	if err != nil {
		return nil, err
	}
	f := n.raft.Apply(data, n.cfg.ApplyTimeout)
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("coordinator: %s: %w", t, err)
	}
	res, ok := f.Response().(*fsm.Result)
	if !ok {
		return nil, fmt.Errorf("coordinator: %s: unexpected response %T", t, f.Response())
	}
	return res, nil
}

// monitorLeadership runs the leader's duties while this node leads: it waits for the FSM to
// hold every committed entry (a barrier), adds the coordinators gossip knows as voters, and
// runs the scheduler until leadership is lost.
func (n *Node) monitorLeadership() {
	var term *leaderTerm
	defer func() { term.end() }()
	for {
		select {
		case leader := <-n.leaderCh:
			switch {
			case leader && term == nil:
				term = n.startTerm()
			case !leader && term != nil:
				term.end()
				term = nil
				n.log.Info("leadership lost")
			}
		case <-n.ctx.Done():
			return
		}
	}
}

// leaderTerm is a running leader loop.
type leaderTerm struct {
	stop context.CancelFunc
	done chan struct{}
}

func (n *Node) startTerm() *leaderTerm {
	ctx, stop := context.WithCancel(n.ctx)
	t := &leaderTerm{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		n.lead(ctx)
	}()
	return t
}

// end stops the loop and waits for it; a nil term does nothing.
func (t *leaderTerm) end() {
	if t != nil {
		t.stop()
		<-t.done
	}
}

// lead is the leader's loop; it returns when ctx ends.
func (n *Node) lead(ctx context.Context) {
	n.log.Info("leadership gained")
	for {
		err := n.raft.Barrier(n.cfg.ApplyTimeout).Error()
		if err == nil {
			break
		}
		n.log.Warn("barrier failed", "err", err)
		if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) || ctx.Err() != nil {
			<-ctx.Done()
			return
		}
	}
	n.reconcileVoters()
	n.sched.lead(ctx, n.clock)
}

// joinLoop joins the gossip cluster through cfg.Join, trying again every JoinRetry until one
// of them answers.
func (n *Node) joinLoop() {
	if len(n.cfg.Join) == 0 {
		return
	}
	for {
		err := n.gossip.Join(n.cfg.Join)
		if err == nil {
			n.log.Info("joined the gossip cluster", "via", n.cfg.Join)
			return
		}
		n.log.Warn("gossip join failed; retrying", "err", err, "retry", n.cfg.JoinRetry)
		t := time.NewTimer(n.cfg.JoinRetry)
		select {
		case <-t.C:
		case <-n.ctx.Done():
			t.Stop()
			return
		}
	}
}
