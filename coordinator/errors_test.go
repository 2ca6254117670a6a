package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestToStatus(t *testing.T) {
	tests := []struct {
		err  error
		code codes.Code
		msg  string
	}{
		{nil, codes.OK, ""},
		{fmt.Errorf("%w: j1/shard/3: epoch 5, current lease 9", fsm.ErrStaleEpoch), codes.FailedPrecondition,
			"the lease is no longer current (it expired or the task went to another worker): j1/shard/3: epoch 5, current lease 9"},
		{fmt.Errorf("%w: job j1 is succeeded", fsm.ErrJobFinal), codes.FailedPrecondition, "the job is already over: job j1 is succeeded"},
		{fmt.Errorf("%w: j1/plan", fsm.ErrCommitted), codes.AlreadyExists, "the task already has its result (the first accepted result wins): j1/plan"},
		{fmt.Errorf("%w: %q", fsm.ErrUnknownJob, "x"), codes.NotFound, `no such job: "x"`},
		{fmt.Errorf("coordinator: grant_leases: %w", raft.ErrNotLeader), codes.Unavailable, "coordinator: grant_leases: this coordinator is not the leader"},
		{context.DeadlineExceeded, codes.DeadlineExceeded, "timed out"},
		{status.Error(codes.Aborted, "as is"), codes.Aborted, "as is"},
		{errors.New("disk on fire"), codes.Internal, "disk on fire"},
	}
	for _, tt := range tests {
		st := status.Convert(toStatus(tt.err))
		if st.Code() != tt.code || st.Message() != tt.msg {
			t.Errorf("toStatus(%v) = %v %q, want %v %q", tt.err, st.Code(), st.Message(), tt.code, tt.msg)
		}
	}
}

func TestMayRetry(t *testing.T) {
	tests := []struct {
		err        error
		idempotent bool
		want       bool
	}{
		{raft.ErrNotLeader, false, true},
		{toStatus(ErrNotLeader), false, true},
		{ErrNoLeader, false, true},
		{raft.ErrLeadershipLost, false, false},
		{raft.ErrLeadershipLost, true, true},
		{status.Error(codes.Unavailable, "connection refused"), false, false},
		{status.Error(codes.Unavailable, "connection refused"), true, true},
		{fsm.ErrStaleEpoch, true, false},
	}
	for _, tt := range tests {
		if got := mayRetry(tt.err, tt.idempotent); got != tt.want {
			t.Errorf("mayRetry(%v, %v) = %v, want %v", tt.err, tt.idempotent, got, tt.want)
		}
	}
}

func TestConfig_Validate(t *testing.T) {
	ok := DefaultConfig()
	ok.ID, ok.DataDir, ok.BindAddr = "c1", "/var/lib/tokenmill", "10.0.0.1"
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"no id", func(c *Config) { c.ID = "" }, "coordinator: an id is required"},
		{"unspecified bind", func(c *Config) { c.BindAddr = "0.0.0.0" }, `bind address "0.0.0.0": want the IP address other nodes reach this one at`},
		{"port", func(c *Config) { c.GRPCPort = 70000 }, "grpc port 70000 out of range"},
		{"grace below ttl", func(c *Config) { c.LeaseGrace = c.LeaseTTL / 2 }, "lease grace 5s must be at least the lease ttl 10s"},
		{"zero ttl", func(c *Config) { c.LeaseTTL = 0 }, "lease ttl must be > 0"},
		{"negative expect", func(c *Config) { c.BootstrapExpect = -1 }, "bootstrap-expect -1: want 0 or more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
