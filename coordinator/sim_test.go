package coordinator

import (
	"bytes"
	"container/heap"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

var (
	simSeeds = flag.Int("sim.seeds", 0, "seeds TestScheduler_Simulation runs (0: 2,000, 200 with -short)")
	simSeed  = flag.Int64("sim.seed", -1, "run only this seed of TestScheduler_Simulation, traced, and print the trace")
)

// TestScheduler_Simulation runs the leader's real scheduler and the FSM over thousands of
// seeds of a simulated cluster (simWorld): workers that die, come back, restart unnoticed
// and heartbeat late, killed while the leader serves their heartbeat (its grants applied,
// the answer lost) and restarted under the same id, slow (speculated); failed, handed-back
// and input-error attempts; duplicate and late results; leader changes (the new scheduler rebuilt from the state with its grace period,
// half the time on a replica restored from a snapshot), some of them in the middle of an
// apply whose entry may or may not be committed; entries raft refuses (nothing applied, the
// leader stays); cancels. Each seed must end with:
//   - no task committed twice; every task of a succeeded job committed exactly once;
//   - no job finalized twice, a finalize committed exactly when the job succeeded;
//   - every job final within simBound of its submission (twice that in a seed with a slow
//     worker: a job whose constraint only that worker satisfies runs at its pace);
//   - no lease expires before its deadline (TTL after its grant or last renewal, or the
//     grace after the election of the leader that rebuilt it), nor outlives it;
//   - a worker that lists a task whose lease is not current is told to stop it; after its
//     heartbeat it holds no lease it did not list or was not just granted; gossip declaring
//     it dead makes its leases (backups included) due within a third of the TTL unless a
//     heartbeat renews them, and a leader elected while gossip holds it dead gives them
//     that wait, not the grace;
//   - a commit acknowledged to a worker is the result the state holds;
//   - every grant placed: the worker's tags satisfy the job's constraints, it is not
//     cooling down, and it is not the worker the task's last attempt failed on while
//     another worker may run it;
//   - every grant fair: a job that got a task holds at most one lease more than any active
//     job left with pending tasks that the worker may run and that is not in a later
//     affinity tier for it;
//   - speculative attempts (slow workers in some seeds): each placed as grants are, of a job
//     with no pending task; no two attempts of a task share a staging directory; once every
//     job is final and every worker idle, no attempt of a worker that is still the same
//     process left its staging directory (a loser was stopped and removed it), except the
//     committed attempts of jobs that did not succeed (a cleanup's).
//
// A failing seed prints itself, the command that replays it with its trace, and the end of
// the trace (the whole trace is written to a file).
func TestScheduler_Simulation(t *testing.T) {
	if *simSeed >= 0 {
		w := runSim(uint64(*simSeed), true)
		t.Logf("trace of seed %d:\n%s", *simSeed, w.trace)
		if w.violation != nil {
			t.Fatalf("seed %d: %v", *simSeed, w.violation)
		}
		return
	}
	seeds := *simSeeds
	if seeds == 0 {
		seeds = 2000
		if testing.Short() {
			seeds = 200
		}
	}
	total, failed := runSeeds(seeds)
	t.Logf("%d seeds: %+v", seeds, total)
	if failed >= 0 {
		w := runSim(uint64(failed), true) // the same run again, traced
		path := filepath.Join(os.TempDir(), fmt.Sprintf("tokenmill-sim-seed-%d.trace", failed))
		_ = os.WriteFile(path, w.trace.Bytes(), 0o644)
		t.Fatalf("seed %d: %v\nreplay: go test ./coordinator -run 'TestScheduler_Simulation$' -sim.seed=%d -v\n"+
			"trace: %s; its end:\n%s", failed, w.violation, failed, path, tail(w.trace.String(), 60))
	}
	// The runs must reach the cases they exist for.
	for name, n := range map[string]int{"succeeded": total.Succeeded, "failed": total.Failed, "canceled": total.Canceled,
		"refused": total.Refused, "duplicates": total.Duplicates, "deaths": total.Deaths, "restarts": total.Restarts,
		"kills mid-heartbeat": total.MidBeatKills, "refused applies": total.RefusedApplies,
		"dead workers' leases at an election": total.DeadAtElection,
		"leader changes":                      total.LeaderChanges, "lost applies": total.LostApplies, "expired": total.Expired,
		"taken back": total.TakenBack, "fair checks": total.FairChecks,
		"placement checks": total.PlacementChecks, "cool-downs": total.Cooldowns,
		"speculative attempts": total.Speculated, "speculative attempts won": total.SpeculationsWon} {
		if n == 0 {
			t.Errorf("no seed reached a case: %s = 0 (%+v)", name, total)
		}
	}
}

// runSeeds runs seeds 0..n-1 on every core and returns their stats and the smallest seed
// that failed, or -1.
func runSeeds(n int) (simStats, int) {
	var (
		mu     sync.Mutex
		total  simStats
		failed = -1
		next   = make(chan int)
		wg     sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for seed := range next {
				w := runSim(uint64(seed), false)
				mu.Lock()
				total.add(w.stats)
				if w.violation != nil && (failed < 0 || seed < failed) {
					failed = seed
				}
				mu.Unlock()
			}
		})
	}
	for seed := range n {
		next <- seed
	}
	close(next)
	wg.Wait()
	return total, failed
}

