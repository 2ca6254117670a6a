package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmill/tokenmill/internal/auth"
	"github.com/tokenmill/tokenmill/internal/members"
	"github.com/tokenmill/tokenmill/internal/outdir"
	"github.com/tokenmill/tokenmill/shard"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Worker is a running worker. New starts it; Drain stops it gracefully, Kill at once.
type Worker struct {
	cfg    Config
	log    *slog.Logger
	gossip *members.Agent
	coords *coordinators
	toks   *tokenizers

	grpcLn  net.Listener
	grpcSrv *grpc.Server
	health  *health.Server
	http    *http.Server // nil without HTTPPort
	httpLn  net.Listener
	lock    *outdir.Lock // DataDir's lock; nil without DataDir

	// ctx is the worker's life: Kill cancels it, which stops the heartbeats, every task and
	// every call to the coordinators.
	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{} // asks the heartbeat loop for a heartbeat now
	// incarnation and seq order the heartbeats (HeartbeatRequest): the start time, and the
	// last heartbeat's number.
	incarnation uint64
	seq         atomic.Uint64
	loops       sync.WaitGroup
	tasks       sync.WaitGroup

	mu         sync.Mutex
	running    map[string]*task // by task key
	tokens     int64            // tokens of the tasks that ended, for /metrics
	scratch    []*shard.Scratch // idle scratch buffers, one per slot at most
	ttl        time.Duration    // the lease TTL the coordinators last returned
	cleaning   map[string]bool  // jobs whose cleanup order runs
	cleaned    []string         // jobs cleaned, not yet reported in an answered heartbeat
	draining   bool
	stopped    bool
	joinedOnce bool
}

// New starts a worker: its gRPC health server, its gossip node (joining cfg.Join, retrying
// in the background until one answers) and its heartbeat loop. It returns once the
// listeners are up.
func New(cfg Config) (w *Worker, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "worker", "worker", cfg.ID)
	w = &Worker{cfg: cfg, log: log, toks: newTokenizers(cfg.TokenizerCache), wake: make(chan struct{}, 1),
		running: map[string]*task{}, cleaning: map[string]bool{}, incarnation: uint64(time.Now().UnixNano())}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			w.cancel()
			w.closeAll()
		}
	}()
	if cfg.DataDir != "" {
		if w.lock, err = lockDataDir(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	if w.cfg.AdvertiseAddr == "" {
		if w.cfg.AdvertiseAddr, err = members.AdvertiseIP(cfg.BindAddr); err != nil {
			return nil, fmt.Errorf("worker: %w", err)
		}
	}
	w.grpcLn, err = net.Listen("tcp", net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.GRPCPort)))
	if err != nil {
		return nil, fmt.Errorf("worker: grpc listener: %w", err)
	}
	w.grpcSrv = grpc.NewServer()
	w.health = health.NewServer()
	healthpb.RegisterHealthServer(w.grpcSrv, w.health)
	w.loops.Add(1)
	go func() {
		defer w.loops.Done()
		w.grpcSrv.Serve(w.grpcLn)
	}()
	w.gossip, err = members.New(members.Config{Name: cfg.ID, BindAddr: cfg.BindAddr, BindPort: cfg.GossipPort,
		AdvertiseAddr: w.cfg.AdvertiseAddr,
		Meta: members.Meta{Role: members.RoleWorker, GRPCAddr: w.GRPCAddr(), Slots: cfg.Slots,
			Tags: cfg.Tags, Version: cfg.Version},
		Gossip: cfg.Gossip, SecretKey: cfg.GossipKey, Logger: log.With("component", "gossip")})
	if err != nil {
		return nil, err
	}
	if err = w.startHTTP(); err != nil {
		return nil, err
	}
	w.coords = newCoordinators(w.gossip, cfg.RPCTimeout, append(auth.DialOptions(cfg.TLS, cfg.WorkerToken), cfg.DialOptions...))
	w.loops.Add(2)
	go func() {
		defer w.loops.Done()
		w.joinLoop()
	}()
	go func() {
		defer w.loops.Done()
		w.heartbeatLoop()
	}()
	log.Info("worker started", "slots", cfg.Slots, "gossip", w.gossip.Addr(), "grpc", w.GRPCAddr())
	return w, nil
}

// ID returns the worker's id.
func (w *Worker) ID() string { return w.cfg.ID }

// GossipAddr returns the gossip address (host:port).
func (w *Worker) GossipAddr() string { return w.gossip.Addr() }

// GRPCAddr returns the advertised address of the health server (host:port): the advertise
// IP and the port listened on.
func (w *Worker) GRPCAddr() string {
	return net.JoinHostPort(w.cfg.AdvertiseAddr, strconv.Itoa(w.grpcLn.Addr().(*net.TCPAddr).Port))
}

