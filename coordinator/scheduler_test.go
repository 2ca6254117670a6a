package coordinator_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/coordinator"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/internal/members"
	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

var ttl = coordinator.DefaultConfig().LeaseTTL

// TestScheduler_JobThroughFollowers runs a job from submission to success with the client
// and the worker talking to followers only: the plan, its batches, the shards (committed
// concurrently), the finalize with its shard results, and a Watch that ends with success.
func TestScheduler_JobThroughFollowers(t *testing.T) {
	c := testcluster.New(t, 3)
	c.WaitLeader()
	f := c.Followers()
	id := submit(t, c, f[0], spec(t, "through-followers"))
	got, err := c.Jobs(f[1]).Get(ctx(t), &pb.GetRequest{JobId: id})
	if err != nil {
		t.Fatalf("get through the other follower: %v", err)
	}
	if got.Job.State != pb.JobState_JOB_STATE_PLANNING || got.Job.MaxAttempts != 3 {
		t.Fatalf("job = %v, want planning with max_attempts 3", got.Job)
	}
	watch, err := c.Jobs(f[1]).Watch(ctx(t), &pb.WatchRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan *pb.JobEvent, 1000)
	go func() {
		defer close(events)
		for {
			e, err := watch.Recv()
			if err != nil {
				if err != io.EOF {
					events <- &pb.JobEvent{Job: &pb.JobStatus{Error: "watch: " + err.Error()}}
				}
				return
			}
			events <- e
		}
	}()

	w := newWorker(t, "w1", c.Workers(f[1]))
	plan := w.beat(4, nil)
	if len(plan) != 1 || plan[0].Task.Kind != pb.TaskKind_TASK_KIND_PLAN || plan[0].Attempt != 0 {
		t.Fatalf("first assignments = %v, want the plan task, attempt 0", plan)
	}
	if !strings.Contains(string(plan[0].JobSpec), "through-followers") {
		t.Fatalf("assignment carries job spec %q", plan[0].JobSpec)
	}
	for i, batch := range [][]byte{shardSpec(0), shardSpec(1), shardSpec(2)} {
		if _, err := w.client.AppendPlan(ctx(t), &pb.AppendPlanRequest{WorkerId: w.id, Task: plan[0].Task,
			Epoch: plan[0].Epoch, FirstIndex: uint32(i), ShardSpecs: [][]byte{batch}}); err != nil {
			t.Fatalf("append plan batch %d: %v", i, err)
		}
	}
	if err := w.commit(plan[0], &pb.TaskCommit{Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{Shards: 3}}}); err != nil {
		t.Fatalf("commit plan: %v", err)
	}

	shards := w.beat(2, nil)
	if len(shards) != 2 || shards[0].Task.Shard != 0 || shards[1].Task.Shard != 1 || string(shards[1].ShardSpec) != string(shardSpec(1)) {
		t.Fatalf("shard assignments = %v, want shards 0 and 1 with their specs", shards)
	}
	w.beat(0, &pb.Progress{Tokens: 7})
	got, err = c.Jobs(f[0]).Get(ctx(t), &pb.GetRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	if got.Job.Progress.Tokens != 14 || got.Job.Tasks.Leased != 2 || got.Job.Shards != 3 {
		t.Fatalf("job = %v, want 2 leased shards of 3 and the live progress of 14 tokens", got.Job)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(shards))
	for i, a := range shards {
		wg.Go(func() { errs[i] = w.commit(a, shardCommit(a, 100)) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent shard commits: %v", err)
	}
	last := w.beat(1, nil)
	if len(last) != 1 || last[0].Task.Shard != 2 {
		t.Fatalf("assignments = %v, want shard 2", last)
	}
	if err := w.commit(last[0], shardCommit(last[0], 100)); err != nil {
		t.Fatal(err)
	}
	// A commit repeated after a lost answer succeeds.
	if err := w.commit(last[0], shardCommit(last[0], 100)); err != nil {
		t.Fatalf("repeated commit: %v", err)
	}

	fin := w.beat(1, nil)
	if len(fin) != 1 || fin[0].Task.Kind != pb.TaskKind_TASK_KIND_FINALIZE {
		t.Fatalf("assignments = %v, want the finalize task", fin)
	}
	stream, err := w.client.ShardResults(ctx(t), &pb.ShardResultsRequest{Task: fin[0].Task, Epoch: fin[0].Epoch})
	if err != nil {
		t.Fatal(err)
	}
	var results []*pb.ShardResult
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("shard results: %v", err)
		}
		results = append(results, chunk.Results...)
	}
	if len(results) != 3 || results[2].Dir != "000002/0" || results[0].TokensTrain != 100 {
		t.Fatalf("shard results = %v", results)
	}
	final := &pb.FinalizeResult{Manifest: &pb.FileRef{Name: "manifest.json", Bytes: 10}, TokensTrain: 300}
	if err := w.commit(fin[0], &pb.TaskCommit{Result: &pb.TaskCommit_Finalize{Finalize: final}}); err != nil {
		t.Fatalf("commit finalize: %v", err)
	}

	var lastEvent *pb.JobEvent
	for e := range events {
		if e.Job.Error != "" {
			t.Fatal(e.Job.Error)
		}
		lastEvent = e
	}
	if lastEvent == nil || lastEvent.Job.State != pb.JobState_JOB_STATE_SUCCEEDED || !proto.Equal(lastEvent.Job.Result, final) {
		t.Fatalf("last watch event = %v, want the job succeeded with its result", lastEvent)
	}
	for i := range c.Len() {
		testcluster.WaitFor(t, testcluster.Timeout, "every replica to hold the succeeded job", func() error {
			st, ok := c.Node(i).FSM().Job(id)
			if !ok || st.State != pb.JobState_JOB_STATE_SUCCEEDED || st.Tasks.Committed != 5 {
				return fmt.Errorf("node %d: %v", i, st)
			}
			return nil
		})
	}
}

