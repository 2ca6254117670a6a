package coordinator

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/internal/clock"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// scheduler is the leader's broker of leases, in memory. The FSM says which leases exist
// (granted, expired, committed through raft); the scheduler keeps what only the leader needs:
// each lease's deadline, renewed by its worker's heartbeats, the progress the worker last
// reported, and each worker's heartbeat count and free slots. It is rebuilt from the FSM when
// the node gains leadership, every deadline then set a grace period ahead, and emptied when
// leadership is lost.
//
// Its decisions depend only on what it is given: the replicated state it reads (schedState),
// the log its commands go to (commandLog), and the time, passed as a value to each call. The
// Node runs it over raft with the system or an injected clock (lead); the simulation test
// runs the same code over an in-memory log and a simulated time.
//
// Concurrency: the methods are safe for concurrent use; mu guards the maps. Commands are
// applied without mu held.
type scheduler struct {
	cfg     schedConfig
	state   schedState
	cmds    commandLog
	log     *slog.Logger
	changed func() // called when a heartbeat reported progress

	mu      sync.Mutex
	active  bool                // this node leads and the state is rebuilt
	leases  map[leaseKey]*lease // a task has two when a speculative attempt runs
	workers map[string]*workerState
	// reserved are pending tasks being granted: the next Pending must not pick them again.
	reserved map[fsm.TaskRef]bool
	// cleaning holds the cleanup orders given, by job (see cleanups).
	cleaning map[string]cleanupOrder
	kick     chan struct{} // wakes the expiry loop when a lease is added
	// deaths counts the times gossip declared each worker dead or gone, and down holds the
	// workers gone since their last join: a grant to such a worker is refused, and a grant
	// that raced with its death lives only while heartbeats renew it (see assign). Both
	// outlive leadership: they are facts of gossip, not of the replicated state.
	deaths map[string]uint64
	down   map[string]bool
	// tags are the alive workers' tags, as gossip last announced them (see placement.go);
	// like deaths they outlive leadership.
	tags map[string]map[string]string
	// jobs caches each job's placement, warm the workers presumed to hold each tokenizer
	// (placement.go), health each worker's recent failures and cool-down (cooldown.go).
	jobs   map[string]*jobPlacement
	warm   map[string]map[string]bool
	health map[string]*health
	// started counts the cool-downs started, over every leadership (a metric's counter).
	started uint64
	// rates holds, per job, the progress rates of its shards committed under this leader
	// (speculate.go); specStarted and specWon count speculative attempts started and
	// committed, over every leadership.
	rates                map[string][]float64
	specStarted, specWon uint64
	// failedOn holds, per task, the worker its last attempt failed on with ERROR
	// (placement.go: the retry goes elsewhere).
	failedOn map[fsm.TaskRef]string
}

// schedConfig holds the scheduler's timings.
type schedConfig struct {
	// LeaseTTL is how long a lease lives without a heartbeat of its worker.
	LeaseTTL time.Duration
	// LeaseGrace is the time every lease gets when the scheduler starts (a new leader).
	LeaseGrace time.Duration
	// CooldownFailures ERROR failures of a worker within CooldownWindow, while another worker
	// commits, cool it down for CooldownBase, doubled at each further cool-down up to
	// CooldownMax (see cooldown.go). Zero values take the defaults.
	CooldownFailures int
	CooldownWindow   time.Duration
	CooldownBase     time.Duration
	CooldownMax      time.Duration
	// SpeculateSlowness > 0 turns speculation on (speculate.go): a running shard whose
	// progress rate is below SpeculateSlowness times the median rate of its job's shards
	// (running for at least SpeculateAfter, or committed), once SpeculateSamples rates are
	// known and no shard of the job is pending, runs again on a worker with a free slot.
	SpeculateSlowness float64
	SpeculateAfter    time.Duration
	SpeculateSamples  int
}

