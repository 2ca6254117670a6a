package members_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/members"
	"github.com/tokenmill/tokenmill/internal/testcluster"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMeta_RoundTrip(t *testing.T) {
	tests := []members.Meta{
		{Role: members.RoleCoordinator, GRPCAddr: "10.0.0.1:7000", RaftAddr: "10.0.0.1:7001", Version: "v1"},
		{Role: members.RoleWorker, GRPCAddr: "10.0.0.2:7100", Slots: 8, Tags: map[string]string{"gpu": "h100", "zone": "a"}, Version: "v1"},
	}
	for _, m := range tests {
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := members.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if got.Role != m.Role || got.GRPCAddr != m.GRPCAddr || got.RaftAddr != m.RaftAddr || got.Slots != m.Slots ||
			got.Version != m.Version || !maps.Equal(got.Tags, m.Tags) {
			t.Fatalf("round trip of %+v = %+v", m, got)
		}
	}
}

func TestMeta_Refusals(t *testing.T) {
	big := members.Meta{Role: members.RoleWorker, Tags: map[string]string{"k": strings.Repeat("v", 600)}}
	if _, err := big.Encode(); err == nil || !strings.Contains(err.Error(), "more than gossip's 512") {
		t.Fatalf("encode of oversized metadata: %v", err)
	}
	for _, b := range [][]byte{nil, {2, 1, 2}, {1, 0xff, 0xff}} {
		if _, err := members.Decode(b); !errors.Is(err, members.ErrMeta) {
			t.Fatalf("Decode(%v) = %v, want ErrMeta", b, err)
		}
	}
}

func start(t *testing.T, name string, role members.Role) *members.Agent {
	a, err := members.New(members.Config{Name: name, BindAddr: "127.0.0.1", Gossip: testcluster.Gossip(),
		Meta: members.Meta{Role: role, GRPCAddr: "127.0.0.1:1", Slots: 3}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown() })
	return a
}

// TestAgent_JoinAndDeath: two agents see each other with their metadata; when one stops,
// the other receives its leave event with state dead and lists it as dead.
func TestAgent_JoinAndDeath(t *testing.T) {
	a := start(t, "a", members.RoleCoordinator)
	b := start(t, "b", members.RoleWorker)
	if err := b.Join([]string{a.Addr()}); err != nil {
		t.Fatal(err)
	}
	testcluster.WaitFor(t, testcluster.Timeout, "the worker alive on a", func() error {
		if w := a.Alive(members.RoleWorker); len(w) != 1 || w[0].Name != "b" || w[0].Meta.Slots != 3 {
			return fmt.Errorf("alive workers = %+v", w)
		}
		return nil
	})
	b.Shutdown()
	testcluster.WaitFor(t, testcluster.Timeout, "a's event of b's death", func() error {
		select {
		case e := <-a.Events():
			if e.Kind == members.EventLeave && e.Member.Name == "b" && e.Member.State == members.StateDead {
				return nil
			}
			return fmt.Errorf("event %v %s %s", e.Kind, e.Member.Name, e.Member.State)
		default:
			return errors.New("no event yet")
		}
	})
	ms := a.Members()
	if len(ms) != 2 || ms[1].Name != "b" || ms[1].State != members.StateDead {
		t.Fatalf("members = %+v, want a and b dead", ms)
	}
}
