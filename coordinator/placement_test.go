package coordinator

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// memLog is a commandLog that applies each command as one entry to an FSM in memory.
type memLog struct {
	t     *testing.T
	state *fsm.FSM
	index uint64
	// applied, when not nil, is called with each entry's command after it is applied,
	// before its caller gets the result.
	applied func(fsm.CommandType, proto.Message)
}

func (l *memLog) apply(typ fsm.CommandType, m proto.Message) (*fsm.Result, error) {
	data, err := fsm.Encode(typ, m)
	if err != nil {
		l.t.Fatal(err)
	}
	l.index++
	res, err := l.state.ApplyCommand(l.index, data)
	if l.applied != nil {
		l.applied(typ, m)
	}
	return res, err
}

func (l *memLog) batch(typ fsm.CommandType, m proto.Message) batchResult {
	res, err := l.apply(typ, m)
	if err != nil {
		return batchResult{err: err}
	}
	return batchResult{index: res.Index, errs: res.Errs}
}

func (l *memLog) grant(_ context.Context, g []*pb.Grant) batchResult {
	return l.batch(fsm.GrantLeases, &pb.GrantCommand{Grants: g})
}

func (l *memLog) commit(_ context.Context, c []*pb.TaskCommit) batchResult {
	return l.batch(fsm.CommitTasks, &pb.CommitCommand{Commits: c})
}

func (l *memLog) fail(_ context.Context, f []*pb.TaskFailure) batchResult {
	return l.batch(fsm.FailTasks, &pb.FailCommand{Failures: f})
}

// placeWorld is a started scheduler over a memLog, at a time the test moves.
type placeWorld struct {
	t     *testing.T
	log   *memLog
	sched *scheduler
	now   time.Time
	// running holds each worker's assignments not yet committed or failed, listed in its
	// heartbeats.
	running map[string][]*pb.Assignment
}

func newPlaceWorld(t *testing.T, cfg schedConfig) *placeWorld {
	l := &memLog{t: t, state: fsm.New()}
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL, cfg.LeaseGrace = time.Hour, time.Hour
	}
	w := &placeWorld{t: t, log: l, running: map[string][]*pb.Assignment{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		sched: newScheduler(cfg, l.state, l, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)}
	w.sched.start(w.now)
	return w
}

// job submits a job with spec's extra lines and plans it with n shards (the plan run by a
// worker named "planner" that gossip does not know), so that its n shards are pending.
func (w *placeWorld) job(id, extra string, n int) {
	w.t.Helper()
	spec := "name: " + id + "\n" + extra
	w.must(w.log.apply(fsm.SubmitJob, &pb.SubmitJobCommand{JobId: id, Name: id, Spec: []byte(spec), MaxAttempts: 100}))
	plan := fsm.TaskRef{Job: id, Kind: pb.TaskKind_TASK_KIND_PLAN}
	res := w.log.batch(fsm.GrantLeases, &pb.GrantCommand{Grants: []*pb.Grant{{Task: plan.Proto(), WorkerId: "planner",
		DeadlineUnixMs: w.now.Add(time.Hour).UnixMilli()}}})
	if res.err != nil || res.errs[0] != nil {
		w.t.Fatalf("grant plan of %s: %v %v", id, res.err, res.errs)
	}
	ac := &pb.AppendPlanCommand{Task: plan.Proto(), Epoch: res.index}
	for i := range n {
		ac.Specs = append(ac.Specs, fmt.Appendf(nil, `{"id":"%06d","index":%d}`, i, i))
	}
	w.must(w.log.apply(fsm.AppendPlan, ac))
	w.must(w.log.apply(fsm.CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{{Task: plan.Proto(), Epoch: res.index,
		Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{Shards: uint32(n), Inputs: uint32(n)}}}}}))
}

func (w *placeWorld) must(res *fsm.Result, err error) {
	w.t.Helper()
	if err == nil {
		err = res.Err()
	}
	if err != nil {
		w.t.Fatal(err)
	}
}

// beat heartbeats worker with free slots, listing the tasks it runs, and returns the new
// assignments.
func (w *placeWorld) beat(worker string, free int) []*pb.Assignment {
	w.t.Helper()
	resp := w.send(worker, free, w.running[worker])
	if len(resp.Stop) > 0 {
		w.t.Fatalf("%s told to stop %v", worker, resp.Stop)
	}
	w.running[worker] = append(w.running[worker], resp.Start...)
	return resp.Start
}

// send heartbeats worker with free slots, listing running, and returns the answer.
func (w *placeWorld) send(worker string, free int, running []*pb.Assignment) *pb.HeartbeatResponse {
	w.t.Helper()
	req := &pb.HeartbeatRequest{WorkerId: worker, FreeSlots: uint32(free)}
	for _, a := range running {
		req.Running = append(req.Running, &pb.RunningTask{Task: a.Task, Epoch: a.Epoch})
	}
	resp, err := w.sched.heartbeat(context.Background(), req, w.now)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp
}