// schedState is what the scheduler reads of the replicated state (an *fsm.FSM).
type schedState interface {
	Task(fsm.TaskRef) (fsm.TaskInfo, bool)
	Job(id string) (*pb.JobStatus, bool)
	JobSpec(id string) ([]byte, bool)
	PendingWhere(limit int, skip func(fsm.TaskRef) bool, jobOK func(id string, spec []byte) bool) []fsm.TaskRef
	Leases() []fsm.LeaseInfo
	LeasesOf(worker string) []fsm.LeaseInfo
	Unclean() []string
}

// commandLog is where the scheduler's commands go: raft on a Node (raftCommands, with
// grants, commits and failures batched). Each call returns once the command is applied, or
// with the error that kept it from being applied (when raft loses leadership, it may have
// been applied all the same). The ctx of grant, commit and fail bounds only the wait before
// the items are taken into an entry: a call whose ctx ended returns ctx's error only if its
// items were not taken, and otherwise the entry's outcome.
type commandLog interface {
	// apply commits one command as one entry.
	apply(t fsm.CommandType, m proto.Message) (*fsm.Result, error)
	// grant, commit and fail commit their items, possibly in one entry with others'.
	grant(ctx context.Context, g []*pb.Grant) batchResult
	commit(ctx context.Context, c []*pb.TaskCommit) batchResult
	fail(ctx context.Context, f []*pb.TaskFailure) batchResult
}

// leaseKey names a lease: its task and epoch.
type leaseKey struct {
	ref   fsm.TaskRef
	epoch uint64
}

// lease is the leader's memory of one lease of the FSM.
type lease struct {
	ref      fsm.TaskRef
	epoch    uint64
	worker   string
	deadline time.Time
	progress *pb.Progress
	// since is when the progress rate is measured from (the grant, or for a lease the
	// leader did not grant, its first heartbeat), base the bytes reported then, and seen
	// the time of the last progress (speculate.go).
	since, seen time.Time
	base        int64
	// hb is the worker's heartbeat count when the lease was granted (0 for a lease rebuilt
	// from the FSM): a later heartbeat that does not list the lease shows the worker does
	// not run it.
	hb uint64
	// died: gossip declared the worker dead since the lease's last renewal, and the
	// deadline was brought forward (see workerDied).
	died bool
}

// workerState is what the leader knows of a worker from its heartbeats.
type workerState struct {
	hb   uint64    // heartbeats received since this node leads
	beat time.Time // when the last heartbeat arrived
	// incarnation and seq are those of the last heartbeat served (see heartbeat).
	incarnation, seq uint64
	// gap is the worker's heartbeat interval as seen: the longest recent time between two
	// heartbeats, decaying by an eighth towards shorter ones (a heartbeat sent at once when
	// a task ends is not the worker's pace); 0: not known yet.
	gap     time.Duration
	free    int // free slots, as last reported
	running int // tasks running, as last reported
	// jobs holds the jobs of the tasks running, as last reported, and of those granted in the
	// answer to that heartbeat: the worker's next heartbeat lists those if it runs them, and
	// until then a cleanup of their jobs could remove what they are staging (see cleanups).
	jobs   map[string]bool
	leases map[fsm.TaskRef]*lease
}

// newScheduler returns an inactive scheduler; start (or lead) activates it.
func newScheduler(cfg schedConfig, state schedState, cmds commandLog, log *slog.Logger, changed func()) *scheduler {
	if changed == nil {
		changed = func() {}
	}
	return &scheduler{cfg: cfg.withCooldownDefaults(), state: state, cmds: cmds, log: log, changed: changed, kick: make(chan struct{}, 1)}
}

// lead runs the scheduler while this node leads: it starts it at clk's time, expires leases
// on clk until ctx ends (leadership lost), then stops it.
func (s *scheduler) lead(ctx context.Context, clk clock.Clock) {
	s.start(clk.Now())
	s.expireLoop(ctx, clk)
	s.stop()
}

