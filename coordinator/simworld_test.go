package coordinator

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// The simulated world of TestScheduler_Simulation: one leader at a time running the real
// scheduler over an in-memory log (simWorld is its commandLog; grants, commits and failures
// go through the real batchers, as on a Node), workers that follow the heartbeat protocol,
// and a queue of events in simulated time. The events run in one goroutine and draw from
// one seeded generator; a batcher's goroutine applies an entry while the caller waits for
// it, so a seed replays exactly.

// The world's timings.
const (
	simTTL      = 10 * time.Second // the lease TTL (the default)
	simGrace    = 20 * time.Second // a new leader's grace (the default)
	simBeat     = simTTL / 3       // a worker's heartbeat interval
	simBound    = 30 * time.Minute // a job must be final this long after its submission
	simMaxEvent = 200_000          // events of one seed, against a run that never ends

	simSlow       = 4    // a slow worker's shards take this many times longer
	simShardBytes = 1000 // the bytes a shard reads (its progress)
)

// simEvent is something that happens at a time; seq orders events of the same time.
type simEvent struct {
	at  time.Time
	seq uint64
	do  func()
}

type simQueue []*simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *simQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// simWorld is the cluster of one seed.
type simWorld struct {
	rng    *rand.Rand
	start  time.Time
	now    time.Time
	queue  simQueue
	seq    uint64
	events int
	trace  *bytes.Buffer // nil unless the run is traced
	ctx    context.Context

	// The replicated log and the state it builds.
	state  *fsm.FSM
	index  uint64
	faults int // 1 in faults applies loses leadership (the entry committed or not), 1 in faults
	// of the others is refused by raft (nothing applied, the leader stays); 0: none

	// The batchers of grants, commits and failures, and the end of their goroutines.
	grants     *batcher[*pb.Grant]
	commits    *batcher[*pb.TaskCommit]
	fails      *batcher[*pb.TaskFailure]
	stopBatchs context.CancelFunc
	// midApply, when set, ends the context of the heartbeat being served as its grant entry
	// is applied: the worker was killed while the leader served its heartbeat.
	midApply context.CancelFunc

	inputErrors bool    // attempts may end with an input error (which fails the job)
	slowness    float64 // the scheduler's SpeculateSlowness (0: no speculation)

	sched    *scheduler // nil while no leader is elected
	leader   int        // leaders so far; events of an earlier leader's timer are dropped
	expiryAt time.Time  // when the current leader's expiry timer fires (zero: not set)

	workers []*simWorker
	jobs    []*simJob
	late    int // results in flight (duplicates, results of dead or cut-off workers)

	// What the log accepted, for the invariants.
	accepted map[fsm.TaskRef]int
	// deadline is, for each lease, the earliest time the leader may expire it: TTL after its
	// grant or after the last heartbeat that renewed it, or the grace after the election of
	// the leader that rebuilt it, whichever came last.
	deadline map[simLease]time.Time
	// staged holds the staging directory of each shard attempt: made when its worker starts
	// it, removed when the worker drops it (stopped, refused, failed), and by the job's
	// finalize for the committed attempts and those of workers that died or restarted.
	staged    map[simLease]simStage
	violation error
	stats     simStats
}

// simStage is the staging directory of an attempt: whose it is.
type simStage struct {
	worker  string
	gen     int
	attempt uint32
}

// simLease names a lease: a task and the epoch it was granted under.
type simLease struct {
	ref   fsm.TaskRef
	epoch uint64
}

// simJob is a submitted job as the world knows it.
type simJob struct {
	id          string
	shards      int
	spec        string           // the job file: its name, a tokenizer, maybe constraints
	constraints []job.Constraint // as spec says
	submitted   time.Time
}

// simStats count what the runs went through, to show they reach the cases they exist for.
type simStats struct {
	Seeds, Succeeded, Failed, Canceled int
	Committed, Refused, Duplicates     int
	Deaths, Restarts, SlowBeats        int
	MidBeatKills, RefusedApplies       int
	DeadAtElection                     int // leases of workers gossip holds dead when a leader is elected
	LeaderChanges, LostApplies         int
	Expired, TakenBack, FairChecks     int
	PlacementChecks, Cooldowns         int
	Speculated, SpeculationsWon        int
	SimSeconds                         int64
}