// done forgets a finished assignment.
func (w *placeWorld) done(a *pb.Assignment) {
	for k, as := range w.running {
		for i, b := range as {
			if b == a {
				w.running[k] = append(as[:i:i], as[i+1:]...)
				return
			}
		}
	}
}

// jobsOf returns the job of each assignment, in order.
func jobsOf(as []*pb.Assignment) string {
	var out []string
	for _, a := range as {
		out = append(out, a.Task.JobId)
	}
	return strings.Join(out, ",")
}

// commit commits a shard assignment.
func (w *placeWorld) commit(a *pb.Assignment) {
	w.t.Helper()
	w.done(a)
	err := w.sched.commit(context.Background(), &pb.TaskCommit{Task: a.Task, Epoch: a.Epoch, Result: &pb.TaskCommit_Shard{
		Shard: &pb.ShardResult{Attempt: a.Attempt, Dir: fmt.Sprintf("%06d/%d", a.Task.Shard, a.Attempt), Bytes: 1}}}, w.now)
	if err != nil {
		w.t.Fatal(err)
	}
}

// failErr fails an assignment with kind ERROR.
func (w *placeWorld) failErr(a *pb.Assignment) {
	w.t.Helper()
	w.done(a)
	if err := w.sched.fail(context.Background(), &pb.TaskFailure{Task: a.Task, Epoch: a.Epoch,
		Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "disk error"}, w.now); err != nil {
		w.t.Fatal(err)
	}
}

func TestScheduler_ConstraintsPlaceTasks(t *testing.T) {
	tests := []struct {
		name string
		tags map[string]string
		want string // the jobs of the 4 tasks granted, in order
	}{
		{"gpu in zone a runs every job, fairly", map[string]string{"gpu": "h100", "zone": "a"}, "gpu,any,notb,gpu"},
		{"cpu in zone a skips the gpu job", map[string]string{"zone": "a"}, "any,notb,any,notb"},
		{"cpu in zone b runs the job without constraints only", map[string]string{"zone": "b"}, "any,any,any,any"},
		{"gpu of another kind", map[string]string{"gpu": "a100", "zone": "c"}, "any,notb,any,notb"},
		{"no tags known", nil, "any,notb,any,notb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newPlaceWorld(t, schedConfig{})
			w.job("gpu", "constraints: [gpu=h100, ssd-free!=yes]\n", 5)
			w.job("any", "", 5)
			w.job("notb", "constraints: ['zone!=b']\n", 5)
			w.sched.workerAlive("w1", tt.tags)
			if got := jobsOf(w.beat("w1", 4)); got != tt.want {
				t.Fatalf("granted %s, want %s", got, tt.want)
			}
		})
	}
}

func TestScheduler_Unplaceable(t *testing.T) {
	tests := []struct {
		name, constraints, want string
	}{
		{"none", "", ""},
		{"matched", "[gpu=h100]", ""},
		{"no such value", "[gpu=a100]", "constraint gpu=a100 matches no alive worker"},
		{"no such tag", "[gpu, ssd]", "constraint ssd matches no alive worker"},
		{"each matches, not together", "[gpu=h100, zone=b]", "no alive worker matches all of gpu=h100, zone=b"},
		{"not equal everywhere", "['zone!=a', 'zone!=b']", "no alive worker matches all of zone!=a, zone!=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newPlaceWorld(t, schedConfig{})
			w.sched.workerAlive("w1", map[string]string{"gpu": "h100", "zone": "a"})
			w.sched.workerAlive("w2", map[string]string{"zone": "b"})
			w.sched.workerAlive("w3", map[string]string{"gpu": "h100", "zone": "c"})
			w.sched.workerDied("w3", time.Time{})
			extra := ""
			if tt.constraints != "" {
				extra = "constraints: " + tt.constraints + "\n"
			}
			w.job("j", extra, 2)
			if got := w.sched.unplaceable("j"); got != tt.want {
				t.Fatalf("unplaceable = %q, want %q", got, tt.want)
			}
			if tt.want != "" {
				if got := jobsOf(w.beat("w1", 2)) + jobsOf(w.beat("w2", 2)); got != "" {
					t.Fatalf("an unplaceable job's tasks went to %s", got)
				}
			}
		})
	}
}