// start rebuilds the leases from the state, each due a grace period after now (a death's
// wait for the workers gossip holds down, see workerDied), and makes the scheduler active.
func (s *scheduler) start(now time.Time) {
	s.mu.Lock()
	s.active = true
	s.leases = map[leaseKey]*lease{}
	s.rates = map[string][]float64{}
	s.failedOn = map[fsm.TaskRef]string{}
	s.workers = map[string]*workerState{}
	s.reserved = map[fsm.TaskRef]bool{}
	s.cleaning = map[string]cleanupOrder{}
	s.jobs, s.warm, s.health = map[string]*jobPlacement{}, map[string]map[string]bool{}, map[string]*health{}
	infos := s.state.Leases()
	for _, li := range infos {
		s.addLocked(&lease{ref: li.Task, epoch: li.Lease.Epoch, worker: li.Lease.Worker,
			deadline: now.Add(s.cfg.LeaseGrace)})
	}
	for id := range s.down {
		// Gossip declared it dead (or it left) while another node led: no grace, the
		// death's wait.
		if w := s.workers[id]; w != nil {
			s.dyingLocked(w, maps.Values(w.leases), now)
		}
	}
	s.mu.Unlock()
	s.log.Info("scheduling", "leases", len(infos), "grace", s.cfg.LeaseGrace)
}

// stop empties the scheduler and makes it inactive: leadership is lost.
func (s *scheduler) stop() {
	s.mu.Lock()
	s.active = false
	s.leases, s.workers, s.reserved, s.cleaning, s.rates, s.failedOn = nil, nil, nil, nil, nil, nil
	s.jobs, s.warm, s.health = nil, nil, nil
	s.mu.Unlock()
}

// worker returns the state of a worker, made on first use. s.mu is held.
func (s *scheduler) workerLocked(id string) *workerState {
	w := s.workers[id]
	if w == nil {
		w = &workerState{jobs: map[string]bool{}, leases: map[fsm.TaskRef]*lease{}}
		s.workers[id] = w
	}
	return w
}

func (l *lease) key() leaseKey { return leaseKey{l.ref, l.epoch} }

// addLocked records a lease; it replaces the worker's earlier lease of the same task. s.mu
// is held.
func (s *scheduler) addLocked(l *lease) {
	if old := s.leases[l.key()]; old != nil {
		s.removeLocked(old)
	}
	w := s.workerLocked(l.worker)
	if old := w.leases[l.ref]; old != nil {
		s.removeLocked(old)
	}
	s.leases[l.key()] = l
	w.leases[l.ref] = l
}

// grantedLocked records a lease just granted (in the answer to the worker's heartbeat): the
// lease, the worker's warmth for the job's tokenizer, and the job among those it runs until its
// next heartbeat says what it runs. s.mu is held.
func (s *scheduler) grantedLocked(l *lease) {
	s.addLocked(l)
	s.warmLocked(l.worker, l.ref.Job)
	s.workerLocked(l.worker).jobs[l.ref.Job] = true
}

// removeLocked forgets a lease. s.mu is held.
func (s *scheduler) removeLocked(l *lease) {
	if s.leases[l.key()] == l {
		delete(s.leases, l.key())
	}
	if w := s.workers[l.worker]; w != nil {
		delete(w.leases, l.ref)
	}
}

// forget forgets the lease of ref if its epoch is epoch: it was committed, failed or
// expired through raft.
func (s *scheduler) forget(ref fsm.TaskRef, epoch uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.leases[leaseKey{ref, epoch}]; l != nil {
		s.removeLocked(l)
	}
}

// forgetJob forgets every lease of a job that ended.
func (s *scheduler) forgetJob(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, l := range s.leases {
		if k.ref.Job == id {
			s.removeLocked(l)
		}
	}
	delete(s.jobs, id)
	delete(s.rates, id)
	for ref := range s.failedOn {
		if ref.Job == id {
			delete(s.failedOn, ref)
		}
	}
}