func (a *simStats) add(b simStats) {
	a.Seeds += b.Seeds
	a.Succeeded += b.Succeeded
	a.Failed += b.Failed
	a.Canceled += b.Canceled
	a.Committed += b.Committed
	a.Refused += b.Refused
	a.Duplicates += b.Duplicates
	a.Deaths += b.Deaths
	a.Restarts += b.Restarts
	a.SlowBeats += b.SlowBeats
	a.MidBeatKills += b.MidBeatKills
	a.RefusedApplies += b.RefusedApplies
	a.DeadAtElection += b.DeadAtElection
	a.LeaderChanges += b.LeaderChanges
	a.LostApplies += b.LostApplies
	a.Expired += b.Expired
	a.TakenBack += b.TakenBack
	a.FairChecks += b.FairChecks
	a.PlacementChecks += b.PlacementChecks
	a.Cooldowns += b.Cooldowns
	a.Speculated += b.Speculated
	a.SpeculationsWon += b.SpeculationsWon
	a.SimSeconds += b.SimSeconds
}

// at queues do to run d from now.
func (w *simWorld) at(d time.Duration, do func()) {
	w.seq++
	heap.Push(&w.queue, &simEvent{at: w.now.Add(d), seq: w.seq, do: do})
}

// between returns a duration uniform in [lo, hi).
func (w *simWorld) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(w.rng.Int64N(int64(hi-lo)))
}

// logf adds a line to the trace of a traced run.
func (w *simWorld) logf(format string, args ...any) {
	if w.trace != nil {
		fmt.Fprintf(w.trace, "%9.3fs ", w.now.Sub(w.start).Seconds())
		fmt.Fprintf(w.trace, format, args...)
		w.trace.WriteByte('\n')
	}
}

// violate records the first broken invariant; the run stops at it.
func (w *simWorld) violate(format string, args ...any) {
	if w.violation == nil {
		w.violation = fmt.Errorf("at %v: "+format, append([]any{w.now.Sub(w.start)}, args...)...)
		w.logf("VIOLATION: %v", w.violation)
	}
}

// logger returns the scheduler's logger: its lines go into the trace of a traced run.
func (w *simWorld) logger() *slog.Logger {
	if w.trace == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(traceWriter{w}, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
				return slog.Attr{}
			}
			return a
		}}))
}

type traceWriter struct{ w *simWorld }

func (t traceWriter) Write(p []byte) (int, error) {
	t.w.logf("  scheduler: %s", strings.TrimSpace(string(p)))
	return len(p), nil
}

// ---- the log: simWorld is the scheduler's commandLog ----

// errSimLost is what an apply returns when the world makes the leader lose leadership in it.
var errSimLost = fmt.Errorf("sim: %w", raft.ErrLeadershipLost)

// errSimRefused is what an apply returns when raft does not take the entry (it timed out
// enqueueing it): nothing is applied and the leader stays.
var errSimRefused = fmt.Errorf("sim: %w", raft.ErrEnqueueTimeout)

func (w *simWorld) apply(t fsm.CommandType, m proto.Message) (*fsm.Result, error) {
	if w.sched == nil {
		return nil, fmt.Errorf("sim: %s: %w", t, raft.ErrNotLeader)
	}
	data, err := fsm.Encode(t, m)
	if err != nil {
		return nil, err
	}
	if w.faults > 0 && w.rng.IntN(w.faults) == 0 {
		// Leadership is lost while the entry is in flight: it may be committed or not, and
		// the caller cannot tell.
		w.stats.LostApplies++
		committed := w.rng.IntN(2) == 0
		w.logf("apply %s: leadership lost (entry committed: %v)", t, committed)
		if committed {
			w.commitEntry(t, data, m)
		}
		w.loseLeader()
		return nil, errSimLost
	}
	if w.faults > 0 && w.rng.IntN(w.faults) == 0 {
		w.stats.RefusedApplies++
		w.logf("apply %s: raft refused the entry (nothing applied)", t)
		if ex, ok := m.(*pb.ExpireCommand); ok {
			// The leader tries again a tenth of the TTL later (expireDue), or its
			// deadline, whichever is later.
			for _, e := range ex.Expiries {
				l := simLease{fsm.RefOf(e.Task), e.Epoch}
				if retry := w.now.Add(simTTL / 10); w.deadline[l].Before(retry) {
					w.deadline[l] = retry
				}
			}
		}
		return nil, errSimRefused
	}
	return w.commitEntry(t, data, m), nil
}