// TestScheduler_SimulationIsDeterministic: a seed run twice gives the same trace, so a
// failing seed replays.
func TestScheduler_SimulationIsDeterministic(t *testing.T) {
	for seed := range uint64(8) {
		a, b := runSim(seed, true), runSim(seed, true)
		if !bytes.Equal(a.trace.Bytes(), b.trace.Bytes()) {
			t.Fatalf("seed %d: two runs differ; first difference near:\n%s", seed, firstDiff(a.trace.String(), b.trace.String()))
		}
		if a.trace.Len() == 0 || a.index == 0 {
			t.Fatalf("seed %d: nothing happened", seed)
		}
	}
}

// runSim runs one seed to its end and checks the invariants; w.violation holds the first
// one broken.
func runSim(seed uint64, traced bool) *simWorld {
	w := newSimWorld(seed, traced)
	defer w.stopBatchs()
	for w.violation == nil && !w.done() {
		if w.events >= simMaxEvent {
			w.violate("still running after %d events", w.events)
			break
		}
		e := heap.Pop(&w.queue).(*simEvent)
		w.now = e.at
		w.events++
		e.do()
		w.armExpiry()
		w.checkOverdue()
		w.checkBound()
	}
	w.stats.SimSeconds = int64(w.now.Sub(w.start).Seconds())
	if w.violation == nil {
		w.checkEnd()
	}
	return w
}

// newSimWorld makes the world of a seed: 2 to 6 workers of 1 to 4 slots (tagged with a zone,
// some with a gpu, one in ten sick), 1 to 3 jobs (newJob) of 0
// to 30 shards submitted within the first minute, a leader, and the seed's rate of chaos.
func newSimWorld(seed uint64, traced bool) *simWorld {
	w := &simWorld{rng: rand.New(rand.NewPCG(seed, 0x5eed)), start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		ctx: context.Background(), state: fsm.New(), accepted: map[fsm.TaskRef]int{},
		deadline: map[simLease]time.Time{}, staged: map[simLease]simStage{}, stats: simStats{Seeds: 1}}
	w.now = w.start
	if traced {
		w.trace = &bytes.Buffer{}
	}
	if w.rng.IntN(3) != 0 {
		w.faults = 100 + w.rng.IntN(400)
	}
	w.inputErrors = w.rng.IntN(4) == 0
	w.startBatchers()
	if w.rng.IntN(4) != 0 {
		w.slowness = 0.5
	}
	w.elect()
	for i := range 2 + w.rng.IntN(5) {
		k := &simWorker{w: w, id: fmt.Sprintf("w%d", i), slots: 1 + w.rng.IntN(4), up: true,
			tags: map[string]string{"zone": string(rune('a' + w.rng.IntN(3)))}}
		if w.rng.IntN(3) == 0 {
			k.tags["gpu"] = "h100"
		}
		k.sick = w.rng.IntN(10) == 0
		k.slow = w.rng.IntN(4) == 0
		w.workers = append(w.workers, k)
		w.sched.workerAlive(k.id, k.tags) // gossip sees it from the start
		k.after(w.between(0, simBeat), k.beat)
	}
	for i := range 1 + w.rng.IntN(3) {
		j := w.newJob(fmt.Sprintf("job%d", i))
		w.jobs = append(w.jobs, j)
		w.at(w.between(0, time.Minute), func() { w.submit(j) })
		if w.rng.IntN(12) == 0 {
			w.at(w.between(time.Second, 3*time.Minute), func() { w.cancel(j) })
		}
	}
	calm := 20 + w.rng.IntN(60) // seconds between chaos events, on average
	w.at(0, func() { w.chaos(calm) })
	return w
}

