package coordinator_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
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