// commitEntry applies an entry at the next index and checks what it did.
func (w *simWorld) commitEntry(t fsm.CommandType, data []byte, m proto.Message) *fsm.Result {
	w.index++
	backup := map[int]bool{} // the commits of speculative attempts
	if c, ok := m.(*pb.CommitCommand); ok {
		for i, cm := range c.Commits {
			info, _ := w.state.Task(fsm.RefOf(cm.Task))
			backup[i] = info.State == pb.TaskState_TASK_STATE_LEASED && info.Backup.Epoch == cm.Epoch
		}
	}
	res, err := w.state.ApplyCommand(w.index, data)
	if err != nil {
		w.violate("entry %d (%s) not applied: %v", w.index, t, err)
		return &fsm.Result{Index: w.index, Errs: make([]error, 1)}
	}
	if w.trace != nil {
		w.logf("entry %d %s %s -> %v", w.index, t, compact(m), res.Errs)
	}
	switch c := m.(type) {
	case *pb.CommitCommand:
		for i, cm := range c.Commits {
			if res.Errs[i] == nil {
				w.accepted[fsm.RefOf(cm.Task)]++
				w.stats.Committed++
				if backup[i] {
					w.stats.SpeculationsWon++
				}
				if cm.GetFinalize() != nil {
					w.finalized(cm.Task.JobId)
				}
			} else {
				w.stats.Refused++
			}
		}
	case *pb.GrantCommand:
		w.checkFair(c, res)
		for i, g := range c.Grants {
			if res.Errs[i] == nil {
				w.deadline[simLease{fsm.RefOf(g.Task), res.Index}] = w.now.Add(simTTL)
			}
		}
	case *pb.SpeculateCommand:
		w.checkSpeculations(c, res)
	case *pb.ExpireCommand:
		for i, e := range c.Expiries {
			if res.Errs[i] == nil && strings.HasPrefix(e.Cause, "lease expired") {
				w.stats.Expired++
				l := simLease{fsm.RefOf(e.Task), e.Epoch}
				if d := w.deadline[l]; w.now.Before(d) {
					w.violate("lease %s@%d expired %v before its deadline", l.ref, l.epoch, d.Sub(w.now))
				}
			} else if res.Errs[i] == nil && strings.Contains(e.Cause, "no longer runs it") {
				w.stats.TakenBack++
			}
		}
	}
	return res
}

// checkFair checks the grants of one entry against placement and the fair share: the
// worker's tags satisfy the job's constraints, the worker is not cooling down nor the one
// the task last failed on while another may run it, and a job
// that got a task holds at most one lease more than any active job left with pending tasks
// that the worker may run (its pending tasks that failed on this worker count as picked)
// and that is not warm on another worker while the granted one is (affinity puts those
// after the others).
func (w *simWorld) checkFair(c *pb.GrantCommand, res *fsm.Result) {
	cooling := w.sched.cooldowns(w.now)
	jobs := w.state.Jobs()
	leased := map[string]uint32{}
	for _, j := range jobs {
		leased[j.JobId] = j.Tasks.Leased
	}
	for i, g := range c.Grants {
		if res.Errs[i] != nil {
			continue
		}
		b := g.Task.JobId
		k := w.worker(g.WorkerId)
		w.stats.PlacementChecks++
		if !job.MatchesAll(w.job(b).constraints, k.tags) {
			w.violate("%s granted to %s (tags %v), which its job's constraints %v refuse", fsm.RefOf(g.Task), k.id, k.tags, w.job(b).constraints)
		}
		if _, ok := cooling[k.id]; ok {
			w.violate("%s granted to %s, which cools down", fsm.RefOf(g.Task), k.id)
		}
		avoided := w.sched.avoided(k.id, w.now)
		if avoided[fsm.RefOf(g.Task)] {
			w.violate("%s granted again to %s, where it failed, while another worker may run it", fsm.RefOf(g.Task), k.id)
		}
		_, bLater := w.sched.placementFor(k.id, b)
		for _, a := range jobs {
			if a.JobId == b || !active(a.State) || a.Tasks.Pending == 0 {
				continue
			}
			if ok, aLater := w.sched.placementFor(k.id, a.JobId); !ok || aLater && !bLater {
				continue
			}
			// A pending task that failed on this worker counts as picked for its job (it goes
			// to another worker), as PendingWhere counts skipped tasks.
			skipped := uint32(0)
			for r := range avoided {
				if info, _ := w.state.Task(r); r.Job == a.JobId && info.State == pb.TaskState_TASK_STATE_PENDING {
					skipped++
				}
			}
			if skipped == a.Tasks.Pending {
				continue // all its pending tasks go to other workers
			}
			w.stats.FairChecks++
			if leased[b] > a.Tasks.Leased+skipped+1 {
				w.violate("unfair grant of %s: job %s holds %d leases while job %s holds %d with %d tasks pending",
					fsm.RefOf(g.Task), b, leased[b], a.JobId, a.Tasks.Leased, a.Tasks.Pending)
			}
		}
	}
}

