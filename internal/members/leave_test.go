package members

import (
	"net"
	"testing"

	"github.com/hashicorp/memberlist"
)

// TestAgent_LeaveMessage: a member's leave is told from its death by the leave message,
// whether it arrives before memberlist reports the member gone or after; a member that
// joins again is alive and no longer marked.
func TestAgent_LeaveMessage(t *testing.T) {
	meta, err := Meta{Role: RoleWorker, GRPCAddr: "127.0.0.1:1"}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	node := &memberlist.Node{Name: "w", Addr: net.IPv4(127, 0, 0, 1), Port: 1, Meta: meta}
	msg := append([]byte{msgLeaving}, "w"...)
	tests := []struct {
		name  string
		steps func(a *Agent)
		want  State
	}{
		{"no message: dead", func(a *Agent) { eventDelegate{a}.NotifyLeave(node) }, StateDead},
		{"message first: left", func(a *Agent) {
			delegate{a}.NotifyMsg(msg)
			eventDelegate{a}.NotifyLeave(node)
		}, StateLeft},
		{"message late: left", func(a *Agent) {
			eventDelegate{a}.NotifyLeave(node)
			delegate{a}.NotifyMsg(msg)
		}, StateLeft},
		{"joined again: alive", func(a *Agent) {
			delegate{a}.NotifyMsg(msg)
			eventDelegate{a}.NotifyLeave(node)
			eventDelegate{a}.NotifyJoin(node)
		}, StateAlive},
		{"joined again, then died: dead", func(a *Agent) {
			delegate{a}.NotifyMsg(msg)
			eventDelegate{a}.NotifyLeave(node)
			eventDelegate{a}.NotifyJoin(node)
			eventDelegate{a}.NotifyLeave(node)
		}, StateDead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(Config{Name: "a", BindAddr: "127.0.0.1", Meta: Meta{Role: RoleCoordinator}})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Shutdown()
			eventDelegate{a}.NotifyJoin(node)
			tt.steps(a)
			for _, m := range a.Members() {
				if m.Name == "w" && m.State != tt.want {
					t.Fatalf("w is %s, want %s", m.State, tt.want)
				}
			}
		})
	}
}