// chaos kills, restarts or slows a worker or changes the leader, then comes back.
func (w *simWorld) chaos(calm int) {
	k := w.workers[w.rng.IntN(len(w.workers))]
	switch n := w.rng.IntN(10); {
	case n < 4 && k.up:
		k.die()
	case n < 6 && k.up:
		k.restart()
	case n < 8:
		w.loseLeader()
	}
	w.at(w.between(time.Second, time.Duration(2*calm)*time.Second), func() { w.chaos(calm) })
}

// submit submits a job, again a second later while no leader takes it.
func (w *simWorld) submit(j *simJob) {
	if j.submitted.IsZero() {
		j.submitted = w.now
	}
	if w.sched != nil {
		res, err := w.apply(fsm.SubmitJob, &pb.SubmitJobCommand{JobId: j.id, Name: j.id, Spec: []byte(j.spec),
			MaxAttempts: uint32(3 + w.rng.IntN(3)), SubmittedUnixMs: w.now.UnixMilli()})
		if err == nil && (res.Err() == nil || errors.Is(res.Err(), fsm.ErrJobExists)) {
			return
		}
	}
	w.at(time.Second, func() { w.submit(j) })
}

// newJob makes a job of 0 to 30 shards with one of two tokenizers and, half the time, a
// constraint that one worker (picked at random) satisfies.
func (w *simWorld) newJob(id string) *simJob {
	j := &simJob{id: id, shards: w.rng.IntN(31)}
	j.spec = fmt.Sprintf("name: %s\ntokenizer: tok-%d\n", id, w.rng.IntN(2))
	if w.rng.IntN(2) == 0 {
		k := w.workers[w.rng.IntN(len(w.workers))]
		var c string
		switch n := w.rng.IntN(3); {
		case n == 0 && k.tags["gpu"] != "":
			c = "gpu"
		case n == 1:
			c = "zone!=" + string(rune('a'+(k.tags["zone"][0]-'a'+1)%3))
		default:
			c = "zone=" + k.tags["zone"]
		}
		j.spec += "constraints: ['" + c + "']\n"
		cons, err := job.ParseConstraint(c)
		if err != nil {
			panic(err)
		}
		j.constraints = []job.Constraint{cons}
	}
	return j
}

func (w *simWorld) worker(id string) *simWorker {
	for _, k := range w.workers {
		if k.id == id {
			return k
		}
	}
	panic("sim: no worker " + id)
}

// cancel cancels a job as the job service does, once, if a leader is there.
func (w *simWorld) cancel(j *simJob) {
	if w.sched == nil {
		return
	}
	if _, err := w.apply(fsm.CancelJob, &pb.CancelJobCommand{JobId: j.id, Reason: "sim"}); err == nil && w.sched != nil {
		w.sched.forgetJob(j.id)
	}
}

func (w *simWorld) job(id string) *simJob {
	for _, j := range w.jobs {
		if j.id == id {
			return j
		}
	}
	panic("sim: no job " + id)
}

