package members_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmill/tokenmill/internal/members"
	"github.com/tokenmill/tokenmill/internal/testcluster"
)

// syncBuffer is a log destination safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newAgent(t *testing.T, name string, key []byte, log *syncBuffer) *members.Agent {
	t.Helper()
	a, err := members.New(members.Config{Name: name, BindAddr: "127.0.0.1", SecretKey: key,
		Meta:   members.Meta{Role: members.RoleWorker, Version: "test"},
		Gossip: testcluster.Gossip(), Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown() })
	return a
}

// TestGossipKey: a node with the cluster's key joins; a node without a key, or with another
// key, cannot join and its join error says why.
func TestGossipKey(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{9}, 32)
	seed := newAgent(t, "seed", key, &syncBuffer{})
	tests := []struct {
		name    string
		key     []byte
		joins   bool
		wantErr string
	}{
		{"same key", key, true, ""},
		{"no key", nil, false, "gossip-key"},
		{"another key", other, false, "gossip-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &syncBuffer{}
			a := newAgent(t, strings.ReplaceAll(tt.name, " ", "-"), tt.key, log)
			err := a.Join([]string{seed.Addr()})
			t.Logf("join: %v\nlog: %s", err, log)
			if tt.joins {
				if err != nil {
					t.Fatalf("join with the cluster's key: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("joined without the cluster's key")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("join error %q does not say the gossip keys differ", err)
			}
		})
	}
}