// waitTimer waits until the leader's expiry loop has set its timer on the fake clock.
func waitTimer(t *testing.T, c *testcluster.Cluster) {
	testcluster.WaitFor(t, testcluster.Timeout, "the leader's lease timer", func() error {
		if c.Clock.Pending() == 0 {
			return errors.New("no timer set")
		}
		return nil
	})
}

// waitTask waits until node i's FSM shows the task in the state check accepts.
func waitTask(t *testing.T, c *testcluster.Cluster, i int, ref fsm.TaskRef, what string, check func(fsm.TaskInfo) bool) fsm.TaskInfo {
	t.Helper()
	var info fsm.TaskInfo
	testcluster.WaitFor(t, testcluster.Timeout, what, func() error {
		var err error
		if info, err = task(c, i, ref); err != nil {
			return err
		}
		if !check(info) {
			return fmt.Errorf("task %s is %v attempt %d failures %d cause %q", ref, info.State, info.Attempt, info.Failures, info.Cause)
		}
		return nil
	})
	return info
}

func TestScheduler_LeaseExpiresAndStaleCommitIsRefused(t *testing.T) {
	c := testcluster.New(t, 3)
	leader := c.WaitLeader()
	id := submit(t, c, leader, spec(t, "expiry"))
	w := newWorker(t, "w1", c.Workers(c.Followers()[0]))
	a := w.beat(1, nil)
	if len(a) != 1 {
		t.Fatalf("assignments = %v", a)
	}
	waitTimer(t, c)
	c.Clock.Advance(ttl - time.Second)
	if info, _ := task(c, leader, planRef(id)); info.State != pb.TaskState_TASK_STATE_LEASED {
		t.Fatalf("the lease expired before its ttl: %v", info.State)
	}
	c.Clock.Advance(2 * time.Second)
	info := waitTask(t, c, leader, planRef(id), "the expired plan task pending again", func(i fsm.TaskInfo) bool {
		return i.State == pb.TaskState_TASK_STATE_PENDING
	})
	if info.Attempt != 1 || info.Failures != 1 || !strings.Contains(info.Cause, "lease expired: no heartbeat from worker w1") {
		t.Fatalf("after expiry: attempt %d failures %d cause %q, want attempt 1, one failure, the cause", info.Attempt, info.Failures, info.Cause)
	}

	err := w.commit(a[0], &pb.TaskCommit{Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{}}})
	if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "the lease is no longer current") {
		t.Fatalf("stale commit: %v, want FailedPrecondition saying the lease is no longer current", err)
	}
	// The next heartbeat tells the worker to stop it, and grants the next attempt.
	next := w.beat(1, nil)
	if len(w.stopped) != 1 || !strings.Contains(w.stopped[0].Reason, "taken back") {
		t.Fatalf("stop orders = %v, want the expired plan task", w.stopped)
	}
	if len(next) != 1 || next[0].Attempt != 1 || next[0].Epoch <= a[0].Epoch {
		t.Fatalf("assignments = %v, want attempt 1 under a new epoch", next)
	}
}

