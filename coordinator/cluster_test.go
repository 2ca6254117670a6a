package coordinator_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestMain(m *testing.M) {
	testcluster.VerifyTestMain(m)
}

// ctx returns a context for one call of a test.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), testcluster.Timeout)
	t.Cleanup(cancel)
	return c
}

// peers returns the raft peers node i reports, as "id:state:voter" strings, sorted.
func peers(t *testing.T, c *testcluster.Cluster, i int) ([]string, error) {
	r, err := c.Cluster(i).RaftPeers(ctx(t), &pb.RaftPeersRequest{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range r.Peers {
		out = append(out, fmt.Sprintf("%s:%s:%v", p.Id, p.State, p.Voter))
	}
	slices.Sort(out)
	return out, nil
}

func TestCluster_FormsByBootstrapExpect(t *testing.T) {
	c := testcluster.New(t, 3)
	leader := c.Node(c.WaitLeader()).ID()
	for i := range c.Len() {
		testcluster.WaitFor(t, testcluster.Timeout, "three voters seen by every node", func() error {
			got, err := peers(t, c, i)
			if err != nil {
				return err
			}
			var want []string
			for _, id := range []string{"c1", "c2", "c3"} {
				state := "follower"
				if id == leader {
					state = "leader"
				}
				want = append(want, id+":"+state+":true")
			}
			if !slices.Equal(got, want) {
				return fmt.Errorf("node %d reports %v, want %v", i, got, want)
			}
			return nil
		})
	}
	r, err := c.Cluster(c.Followers()[0]).Members(ctx(t), &pb.MembersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range r.Members {
		got = append(got, m.Id+":"+m.Role+":"+m.State)
	}
	if want := []string{"c1:coordinator:alive", "c2:coordinator:alive", "c3:coordinator:alive"}; !slices.Equal(got, want) {
		t.Fatalf("members = %v, want %v", got, want)
	}
}

func TestCluster_LeaderKilled(t *testing.T) {
	c := testcluster.New(t, 3)
	old := c.WaitLeader()
	oldID := c.Node(old).ID()
	c.Kill(old)
	now := c.WaitLeader()
	if c.Node(now).ID() == oldID {
		t.Fatalf("the killed leader %s still leads", oldID)
	}
	// Both survivors answer a write, the follower through the new leader.
	for _, i := range []int{now, c.Followers()[0]} {
		r, err := c.Jobs(i).Submit(ctx(t), &pb.SubmitRequest{Spec: spec(t, fmt.Sprintf("after-%d", i))})
		if err != nil {
			t.Fatalf("submit to node %d: %v", i, err)
		}
		if _, err := c.Jobs(i).Get(ctx(t), &pb.GetRequest{JobId: r.JobId}); err != nil {
			t.Fatalf("get from node %d: %v", i, err)
		}
	}
	got, err := peers(t, c, now)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, c.Node(now).ID()+":leader:true") {
		t.Fatalf("peers = %v: the new leader is not reported as leader", got)
	}
}

// TestCluster_EveryCoordinatorRestartsAtNewAddresses: when every coordinator comes back at a
// raft address no configuration holds, raft dials them at the addresses gossip advertises:
// a leader is elected, it updates the configuration, and the jobs are there.
func TestCluster_EveryCoordinatorRestartsAtNewAddresses(t *testing.T) {
	c := testcluster.New(t, 3)
	kept := submit(t, c, c.WaitLeader(), spec(t, "kept"))
	before := map[string]string{}
	for i := range c.Len() {
		before[c.Node(i).ID()] = c.Node(i).Addrs().Raft
	}
	for i := range c.Len() {
		c.Kill(i)
	}
	for i := range c.Len() {
		if n := c.RestartMoved(i); n.Addrs().Raft == before[n.ID()] {
			t.Fatalf("%s restarted at its old raft address %s", n.ID(), before[n.ID()])
		}
	}
	now := c.WaitLeader()
	testcluster.WaitFor(t, testcluster.Timeout, "the configuration to hold the new raft addresses", func() error {
		r, err := c.Cluster(now).RaftPeers(ctx(t), &pb.RaftPeersRequest{})
		if err != nil {
			return err
		}
		for _, p := range r.Peers {
			for i := range c.Len() {
				if n := c.Node(i); n.ID() == p.Id && n.Addrs().Raft != p.Address {
					return fmt.Errorf("peer %s at %s, the node at %s", p.Id, p.Address, n.Addrs().Raft)
				}
			}
		}
		return nil
	})
	if _, ok := c.Node(now).FSM().Job(kept); !ok {
		t.Fatalf("the leader after the restart lost job %s", kept)
	}
	submit(t, c, now, spec(t, "after"))
}

func TestCluster_RestartRecoversFromDataDir(t *testing.T) {
	c := testcluster.New(t, 3)
	leader := c.WaitLeader()
	kept := submit(t, c, leader, spec(t, "kept"))
	canceled := submit(t, c, leader, spec(t, "canceled"))
	if _, err := c.Jobs(leader).Cancel(ctx(t), &pb.CancelRequest{JobId: canceled, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	// One follower restarted alone catches up and rejoins.
	f := c.Followers()[0]
	c.Kill(f)
	c.Restart(f)
	c.WaitLeader()
	// Then every coordinator at once: the state can only come from the data directories.
	for i := range c.Len() {
		c.Kill(i)
	}
	for i := range c.Len() {
		c.Restart(i)
	}
	now := c.WaitLeader()
	for i := range c.Len() {
		testcluster.WaitFor(t, testcluster.Timeout, "the jobs on every restarted node", func() error {
			a, okA := c.Node(i).FSM().Job(kept)
			b, okB := c.Node(i).FSM().Job(canceled)
			if !okA || !okB || a.State != pb.JobState_JOB_STATE_PLANNING || b.State != pb.JobState_JOB_STATE_CANCELED || b.Error != "canceled: test" {
				return fmt.Errorf("node %d holds %v and %v", i, a, b)
			}
			return nil
		})
	}
	r, err := c.Jobs(c.Followers()[0]).List(ctx(t), &pb.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Jobs) != 2 || r.Jobs[0].JobId != kept {
		t.Fatalf("list after restart = %v", r.Jobs)
	}
	if got, _ := peers(t, c, now); len(got) != 3 {
		t.Fatalf("peers after restart = %v, want the same three", got)
	}
}

func TestCluster_LateCoordinatorIsAddedAndRemoved(t *testing.T) {
	c := testcluster.New(t, 3)
	i := c.Add()
	testcluster.WaitFor(t, testcluster.Timeout, "the late coordinator added as a voter", func() error {
		got, err := peers(t, c, i)
		if err != nil {
			return err
		}
		if !slices.Contains(got, "c4:follower:true") || len(got) != 4 {
			return fmt.Errorf("peers = %v", got)
		}
		return nil
	})
	c.Kill(i)
	if _, err := c.Cluster(c.Followers()[0]).RemovePeer(ctx(t), &pb.RemovePeerRequest{Id: "c4"}); err != nil {
		t.Fatalf("remove-peer through a follower: %v", err)
	}
	got, err := peers(t, c, c.WaitLeader())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, "c4:") }) {
		t.Fatalf("peers after remove = %v", got)
	}
	_, err = c.Cluster(0).RemovePeer(ctx(t), &pb.RemovePeerRequest{Id: "c9"})
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), `no such raft peer: "c9"`) {
		t.Fatalf("remove of an unknown peer: %v, want NotFound naming it", err)
	}
}