// expireLoop expires the leases whose deadline passed, in one entry per round, until ctx
// ends. It sleeps on clk until the earliest deadline or a kick.
func (s *scheduler) expireLoop(ctx context.Context, clk clock.Clock) {
	for {
		next, ok := s.earliest()
		var fire <-chan time.Time
		var t interface{ Stop() bool }
		if ok {
			timer := clk.NewTimer(next.Sub(clk.Now()))
			fire, t = timer.C(), timer
		}
		select {
		case <-fire:
			s.expireDue(ctx, clk.Now())
		case <-s.kick:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// earliest returns the earliest deadline of the leases, and false when there is none.
func (s *scheduler) earliest() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, l := range s.leases {
		if next.IsZero() || l.deadline.Before(next) {
			next = l.deadline
		}
	}
	return next, !next.IsZero()
}

// expireDue expires every lease whose deadline is not after now, in one entry (in task
// order). If the entry fails, the leases are tried again a tenth of the TTL after now.
func (s *scheduler) expireDue(ctx context.Context, now time.Time) {
	s.mu.Lock()
	var due []*lease
	for _, l := range s.leases {
		if !l.deadline.After(now) {
			due = append(due, l)
			s.removeLocked(l)
		}
	}
	s.mu.Unlock()
	if len(due) == 0 {
		return
	}
	sortLeases(due)
	ex := make([]*pb.Expiry, len(due))
	for i, l := range due {
		cause := fmt.Sprintf("lease expired: no heartbeat from worker %s for %v", l.worker, s.cfg.LeaseTTL)
		if l.died {
			cause = fmt.Sprintf("worker %s died (gossip declared it dead, and no heartbeat came after)", l.worker)
		}
		ex[i] = &pb.Expiry{Task: l.ref.Proto(), Epoch: l.epoch, Cause: cause}
	}
	if err := s.expire(ex); err != nil && ctx.Err() == nil {
		s.log.Warn("expiring leases failed; retrying", "leases", len(due), "err", err)
		s.putBack(due, now.Add(s.cfg.LeaseTTL/10))
	}
}

// putBack records again leases that were forgotten for an expiry whose entry failed: the
// state still holds them, and only the scheduler's memory makes them expire. Each is due at
// at (zero: its deadline stays), unless it is no longer current in the state (the entry
// was applied all the same, or a commit ended it meanwhile), the scheduler remembers it
// already, or its worker got another lease of the task meanwhile (which addLocked would
// replace).
func (s *scheduler) putBack(ls []*lease, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.active {
		return
	}
	for _, l := range ls {
		if s.leases[l.key()] != nil {
			continue
		}
		if w := s.workers[l.worker]; w != nil && w.leases[l.ref] != nil {
			continue
		}
		if info, _ := s.state.Task(l.ref); !info.Current(l.worker, l.epoch) {
			continue
		}
		if !at.IsZero() {
			l.deadline = at
		}
		s.addLocked(l)
	}
	s.kickLoop()
}

// expire takes leases back, in one entry.
func (s *scheduler) expire(ex []*pb.Expiry) error {
	res, err := s.cmds.apply(fsm.ExpireLeases, &pb.ExpireCommand{Expiries: ex})
	if err != nil {
		return err
	}
	n := 0
	for _, e := range res.Errs {
		if e == nil {
			n++
		}
	}
	s.log.Info("leases taken back", "leases", n, "refused", len(ex)-n, "cause", ex[0].Cause)
	return nil
}

// downLocked records that gossip declared the worker dead or that it left: no grant to it
// until gossip sees it again (workerAlive), its tags and warmth forgotten, and, on the
// leader, the cleanup orders it was given. s.mu is held.
func (s *scheduler) downLocked(id string) {
	if s.deaths == nil {
		s.deaths, s.down = map[string]uint64{}, map[string]bool{}
	}
	s.deaths[id]++
	s.down[id] = true
	delete(s.tags, id)
	for _, ws := range s.warm {
		delete(ws, id)
	}
	if s.active {
		s.dropCleanupsLocked(id)
	}
}

// workerDied handles a worker that gossip declared dead at now: it gets no new grant, and
// each of its leases now also expires once two of its heartbeat intervals have passed
// since its last heartbeat without another (see deathDue), with the cause "worker ID
// died". A worker that gossip declared dead but that still heartbeats (its gossip stalled:
// a CPU-throttled container, a long pause, lost UDP) keeps its leases, since the
// heartbeats, not gossip, renew them; one that really died, whose last heartbeat is
// usually older than that by the time gossip declares it dead, loses them at once.
func (s *scheduler) workerDied(id string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downLocked(id)
	if !s.active {
		return
	}
	if w := s.workers[id]; w != nil && len(w.leases) > 0 {
		s.dyingLocked(w, maps.Values(w.leases), now)
		s.log.Info("gossip declared a worker dead: its leases expire unless it heartbeats", "worker", id,
			"leases", len(w.leases), "due", s.deathDue(w, now).Sub(now))
	}
	s.kickLoop()
}

// deathDue is when the leases of the worker w, which gossip declared dead at now, expire
// without a heartbeat: two of its heartbeat intervals (gap, at most a third of the lease
// TTL, the longest interval workers are allowed) after its last heartbeat, and not before
// now; a third of the TTL after now when this leader has not seen its interval.
func (s *scheduler) deathDue(w *workerState, now time.Time) time.Time {
	if w.gap <= 0 || w.beat.IsZero() {
		return now.Add(s.cfg.LeaseTTL / 3)
	}
	if due := w.beat.Add(min(2*w.gap, s.cfg.LeaseTTL/3)); due.After(now) {
		return due
	}
	return now
}

// dyingLocked makes the leases ls of the worker w expire by deathDue unless a heartbeat
// renews them first. s.mu is held.
func (s *scheduler) dyingLocked(w *workerState, ls iter.Seq[*lease], now time.Time) {
	due := s.deathDue(w, now)
	for l := range ls {
		l.died = true
		if l.deadline.After(due) {
			l.deadline = due
		}
	}
}

// workerGone takes back at once, in one raft entry, every lease of a worker that left
// the cluster (a drained worker; gossip state left), and forgets the cleanup orders it was
// given. If that fails the leases stay, and expire by their deadlines.
func (s *scheduler) workerGone(id, cause string) {
	s.mu.Lock()
	s.downLocked(id)
	s.mu.Unlock()
	if !s.isActive() {
		return
	}
	var ex []*pb.Expiry
	for _, li := range s.state.LeasesOf(id) {
		ex = append(ex, &pb.Expiry{Task: li.Task.Proto(), Epoch: li.Lease.Epoch, Cause: cause})
	}
	if len(ex) > 0 {
		if err := s.expire(ex); err != nil {
			s.log.Warn("taking back the leases of a worker that left failed; they expire by their deadlines",
				"worker", id, "leases", len(ex), "err", err)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.workers[id]; w != nil {
		for _, l := range w.leases {
			s.removeLocked(l)
		}
		delete(s.workers, id)
	}
}

// workerAlive records that gossip sees the worker (again), with these tags: grants to it
// are allowed.
func (s *scheduler) workerAlive(id string, tags map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.down, id)
	if s.tags == nil {
		s.tags = map[string]map[string]string{}
	}
	s.tags[id] = maps.Clone(tags)
}

// isActive says the scheduler runs (this node leads).
func (s *scheduler) isActive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// kickLoop wakes the expiry loop to look at the deadlines again.
func (s *scheduler) kickLoop() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// sortLeases sorts leases by task (job, kind, shard index): the commands the scheduler
// makes from its maps do not depend on their iteration order.
func sortLeases(ls []*lease) {
	slices.SortFunc(ls, func(a, b *lease) int {
		return cmp.Or(cmp.Compare(a.ref.Job, b.ref.Job), cmp.Compare(a.ref.Kind, b.ref.Kind),
			cmp.Compare(a.ref.Index, b.ref.Index))
	})
}