// checkSpeculations checks the speculative attempts of one entry: each goes to a worker
// that may run the job and is not cooling down, of a job with no pending task.
func (w *simWorld) checkSpeculations(c *pb.SpeculateCommand, res *fsm.Result) {
	cooling := w.sched.cooldowns(w.now)
	for i, s := range c.Speculations {
		if res.Errs[i] != nil {
			continue
		}
		ref := fsm.RefOf(s.Task)
		w.stats.Speculated++
		w.deadline[simLease{ref, res.Index}] = w.now.Add(simTTL)
		k := w.worker(s.WorkerId)
		if !job.MatchesAll(w.job(ref.Job).constraints, k.tags) {
			w.violate("speculative attempt of %s on %s (tags %v), which its job's constraints refuse", ref, k.id, k.tags)
		}
		if _, ok := cooling[k.id]; ok {
			w.violate("speculative attempt of %s on %s, which cools down", ref, k.id)
		}
		if st, _ := w.state.Job(ref.Job); st.Tasks.Pending > 0 {
			w.violate("speculative attempt of %s while its job has %d tasks pending", ref, st.Tasks.Pending)
		}
	}
}

// finalized removes, as a job's finalize does, the staging directories of its committed
// attempts and of the attempts whose workers died or restarted since; those of attempts
// still running are their workers' to remove.
func (w *simWorld) finalized(id string) {
	for l, s := range w.staged {
		if l.ref.Job != id {
			continue
		}
		info, _ := w.state.Task(l.ref)
		if k := w.worker(s.worker); k.gen != s.gen || !k.up || info.Result != nil && info.Result.Attempt == s.attempt {
			delete(w.staged, l)
		}
	}
}

func (w *simWorld) grant(ctx context.Context, g []*pb.Grant) batchResult {
	return w.grants.submit(ctx, g)
}

func (w *simWorld) commit(ctx context.Context, c []*pb.TaskCommit) batchResult {
	return w.commits.submit(ctx, c)
}

func (w *simWorld) fail(ctx context.Context, f []*pb.TaskFailure) batchResult {
	return w.fails.submit(ctx, f)
}

// startBatchers starts the batchers of grants, commits and failures, as a Node's
// raftCommands has them; each entry carries one request (the events come one at a time).
// A grant entry applied while midApply is set ends the heartbeat's context once applied.
func (w *simWorld) startBatchers() {
	w.grants = newBatcher(1024, 0, func(g []*pb.Grant) (*fsm.Result, error) {
		res, err := w.apply(fsm.GrantLeases, &pb.GrantCommand{Grants: g})
		if w.midApply != nil {
			w.midApply()
			w.midApply = nil
		}
		return res, err
	})
	w.commits = newBatcher(1024, 0, func(c []*pb.TaskCommit) (*fsm.Result, error) {
		return w.apply(fsm.CommitTasks, &pb.CommitCommand{Commits: c})
	})
	w.fails = newBatcher(1024, 0, func(f []*pb.TaskFailure) (*fsm.Result, error) {
		return w.apply(fsm.FailTasks, &pb.FailCommand{Failures: f})
	})
	ctx, cancel := context.WithCancel(context.Background())
	w.stopBatchs = cancel
	go w.grants.run(ctx)
	go w.commits.run(ctx)
	go w.fails.run(ctx)
}

func batchOf(res *fsm.Result, err error) batchResult {
	if err != nil {
		return batchResult{err: err}
	}
	return batchResult{index: res.Index, errs: res.Errs}
}

