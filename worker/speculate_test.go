package worker_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
	"google.golang.org/grpc"
)

// attempts records the shard attempts the workers start (through the shard-start hook),
// holds the slow worker's first shard until a second attempt of it starts elsewhere (or,
// with holdOn, until it is stopped), and counts the commits the coordinator accepted, by
// shard.
type attempts struct {
	mu       sync.Mutex
	holdOn   bool                // the slow attempt is held until its task ends
	stopped  error               // why the held attempt ended, with holdOn
	slow     string              // the worker held back
	held     int                 // the shard it holds (-1: none yet)
	heldSeen chan struct{}       // closed once it holds a shard
	release  chan struct{}       // closed when a second attempt of the held shard starts
	started  map[int][]string    // shard -> workers that started an attempt of it
	live     map[string]struct{} // attempts (worker/shard/epoch) not yet ended
	accepted map[uint32]int      // shard -> commits accepted
	winner   string              // the worker whose commit of the held shard was accepted
}

func newAttempts(slow string) *attempts {
	return &attempts{slow: slow, held: -1, heldSeen: make(chan struct{}), release: make(chan struct{}),
		started: map[int][]string{}, live: map[string]struct{}{}, accepted: map[uint32]int{}}
}

// hook is the shard-start hook of worker id.
func (a *attempts) hook(id string) func(ctx context.Context, as *pb.Assignment) error {
	return func(ctx context.Context, as *pb.Assignment) error {
		shard := int(as.Task.GetShard())
		key := fmt.Sprintf("%s/%d/%d", id, shard, as.Epoch)
		a.mu.Lock()
		a.started[shard] = append(a.started[shard], id)
		a.live[key] = struct{}{}
		hold := false
		switch {
		case id == a.slow && a.held < 0:
			a.held, hold = shard, true
			close(a.heldSeen)
		case shard == a.held && id != a.slow && !a.holdOn:
			close(a.release) // the speculative attempt: let the slow one go on too
		}
		a.mu.Unlock()
		go func() {
			<-ctx.Done() // the task ended
			a.mu.Lock()
			delete(a.live, key)
			a.mu.Unlock()
		}()
		if hold {
			select {
			case <-a.release:
			case <-ctx.Done():
				a.mu.Lock()
				a.stopped = context.Cause(ctx)
				a.mu.Unlock()
				return context.Cause(ctx)
			}
		}
		return nil
	}
}

// unary counts the accepted shard commits of worker id.
func (a *attempts) unary(id string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if c, ok := req.(*pb.CommitRequest); ok && err == nil && c.Commit.GetShard() != nil {
			a.mu.Lock()
			s := c.Commit.Task.GetShard()
			a.accepted[s]++
			if int(s) == a.held {
				a.winner = id
			}
			a.mu.Unlock()
		}
		return err
	}
}

// TestCluster_SpeculativeExecution: a worker holds its shard back (a test hook, as a slow
// or stuck machine would); once the other shards are committed and nothing is pending, the
// held shard runs again on an idle worker. Then either the slow attempt is let go, so that
// both attempts run and stage (the first commit wins, the other attempt is refused or
// stopped and removes what it staged), or it is held on until the coordinator's stop order
// after the speculative attempt's commit ends it. The output is byte-identical to
// runner.Run's, each shard was committed exactly once, no staged file is left once both
// attempts ended, and the leader's metrics count the speculative attempt.
func TestCluster_SpeculativeExecution(t *testing.T) {
	for _, holdOn := range []bool{false, true} {
		name := "both attempts run"
		if holdOn {
			name = "the slow attempt is stopped"
		}
		t.Run(name, func(t *testing.T) { testSpeculation(t, holdOn) })
	}
}

func testSpeculation(t *testing.T, holdOn bool) {
	a := newAttempts("w1")
	a.holdOn = holdOn
	adjust := func(cfg *worker.Config) {
		worker.SetShardStart(cfg, a.hook(cfg.ID))
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(a.unary(cfg.ID)))
	}
	// The system clock (progress rates need time to pass) and the default gossip timings (a
	// worker declared dead by a loaded machine's gossip would lose its lease, and its shard
	// would run again without speculation); rates judged after 300 ms, the default slowness
	// (0.5) and samples (3).
	c := testcluster.Start(t, testcluster.Options{Coordinators: 1, Workers: 1, WorkerSlots: 1,
		Worker: func(_ int, cfg *worker.Config) { adjust(cfg) }, DefaultTimings: true, SpeculateAfter: 300 * time.Millisecond})
	dir := t.TempDir()
	writeCorpus(t, dir, 2, 300, false)
	spec := pretrainSpec(dir, "spec")
	want := reference(t, spec)
	id := submit(t, c, 0, spec)
	select {
	case <-a.heldSeen:
	case <-time.After(jobTimeout):
		t.Fatal("the slow worker w1 started no shard")
	}
	// Only now the other workers join: w1 holds its shard while they run the rest.
	c.AddWorker(func(cfg *worker.Config) { adjust(cfg); cfg.Slots = 2 })
	c.AddWorker(func(cfg *worker.Config) { adjust(cfg); cfg.Slots = 2 })
	st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
	if st.FailedAttempts != 0 {
		t.Errorf("%d attempts failed or lost: the held shard may have run again without speculation", st.FailedAttempts)
	}
	testcluster.WaitFor(t, testcluster.Timeout, "both attempts of the held shard to end", func() error {
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.live) > 0 {
			return fmt.Errorf("attempts still running: %v", a.live)
		}
		return nil
	})
	out := filepath.Join(dir, "out")
	sameTree(t, hashTree(t, out), want)
	noLeftovers(t, out)

	a.mu.Lock()
	held, winner, startedBy := a.held, a.winner, a.started[a.held]
	for s := range st.Shards {
		if a.accepted[s] != 1 {
			t.Errorf("shard %d: %d commits accepted, want 1", s, a.accepted[s])
		}
	}
	a.mu.Unlock()
	if len(startedBy) != 2 || startedBy[0] != "w1" {
		t.Fatalf("shard %d started by %v: want w1, then a speculative attempt on another worker", held, startedBy)
	}
	started, won := specMetrics(t, c)
	if started != 1 || (winner == "w1") != (won == 0) || won > 1 {
		t.Errorf("metrics: %d speculative attempts started, %d won; the held shard's commit came from %s", started, won, winner)
	}
	if holdOn {
		a.mu.Lock()
		stopped := a.stopped
		a.mu.Unlock()
		if winner == "w1" || stopped == nil || !strings.Contains(stopped.Error(), "stopped by the coordinator") {
			t.Errorf("the held attempt ended by %v, the commit came from %s: want a stop order, the speculative attempt's commit", stopped, winner)
		}
	}
	t.Logf("shard %d held on w1, speculated on %s; the commit of %s won", held, startedBy[1], winner)
}

var specMetricRE = regexp.MustCompile(`(?m)^tokenmill_speculative_attempts_(started|won)_total (\d+)$`)

// specMetrics reads the speculative attempts started and won from coordinator 0's /metrics.
func specMetrics(t *testing.T, c *testcluster.Cluster) (started, won int) {
	t.Helper()
	res, err := http.Get("http://" + c.Node(0).Addrs().HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	defer http.DefaultClient.CloseIdleConnections()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range specMetricRE.FindAllStringSubmatch(string(b), -1) {
		n, _ := strconv.Atoi(m[2])
		found++
		if m[1] == "started" {
			started = n
		} else {
			won = n
		}
	}
	if found != 2 {
		t.Fatalf("/metrics lacks the speculative attempt counters")
	}
	return started, won
}
