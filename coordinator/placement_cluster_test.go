package coordinator_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/members"
	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// gossipWorker joins the cluster's gossip as a worker named id with tags, as a worker
// process does, and waits until the leader lists it alive; cleanup leaves.
func gossipWorker(t *testing.T, c *testcluster.Cluster, leader int, id string, tags map[string]string) *members.Agent {
	t.Helper()
	agent, err := members.New(members.Config{Name: id, BindAddr: "127.0.0.1", Gossip: testcluster.Gossip(),
		Meta: members.Meta{Role: members.RoleWorker, GRPCAddr: "127.0.0.1:1", Slots: 2, Tags: tags, Version: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Shutdown() })
	if err := agent.Join([]string{c.Node(leader).Addrs().Gossip}); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, testcluster.Timeout, "worker "+id+" alive among the members", func() error {
		m, err := member(t, c, leader, id)
		if err == nil && m.State != "alive" {
			err = fmt.Errorf("%s is %s", id, m.State)
		}
		return err
	})
	return agent
}

// member returns a member as node i's Members call lists it.
func member(t *testing.T, c *testcluster.Cluster, i int, id string) (*pb.Member, error) {
	r, err := c.Cluster(i).Members(ctx(t), &pb.MembersRequest{})
	if err != nil {
		return nil, err
	}
	for _, m := range r.Members {
		if m.Id == id {
			return m, nil
		}
	}
	return nil, fmt.Errorf("no member %s in %v", id, r.Members)
}

// unplaceable returns the job's unplaceable as node i's Get says it.
func unplaceable(t *testing.T, c *testcluster.Cluster, i int, id string) string {
	t.Helper()
	r, err := c.Jobs(i).Get(ctx(t), &pb.GetRequest{JobId: id})
	if err != nil {
		t.Fatal(err)
	}
	return r.Job.Unplaceable
}

// TestScheduler_ConstraintsOnGossipTags: a job's tasks go only to the workers whose gossip
// tags satisfy its constraints; Get through a follower says which constraint matches no
// alive worker, and says it again when the only matching worker dies.
func TestScheduler_ConstraintsOnGossipTags(t *testing.T) {
	c := testcluster.New(t, 3)
	leader := c.WaitLeader()
	f := c.Followers()[0]
	gossipWorker(t, c, leader, "cpu", map[string]string{"zone": "a"})
	gpuAgent := gossipWorker(t, c, leader, "gpu", map[string]string{"zone": "b", "gpu": "h100"})
	withC := func(name, cons string) []byte {
		return append(spec(t, name), "constraints: "+cons+"\n"...)
	}
	onGPU := submit(t, c, leader, withC("on-gpu", "[gpu=h100]"))
	nowhere := submit(t, c, leader, withC("nowhere", "[gpu=a100]"))
	apart := submit(t, c, leader, withC("apart", "[gpu, zone=a]"))

	cpu, gpu := newWorker(t, "cpu", c.Workers(f)), newWorker(t, "gpu", c.Workers(f))
	if a := cpu.beat(4, nil); len(a) != 0 {
		t.Fatalf("cpu got %v, want nothing: every job needs a gpu", a)
	}
	if a := gpu.beat(4, nil); len(a) != 1 || a[0].Task.JobId != onGPU {
		t.Fatalf("gpu got %v, want the plan of %s only", a, onGPU)
	}
	for _, tt := range []struct{ job, want string }{
		{onGPU, ""},
		{nowhere, "constraint gpu=a100 matches no alive worker"},
		{apart, "no alive worker matches all of gpu, zone=a"},
	} {
		if got := unplaceable(t, c, f, tt.job); got != tt.want {
			t.Errorf("job %s: unplaceable %q, want %q", tt.job, got, tt.want)
		}
	}
	gpuAgent.Shutdown()
	testcluster.WaitFor(t, testcluster.Timeout, "the gpu worker's death in the job's status", func() error {
		if got := unplaceable(t, c, f, onGPU); got != "constraint gpu=h100 matches no alive worker" {
			return fmt.Errorf("unplaceable %q", got)
		}
		return nil
	})
}