// done says every job is submitted and final, no result is in flight, and every worker
// that is up runs nothing (it was told to stop what it ran).
func (w *simWorld) done() bool {
	if w.late > 0 {
		return false
	}
	for _, k := range w.workers {
		if k.up && len(k.running) > 0 {
			return false
		}
	}
	for _, j := range w.jobs {
		st, ok := w.state.Job(j.id)
		if !ok || active(st.State) {
			return false
		}
	}
	return true
}

// checkOverdue: while a leader is up, no lease outlives its deadline (the expiry timer fires
// at the earliest deadline).
func (w *simWorld) checkOverdue() {
	if w.sched == nil {
		return
	}
	for _, li := range w.state.Leases() {
		if d, ok := w.deadline[simLease{li.Task, li.Lease.Epoch}]; !ok || w.now.After(d) {
			w.violate("lease %s@%d of %s is past its deadline (%v ago) and not taken back",
				li.Task, li.Lease.Epoch, li.Lease.Worker, w.now.Sub(d))
		}
	}
}

// checkBound: nothing stays pending forever.
func (w *simWorld) checkBound() {
	for _, j := range w.jobs {
		bound := simBound
		if slices.ContainsFunc(w.workers, func(k *simWorker) bool { return k.slow }) {
			bound *= 2
		}
		if j.submitted.IsZero() || w.now.Sub(j.submitted) <= bound {
			continue
		}
		if st, ok := w.state.Job(j.id); !ok || active(st.State) {
			w.violate("job %s not final %v after its submission: %v", j.id, bound, st)
		}
	}
}

// checkEnd checks what the log committed against each job's end.
func (w *simWorld) checkEnd() {
	for ref, n := range w.accepted {
		if n > 1 {
			w.violate("%s committed %d times", ref, n)
			return
		}
	}
	for l, s := range w.staged {
		st, _ := w.state.Job(l.ref.Job)
		info, _ := w.state.Task(l.ref)
		if w.worker(s.worker).gen != s.gen {
			// Its process died or restarted: the finalize removed it (the directory of an
			// attempt running then too), or the cleanup of a failed job will.
			continue
		}
		committed := info.Result != nil && info.Result.Attempt == s.attempt
		if st.State == pb.JobState_JOB_STATE_SUCCEEDED || !committed {
			w.violate("%s left the staging of %s attempt %d (epoch %d) although it runs nothing (job %v)",
				s.worker, l.ref, s.attempt, l.epoch, st.State)
		}
	}
	for _, j := range w.jobs {
		st, _ := w.state.Job(j.id)
		plan := fsm.TaskRef{Job: j.id, Kind: pb.TaskKind_TASK_KIND_PLAN}
		fin := fsm.TaskRef{Job: j.id, Kind: pb.TaskKind_TASK_KIND_FINALIZE}
		switch st.State {
		case pb.JobState_JOB_STATE_SUCCEEDED:
			w.stats.Succeeded++
			if w.accepted[plan] != 1 || w.accepted[fin] != 1 || int(st.Shards) != j.shards || st.Result == nil {
				w.violate("job %s succeeded with %d plan and %d finalize commits, %d shards of %d",
					j.id, w.accepted[plan], w.accepted[fin], st.Shards, j.shards)
			}
			for i := range j.shards {
				ref := fsm.TaskRef{Job: j.id, Kind: pb.TaskKind_TASK_KIND_SHARD, Index: uint32(i)}
				info, _ := w.state.Task(ref)
				if w.accepted[ref] != 1 || info.Result == nil || info.Result.Attempt != info.Attempt {
					w.violate("shard %s of a succeeded job: %d commits, result %v of attempt %d", ref, w.accepted[ref], info.Result, info.Attempt)
				}
			}
		case pb.JobState_JOB_STATE_FAILED, pb.JobState_JOB_STATE_CANCELED:
			if st.State == pb.JobState_JOB_STATE_FAILED {
				w.stats.Failed++
			} else {
				w.stats.Canceled++
			}
			if w.accepted[fin] != 0 {
				w.violate("job %s is %v but its finalize was committed", j.id, st.State)
			}
		}
	}
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return la[i] + "\n" + lb[i]
		}
	}
	return fmt.Sprintf("one trace is a prefix of the other (%d and %d lines)", len(la), len(lb))
}