// compact renders a command on one line for the trace.
func compact(m proto.Message) string {
	s := fmt.Sprint(m)
	if len(s) > 400 {
		s = s[:400] + "..."
	}
	return s
}

// ---- leaders ----

// loseLeader stops the leader's scheduler; a new leader is elected after a while.
func (w *simWorld) loseLeader() {
	if w.sched == nil {
		return
	}
	w.sched.stop()
	w.sched = nil
	w.expiryAt = time.Time{}
	w.stats.LeaderChanges++
	w.logf("leader lost")
	w.at(w.between(500*time.Millisecond, 5*time.Second), w.elect)
}

// elect makes a new leader: a new scheduler on the state (half the time a replica restored
// from a snapshot of it), rebuilt with its grace period.
func (w *simWorld) elect() {
	if w.sched != nil {
		return
	}
	if w.rng.IntN(2) == 0 {
		w.state = restoreReplica(w.state)
	}
	w.leader++
	w.sched = newScheduler(schedConfig{LeaseTTL: simTTL, LeaseGrace: simGrace, CooldownFailures: 3,
		CooldownWindow: 2 * time.Minute, CooldownBase: 10 * time.Second, CooldownMax: 80 * time.Second,
		SpeculateSlowness: w.slowness, SpeculateAfter: 5 * time.Second, SpeculateSamples: 3}, w.state, w, w.logger(), nil)
	w.logf("leader %d elected", w.leader)
	for _, k := range w.workers {
		if k.declared {
			w.sched.workerDied(k.id, w.now) // the new leader's gossip view, before it leads
		}
	}
	w.sched.start(w.now)
	for _, k := range w.workers {
		if k.up {
			w.sched.workerAlive(k.id, k.tags) // the new leader's gossip view
		}
	}
	for _, li := range w.state.Leases() {
		w.deadline[simLease{li.Task, li.Lease.Epoch}] = w.now.Add(simGrace)
	}
	// The leases of workers gossip holds dead get the death's wait (a third of the TTL, the
	// new leader has seen no heartbeat of theirs), not the grace.
	due := w.now.Add(simTTL / 3)
	w.sched.mu.Lock()
	defer w.sched.mu.Unlock()
	for _, k := range w.workers {
		if !k.declared {
			continue
		}
		for _, li := range w.state.LeasesOf(k.id) {
			w.stats.DeadAtElection++
			if l := w.sched.leases[leaseKey{li.Task, li.Lease.Epoch}]; l == nil || !l.died || l.deadline.After(due) {
				w.violate("leader %d elected while gossip holds %s dead, but its lease %s@%d does not expire by %v",
					w.leader, k.id, li.Task, li.Lease.Epoch, due)
			}
		}
	}
}

// armExpiry sets the leader's expiry timer to its earliest deadline, as expireLoop does.
func (w *simWorld) armExpiry() {
	if w.sched == nil {
		return
	}
	next, ok := w.sched.earliest()
	if !ok || !w.expiryAt.IsZero() && !next.Before(w.expiryAt) {
		return
	}
	if next.Before(w.now) {
		next = w.now
	}
	w.expiryAt = next
	leader := w.leader
	w.at(next.Sub(w.now), func() {
		if w.sched == nil || w.leader != leader || !w.expiryAt.Equal(next) {
			return
		}
		w.expiryAt = time.Time{}
		w.sched.expireDue(w.ctx, w.now)
	})
}

// restoreReplica returns a new FSM restored from a snapshot of f, as a follower that
// installed it holds the state.
func restoreReplica(f *fsm.FSM) *fsm.FSM {
	snap, err := f.Snapshot()
	if err != nil {
		panic(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		panic(err)
	}
	r := fsm.New()
	if err := r.Restore(io.NopCloser(&sink.Buffer)); err != nil {
		panic(err)
	}
	return r
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct{ bytes.Buffer }

func (*memSink) ID() string    { return "mem" }
func (*memSink) Cancel() error { return nil }
func (*memSink) Close() error  { return nil }

var _ raft.SnapshotSink = (*memSink)(nil)

// unavailable says a call found no leader, or lost it: the worker tries again.
func unavailable(err error) bool {
	return errors.Is(err, ErrNotLeader) || errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) ||
		errors.Is(err, raft.ErrEnqueueTimeout)
}