// TestScheduler_CooldownInMembersAndMetrics: a worker whose attempts fail three times while
// another commits gets no task for a minute of the cluster's clock; members (through a
// follower) and the leader's /metrics show the cool-down until it ends.
func TestScheduler_CooldownInMembersAndMetrics(t *testing.T) {
	c := testcluster.New(t, 3)
	leader := c.WaitLeader()
	f := c.Followers()[0]
	gossipWorker(t, c, leader, "sick", nil)
	gossipWorker(t, c, leader, "good", nil)
	id := submit(t, c, leader, append(spec(t, "cooldown"), "max_attempts: 10\n"...))
	good, sick := newWorker(t, "good", c.Workers(leader)), newWorker(t, "sick", c.Workers(leader))
	plan := good.beat(1, nil)
	var specs [][]byte
	for i := range 8 {
		specs = append(specs, shardSpec(i))
	}
	if _, err := good.client.AppendPlan(ctx(t), &pb.AppendPlanRequest{WorkerId: "good", Task: plan[0].Task,
		Epoch: plan[0].Epoch, ShardSpecs: specs}); err != nil {
		t.Fatal(err)
	}
	if err := good.commit(plan[0], &pb.TaskCommit{Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{Shards: 8}}}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		a := sick.beat(1, nil)
		if len(a) != 1 {
			t.Fatalf("sick got %v before failure %d, want a task", a, i+1)
		}
		if _, err := sick.client.Fail(ctx(t), &pb.FailRequest{WorkerId: "sick", Failure: &pb.TaskFailure{Task: a[0].Task,
			Epoch: a[0].Epoch, Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "read /data/in/0.jsonl: input/output error"}}); err != nil {
			t.Fatal(err)
		}
		delete(sick.running, refKey(a[0].Task))
	}
	want := c.Clock.Now().Add(time.Minute).UnixMilli()
	if m, err := member(t, c, f, "sick"); err != nil || m.CooldownUntilUnixMs != want {
		t.Fatalf("members: sick is %v (%v), want a cool-down until %d", m, err, want)
	}
	if m, err := member(t, c, f, "good"); err != nil || m.CooldownUntilUnixMs != 0 {
		t.Fatalf("members: good is %v (%v), want no cool-down", m, err)
	}
	if a := sick.beat(2, nil); len(a) != 0 {
		t.Fatalf("sick got %v while it cools down", a)
	}
	if a := good.beat(2, nil); len(a) != 2 {
		st, _ := c.Jobs(leader).Get(ctx(t), &pb.GetRequest{JobId: id})
		t.Fatalf("good got %v, want 2 tasks; job %v", a, st)
	}
	body := metrics(t, c, leader)
	for _, want := range []string{`tokenmill_worker_cooling{worker="sick"} 1`, `tokenmill_worker_cooldown_seconds{worker="sick"} 60`,
		"tokenmill_worker_cooldowns_total 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	c.Clock.Advance(time.Minute)
	if m, err := member(t, c, f, "sick"); err != nil || m.CooldownUntilUnixMs != 0 {
		t.Fatalf("members after the cool-down: sick is %v (%v)", m, err)
	}
	if a := sick.beat(1, nil); len(a) != 1 {
		t.Fatalf("sick got %v after its cool-down, want a task", a)
	}
	if body := metrics(t, c, leader); strings.Contains(body, "tokenmill_worker_cooling{") {
		t.Errorf("metrics still show a cool-down:\n%s", body)
	}
}

// metrics returns node i's /metrics.
func metrics(t *testing.T, c *testcluster.Cluster, i int) string {
	t.Helper()
	res, err := http.Get("http://" + c.Node(i).Addrs().HTTP + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	defer http.DefaultClient.CloseIdleConnections()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