func TestScheduler_AffinityPrefersWarmWorkers(t *testing.T) {
	w := newPlaceWorld(t, schedConfig{})
	w.job("a", "tokenizer: tok-a\n", 6)
	w.job("b", "tokenizer: tok-b\n", 6)
	w.job("c", "tokenizer: tok-a\n", 6) // shares a's tokenizer
	w.sched.workerAlive("w1", nil)
	w.sched.workerAlive("w2", nil)
	// w1 starts cold: the fair order gives it a, then b, then c.
	first := w.beat("w1", 1)
	if got := jobsOf(first); got != "a" {
		t.Fatalf("w1 got %s, want a", got)
	}
	// w2 is cold for tok-a, which w1 holds: it takes b (no one's warm for tok-b) first.
	if got := jobsOf(w.beat("w2", 1)); got != "b" {
		t.Fatalf("w2 got %s, want b (a and c are warm on w1)", got)
	}
	// w1 is warm for tok-a: a and c before b, which is warm on w2.
	if got := jobsOf(w.beat("w1", 3)); got != "c,a,c" {
		t.Fatalf("w1 got %s, want c,a,c", got)
	}
	// w2 with more free slots than its warm job's tasks takes the others rather than idle.
	got := jobsOf(w.beat("w2", 12))
	if !strings.HasPrefix(got, "b,b,b,b,b,") || strings.Count(got, ",") != 11 {
		t.Fatalf("w2 got %s, want b's 5 pending tasks first, then 7 of a and c", got)
	}
	// A worker gossip declares gone is no longer warm: w2 is the only one warm for tok-a now
	// and a new worker is cold for both tokenizers.
	w.sched.workerDied("w1", time.Time{})
	w.sched.mu.Lock()
	warmA := w.sched.warm["tok-a"]
	w.sched.mu.Unlock()
	if warmA["w1"] || !warmA["w2"] {
		t.Fatalf("warm for tok-a = %v, want w2 only", warmA)
	}
}

func TestScheduler_AffinityNoTokenizer(t *testing.T) {
	w := newPlaceWorld(t, schedConfig{})
	w.job("v1", "kind: convert\n", 3)
	w.job("v2", "kind: convert\n", 3)
	w.sched.workerAlive("w1", nil)
	w.sched.workerAlive("w2", nil)
	if got := jobsOf(w.beat("w1", 2)); got != "v1,v2" {
		t.Fatalf("w1 got %s, want v1,v2", got)
	}
	if got := jobsOf(w.beat("w2", 2)); got != "v1,v2" {
		t.Fatalf("w2 got %s, want v1,v2: no tokenizer, no affinity", got)
	}
}

func TestScheduler_Cooldown(t *testing.T) {
	w := newPlaceWorld(t, schedConfig{CooldownFailures: 3, CooldownWindow: 5 * time.Minute,
		CooldownBase: time.Minute, CooldownMax: 3 * time.Minute})
	w.job("j", "", 100)
	w.sched.workerAlive("sick", nil)
	w.sched.workerAlive("good", nil)
	fails := func(n int) {
		t.Helper()
		for range n {
			as := w.beat("sick", 1)
			if len(as) != 1 {
				t.Fatalf("%v: sick got %d tasks, want 1", w.now, len(as))
			}
			w.failErr(as[0])
			w.now = w.now.Add(time.Second)
		}
	}
	cooling := func() bool { _, ok := w.sched.cooldowns(w.now)["sick"]; return ok }

	// Failures while no other worker succeeds: the job may be at fault, no cool-down.
	fails(4)
	if cooling() {
		t.Fatal("sick cools down though no other worker succeeded")
	}
	w.now = w.now.Add(6 * time.Minute)
	w.commit(w.beat("good", 1)[0])
	// Failures outside the window are forgotten: two now, one after 6 minutes.
	fails(2)
	w.now = w.now.Add(6 * time.Minute)
	w.commit(w.beat("good", 1)[0])
	fails(1)
	if cooling() {
		t.Fatal("sick cools down with failures spread beyond the window")
	}
	fails(2) // 3 within the window, good committed within it
	until := w.sched.cooldowns(w.now)["sick"]
	if want := w.now.Add(-time.Second).Add(time.Minute); !until.Equal(want) {
		t.Fatalf("cool-down until %v, want %v (a minute after the third failure)", until, want)
	}
	if as := w.beat("sick", 4); len(as) != 0 {
		t.Fatalf("a cooling worker got %d tasks", len(as))
	}
	if as := w.beat("good", 2); len(as) != 2 {
		t.Fatalf("good got %d tasks while sick cools down, want 2", len(as))
	} else {
		w.commit(as[0])
		w.commit(as[1])
	}
	// The cool-down ends; three more failures double it, then the cap holds it.
	for i, want := range []time.Duration{2 * time.Minute, 3 * time.Minute, 3 * time.Minute} {
		w.now = until
		w.commit(w.beat("good", 1)[0])
		fails(3)
		until = w.sched.cooldowns(w.now)["sick"]
		if got := until.Sub(w.now.Add(-time.Second)); got != want {
			t.Fatalf("cool-down %d lasts %v, want %v", i+2, got, want)
		}
	}
	// A commit forgives: the next cool-down is a minute again.
	w.now = until
	w.commit(w.beat("sick", 1)[0])
	w.commit(w.beat("good", 1)[0])
	fails(3)
	if got := w.sched.cooldowns(w.now)["sick"].Sub(w.now.Add(-time.Second)); got != time.Minute {
		t.Fatalf("cool-down after a commit lasts %v, want 1m", got)
	}
}