func TestJobService_SubmitRefusals(t *testing.T) {
	c := testcluster.New(t, 1)
	abs := spec(t, "ok")
	tests := []struct {
		name string
		spec []byte
		code codes.Code
		want string
	}{
		{"empty", nil, codes.InvalidArgument, "invalid request: the job spec is empty"},
		{"unknown key", append(abs, "colour: red\n"...), codes.InvalidArgument, "colour: unknown key"},
		{"invalid value", append(abs, "max_attempts: 0\n"...), codes.InvalidArgument, "max_attempts: must be between 1 and 1000"},
		{"relative paths", []byte("name: rel\ninputs: [data/*.jsonl]\ntokenizer: ./tok.tiktoken:cl100k_base\noutput: {dir: out}\n"),
			codes.InvalidArgument, `relative paths in a cluster job (the coordinator cannot tell what they are relative to; submit with the CLI, which makes them absolute): inputs[0].path "data/*.jsonl", output.dir "out", tokenizer "./tok.tiktoken:cl100k_base"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Jobs(0).Submit(ctx(t), &pb.SubmitRequest{Spec: tt.spec})
			if status.Code(err) != tt.code || !strings.Contains(status.Convert(err).Message(), tt.want) {
				t.Fatalf("submit: %v, want %v with %q", err, tt.code, tt.want)
			}
		})
	}
	// A repeated submission with the same id is answered with the id; another spec is refused.
	for _, s := range [][]byte{abs, abs} {
		r, err := c.Jobs(0).Submit(ctx(t), &pb.SubmitRequest{Spec: s, JobId: "fixed-1"})
		if err != nil || r.JobId != "fixed-1" {
			t.Fatalf("submit with an id: %v %v", r, err)
		}
	}
	_, err := c.Jobs(0).Submit(ctx(t), &pb.SubmitRequest{Spec: spec(t, "other"), JobId: "fixed-1"})
	if status.Code(err) != codes.AlreadyExists {
		t.Fatalf("another spec under a used id: %v, want AlreadyExists", err)
	}
	_, err = c.Jobs(0).Get(ctx(t), &pb.GetRequest{JobId: "nope"})
	if status.Code(err) != codes.NotFound || status.Convert(err).Message() != `no such job: "nope"` {
		t.Fatalf("get of an unknown job: %v", err)
	}
	if _, err := c.Jobs(0).Cancel(ctx(t), &pb.CancelRequest{JobId: "fixed-1"}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Jobs(0).Cancel(ctx(t), &pb.CancelRequest{JobId: "fixed-1"})
	if err != nil {
		t.Fatalf("a repeated cancel: %v", err)
	}
}

func TestNode_HealthzAndMetrics(t *testing.T) {
	c := testcluster.New(t, 1)
	submit(t, c, 0, spec(t, "metrics"))
	base := "http://" + c.Node(0).Addrs().HTTP
	res, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"raft_state":"leader"`) {
		t.Fatalf("healthz = %d %s", res.StatusCode, body)
	}
	res, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{`tokenmill_tasks{state="pending"} 1`, `tokenmill_jobs{state="planning"} 1`,
		`tokenmill_raft_state{state="leader"} 1`, "tokenmill_workers_alive 0", `tokenmill_slots{state="busy"} 0`,
		"tokenmill_tokens_committed_total 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