// Members returns the gossip members as this worker sees them, sorted by name.
func (w *Worker) Members() []members.Member { return w.gossip.Members() }

// TaskInfo describes a task the worker runs.
type TaskInfo struct {
	Key     string // job/kind/shard, as the coordinator names the task
	Epoch   uint64
	Attempt uint32
	// Committing says the task's work is done and its result is being reported.
	Committing bool
}

// Running returns the tasks the worker runs, in no particular order.
func (w *Worker) Running() []TaskInfo {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]TaskInfo, 0, len(w.running))
	for _, t := range w.running {
		out = append(out, TaskInfo{Key: t.key, Epoch: t.a.Epoch, Attempt: t.a.Attempt, Committing: t.committing})
	}
	return out
}

// joinLoop joins the gossip cluster, retrying every JoinRetry until one of cfg.Join
// answers, then joins again whenever gossip shows no coordinator alive (every coordinator
// restarted: they form their gossip cluster anew, and only a join brings this worker back
// into it), until the worker stops.
func (w *Worker) joinLoop() {
	for {
		if !w.joined() || len(w.gossip.Alive(members.RoleCoordinator)) == 0 {
			w.join()
		}
		select {
		case <-w.ctx.Done():
			return
		case <-time.After(w.cfg.JoinRetry):
		}
	}
}

// join joins the nodes of cfg.Join once, unless the worker stopped (a drained worker has
// left).
func (w *Worker) join() {
	w.mu.Lock()
	stopped := w.stopped
	w.mu.Unlock()
	if stopped {
		return
	}
	if err := w.gossip.Join(w.cfg.Join); err != nil {
		w.log.Warn("joining the cluster failed; retrying", "join", w.cfg.Join, "err", err)
		return
	}
	w.mu.Lock()
	again := w.joinedOnce
	w.joinedOnce = true
	w.mu.Unlock()
	w.log.Info("joined the cluster", "via", w.cfg.Join, "again", again)
	w.kick()
}

// joined says the worker has joined the cluster once.
func (w *Worker) joined() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.joinedOnce
}

// kick asks for a heartbeat now.
func (w *Worker) kick() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Drain stops the worker gracefully: it takes no new task, lets the running ones finish
// until ctx ends, then hands back those still running (Fail RELEASED, which does not count
// as a failed attempt), leaves the gossip cluster and stops. It returns ctx's error if
// tasks had to be handed back, nil otherwise.
func (w *Worker) Drain(ctx context.Context) error {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return nil
	}
	w.draining = true
	n := len(w.running)
	w.mu.Unlock()
	w.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	w.log.Info("draining", "tasks", n)
	w.kick() // report no free slot
	done := make(chan struct{})
	go func() {
		w.tasks.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		w.mu.Lock()
		for _, t := range w.running {
			t.cancel(errReleased)
		}
		w.mu.Unlock()
		<-done
	}
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	if lerr := w.gossip.Leave(time.Second); lerr != nil {
		w.log.Warn("leaving the cluster", "err", lerr)
	}
	w.cancel()
	w.closeAll()
	w.log.Info("drained and left the cluster")
	return err
}

// Kill stops the worker at once, as a crash would: its tasks are canceled without a report
// (their staged files stay, for the finalize of the job to remove) and it does not leave
// the gossip cluster (the coordinators find it dead). It waits for its goroutines to end.
func (w *Worker) Kill() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.stopped = true
	w.mu.Unlock()
	w.cancel()
	w.closeAll()
	w.log.Info("killed")
}

// closeAll waits for the tasks and loops (the worker's context is canceled) and releases
// everything the worker holds.
func (w *Worker) closeAll() {
	w.tasks.Wait()
	if w.grpcSrv != nil {
		w.grpcSrv.Stop()
	}
	if w.http != nil {
		w.http.Close()
	}
	if w.gossip != nil {
		w.gossip.Shutdown()
	}
	w.loops.Wait()
	if w.coords != nil {
		w.coords.close()
	}
	w.mu.Lock()
	for _, s := range w.scratch {
		s.Close()
	}
	w.scratch = nil
	w.mu.Unlock()
	if w.lock != nil {
		w.lock.Release()
	}
}

// takeScratch returns an idle scratch buffer for a shard, or a new one.
func (w *Worker) takeScratch() *shard.Scratch {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.scratch); n > 0 {
		s := w.scratch[n-1]
		w.scratch = w.scratch[:n-1]
		return s
	}
	return new(shard.Scratch)
}

// putScratch keeps a scratch buffer for the next shard, at most one per slot.
func (w *Worker) putScratch(s *shard.Scratch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.scratch) < w.cfg.Slots && !w.stopped {
		w.scratch = append(w.scratch, s)
		return
	}
	s.Close()
}

// errReleased is the cause of a task canceled by a drain that ran out of time: it is handed
// back.
var errReleased = errors.New("worker: draining: the task is handed back")
