package members_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
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
		{Role: members.RoleWorker, GRPCAddr: "10.0.0.3:7100", Slots: 1, Version: "v1", Leaving: true},
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
			got.Version != m.Version || got.Leaving != m.Leaving || !maps.Equal(got.Tags, m.Tags) {
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

// TestAgent_States: two agents see each other alive with their metadata; when one stops
// (a crash) the other lists it dead and receives its leave event with state dead, and when it
// leaves on purpose, left. Alive lists neither.
func TestAgent_States(t *testing.T) {
	tests := []struct {
		name string
		stop func(*members.Agent) error
		want members.State
	}{
		{"crash", func(b *members.Agent) error { return b.Shutdown() }, members.StateDead},
		{"leave", func(b *members.Agent) error { return b.Leave(testcluster.Timeout) }, members.StateLeft},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
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
			want := []string{"a alive", "b alive"}
			if got := states(a.Members()); !slices.Equal(got, want) {
				t.Fatalf("members before = %v, want %v", got, want)
			}
			if err := tt.stop(b); err != nil {
				t.Fatal(err)
			}
			testcluster.WaitFor(t, testcluster.Timeout, "a's leave event of b", func() error {
				for {
					select {
					case e := <-a.Events():
						if e.Kind == members.EventLeave && e.Member.Name == "b" {
							if e.Member.State != tt.want {
								t.Fatalf("leave event of b with state %s, want %s", e.Member.State, tt.want)
							}
							return nil
						}
					default:
						return errors.New("no leave event yet")
					}
				}
			})
			want = []string{"a alive", "b " + string(tt.want)}
			if got := states(a.Members()); !slices.Equal(got, want) {
				t.Fatalf("members after = %v, want %v", got, want)
			}
			if w := a.Alive(members.RoleWorker); len(w) != 0 {
				t.Fatalf("alive workers after = %+v, want none", w)
			}
		})
	}
}

// TestAgent_Rejoin: a member that left and comes back under the same name (a restarted
// worker) is alive again, without its leaving mark.
func TestAgent_Rejoin(t *testing.T) {
	a := start(t, "a", members.RoleCoordinator)
	b := start(t, "b", members.RoleWorker)
	if err := b.Join([]string{a.Addr()}); err != nil {
		t.Fatal(err)
	}
	waitStates(t, a, "a alive", "b alive")
	if err := b.Leave(testcluster.Timeout); err != nil {
		t.Fatal(err)
	}
	b.Shutdown()
	waitStates(t, a, "a alive", "b left")
	b2 := start(t, "b", members.RoleWorker)
	if err := b2.Join([]string{a.Addr()}); err != nil {
		t.Fatal(err)
	}
	waitStates(t, a, "a alive", "b alive")
	for _, m := range a.Members() {
		if m.Meta.Leaving {
			t.Fatalf("%s still marked leaving after it came back", m.Name)
		}
	}
}

func waitStates(t *testing.T, a *members.Agent, want ...string) {
	t.Helper()
	testcluster.WaitFor(t, testcluster.Timeout, fmt.Sprintf("members %v", want), func() error {
		if got := states(a.Members()); !slices.Equal(got, want) {
			return fmt.Errorf("members = %v", got)
		}
		return nil
	})
}

// states returns "name state" of each member.
func states(ms []members.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name+" "+string(m.State))
	}
	return out
}