func TestScheduler_MaxAttemptsFailsTheJob(t *testing.T) {
	c := testcluster.New(t, 1)
	id := submit(t, c, 0, append(spec(t, "once"), "max_attempts: 1\n"...))
	w := newWorker(t, "w1", c.Workers(0))
	a := w.beat(1, nil)
	_, err := w.client.Fail(ctx(t), &pb.FailRequest{WorkerId: w.id, Failure: &pb.TaskFailure{Task: a[0].Task,
		Epoch: a[0].Epoch, Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "disk full"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Jobs(0).Get(ctx(t), &pb.GetRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	if want := "plan failed 1 times (max_attempts 1), last: disk full"; st.Job.State != pb.JobState_JOB_STATE_FAILED || st.Job.Error != want {
		t.Fatalf("job = %v %q, want failed with %q", st.Job.State, st.Job.Error, want)
	}
}

// TestScheduler_GossipDeath: a worker that gossip declares dead gets no new grant, and its
// lease lives only while its heartbeats renew it: silent, it loses the lease a third of the
// TTL after the death (not the whole TTL), with the death as the cause, also when the leader
// changes after the death (the new leader gives the lease no grace); still heartbeating
// over gRPC (its gossip stalled: a CPU-throttled container), it keeps the lease and
// commits, and no attempt is lost.
func TestScheduler_GossipDeath(t *testing.T) {
	for _, tt := range []struct {
		name                     string
		heartbeats, leaderChange bool
	}{{"silent", false, false}, {"silent, then the leader changes", false, true}, {"still heartbeating", true, false}} {
		heartbeats := tt.heartbeats
		t.Run(tt.name, func(t *testing.T) {
			c := testcluster.New(t, 3)
			leader := c.WaitLeader()
			id := submit(t, c, leader, spec(t, "dead-worker"))
			agent, err := members.New(members.Config{Name: "w9", BindAddr: "127.0.0.1", Gossip: testcluster.Gossip(),
				Meta: members.Meta{Role: members.RoleWorker, GRPCAddr: "127.0.0.1:1", Slots: 2, Version: "test"}})
			if err != nil {
				t.Fatal(err)
			}
			defer agent.Shutdown()
			if err := agent.Join([]string{c.Node(leader).Addrs().Gossip}); err != nil {
				t.Fatal(err)
			}
			waitWorker := func(state string, nodes ...int) {
				for _, i := range append(nodes, leader) {
					testcluster.WaitFor(t, testcluster.Timeout, fmt.Sprintf("the worker w9 %s to c%d", state, i+1), func() error {
						// As forwarded, the call is answered by c<i+1>'s own gossip.
						local := metadata.AppendToOutgoingContext(ctx(t), "tokenmill-forwarded-by", "test")
						r, err := c.Cluster(i).Members(local, &pb.MembersRequest{})
						if err != nil {
							return err
						}
						for _, m := range r.Members {
							if m.Id == "w9" && m.Role == "worker" && m.State == state {
								return nil
							}
						}
						return fmt.Errorf("members = %v", r.Members)
					})
				}
			}
			waitWorker("alive", c.Followers()...)
			w := newWorker(t, "w9", c.Workers(leader))
			a := w.beat(2, nil)
			if len(a) != 1 {
				t.Fatalf("assignments = %v", a)
			}
			waitTimer(t, c)
			agent.Shutdown()
			waitWorker("dead", c.Followers()...) // the next leader must know it dead too
			if info, _ := task(c, leader, planRef(id)); info.State != pb.TaskState_TASK_STATE_LEASED {
				t.Fatalf("the task is %v as soon as gossip declared its worker dead, want still leased", info.State)
			}
			if tt.leaderChange {
				c.Kill(leader)
				leader = c.WaitLeader()
			}
			if !heartbeats {
				// Time moves in steps of a thirtieth of the TTL: the death's wait (a third)
				// ends well before the TTL (or a new leader's grace) would.
				var info fsm.TaskInfo
				testcluster.WaitFor(t, testcluster.Timeout, "the dead worker's task pending again", func() error {
					info, _ = task(c, leader, planRef(id))
					if info.State == pb.TaskState_TASK_STATE_PENDING {
						return nil
					}
					c.Clock.Advance(ttl / 30)
					return fmt.Errorf("the task is %v", info.State)
				})
				if want := "worker w9 died (gossip declared it dead, and no heartbeat came after)"; info.Attempt != 1 || info.Cause != want {
					t.Fatalf("attempt %d cause %q, want attempt 1 and %q", info.Attempt, info.Cause, want)
				}
				return
			}
			// Heartbeats every tenth of the TTL, for twice the TTL: the lease stays, and the
			// worker, dead to gossip, is granted nothing new (the job's plan is all there is;
			// a second job's plan is pending).
			id2 := submit(t, c, leader, spec(t, "while-dead"))
			for range 20 {
				c.Clock.Advance(ttl / 10)
				if got := w.beat(1, nil); len(got) != 0 {
					t.Fatalf("a worker gossip declared dead was granted %v", got)
				}
			}
			if len(w.stopped) != 0 {
				t.Fatalf("stop orders %v, want none", w.stopped)
			}
			if err := w.commit(a[0], &pb.TaskCommit{Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{}}}); err != nil {
				t.Fatalf("commit of the worker gossip declared dead but heartbeating: %v", err)
			}
			info, _ := task(c, leader, planRef(id))
			if info.Failures != 0 || info.State != pb.TaskState_TASK_STATE_COMMITTED {
				t.Fatalf("the task is %v with %d failures, want committed with none", info.State, info.Failures)
			}
			if info, _ := task(c, leader, planRef(id2)); info.State != pb.TaskState_TASK_STATE_PENDING {
				t.Fatalf("the second job's plan is %v, want pending", info.State)
			}
		})
	}
}

// TestScheduler_StaleHeartbeat: a heartbeat delayed in the network (sent before the worker
// started a task, delivered after a later heartbeat listed it) is refused and takes nothing
// back; the heartbeats of a new incarnation of the worker (it restarted) are served from
// their first, and one that does not list the lease takes it back.
func TestScheduler_StaleHeartbeat(t *testing.T) {
	c := testcluster.New(t, 3)
	leader := c.WaitLeader()
	id := submit(t, c, leader, spec(t, "stale"))
	client := c.Workers(c.Followers()[0]) // through a follower, as delayed calls often go
	beat := func(inc, seq uint64, free uint32, running ...*pb.Assignment) (*pb.HeartbeatResponse, error) {
		req := &pb.HeartbeatRequest{WorkerId: "w1", Incarnation: inc, Seq: seq, FreeSlots: free}
		for _, a := range running {
			req.Running = append(req.Running, &pb.RunningTask{Task: a.Task, Epoch: a.Epoch})
		}
		return client.Heartbeat(ctx(t), req)
	}
	r, err := beat(7, 1, 1)
	if err != nil || len(r.Start) != 1 {
		t.Fatalf("first heartbeat: %v, %v; want the plan", r, err)
	}
	a := r.Start[0]
	if _, err := beat(7, 3, 0, a); err != nil {
		t.Fatalf("heartbeat listing the plan: %v", err)
	}
	// Seq 2 was sent before the plan started, and arrives now.
	if _, err := beat(7, 2, 1); status.Code(err) != codes.Aborted || !strings.Contains(err.Error(), "stale heartbeat") {
		t.Fatalf("the delayed heartbeat: %v, want refused as stale (Aborted)", err)
	}
	if _, err := beat(7, 3, 1); status.Code(err) != codes.Aborted {
		t.Fatalf("the same heartbeat again: %v, want refused as stale (Aborted)", err)
	}
	info, _ := task(c, leader, planRef(id))
	if info.State != pb.TaskState_TASK_STATE_LEASED || info.Lease.Epoch != a.Epoch || info.Failures != 0 {
		t.Fatalf("after the stale heartbeat the plan is %v under epoch %d with %d failures, want still leased under %d",
			info.State, info.Lease.Epoch, info.Failures, a.Epoch)
	}
	// The worker restarted: its first heartbeat is served, and it runs nothing.
	if _, err := beat(8, 1, 0); err != nil {
		t.Fatalf("the restarted worker's first heartbeat: %v", err)
	}
	info = waitTask(t, c, leader, planRef(id), "the restarted worker's lease taken back", func(i fsm.TaskInfo) bool {
		return i.State == pb.TaskState_TASK_STATE_PENDING
	})
	if !strings.Contains(info.Cause, "no longer runs it") {
		t.Fatalf("cause %q, want the worker no longer running it", info.Cause)
	}
}

// TestScheduler_LeaderChangeKeepsLeases: a new leader gives running tasks a grace period,
// the worker renews through a survivor, and its result commits under the old epoch.
func TestScheduler_LeaderChangeKeepsLeases(t *testing.T) {
	c := testcluster.New(t, 3)
	old := c.WaitLeader()
	id := submit(t, c, old, spec(t, "leader-change"))
	survivor := c.Followers()[0]
	w := newWorker(t, "w1", c.Workers(survivor))
	a := w.beat(1, nil)
	c.Kill(old)
	leader := c.WaitLeader()
	waitTimer(t, c)
	c.Clock.Advance(ttl + time.Second) // past the lease's ttl, within the grace
	if info, _ := task(c, leader, planRef(id)); info.State != pb.TaskState_TASK_STATE_LEASED {
		t.Fatalf("after the leader change the task is %v, want still leased", info.State)
	}
	w.beat(0, nil) // renews with the new leader
	c.Clock.Advance(ttl - time.Second)
	if err := w.commit(a[0], &pb.TaskCommit{Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{}}}); err != nil {
		t.Fatalf("commit under the old epoch after a leader change: %v", err)
	}
}
