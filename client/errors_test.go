package client

import (
	"errors"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A call's error reads as one sentence: the coordinator's own words for a refusal, what went
// wrong with the connection otherwise; never gRPC's "rpc error: code = ...".
func TestExplain(t *testing.T) {
	c := &Client{addr: "127.0.0.1:7000"}
	tests := []struct {
		err  error
		want string
	}{
		{status.Error(codes.NotFound, `no such job: "x"`), `no such job: "x"`},
		{status.Error(codes.InvalidArgument, "coordinator: invalid request: job spec: name: required"), "invalid request: job spec: name: required"},
		{status.Error(codes.Unavailable, `connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:7000: connect: connection refused"`),
			"cannot reach a coordinator at 127.0.0.1:7000: connection refused"},
		{status.Error(codes.Unavailable, "no leader elected (is a majority of the coordinators up?)"),
			"job j: the coordinator at 127.0.0.1:7000 is unavailable: no leader elected (is a majority of the coordinators up?)"},
		{status.Error(codes.DeadlineExceeded, "context deadline exceeded"), "job j: the coordinator at 127.0.0.1:7000 did not answer in time"},
		{status.Error(codes.Unimplemented, "unknown service"), "job j: 127.0.0.1:7000 does not serve the cluster's API (is it a tokenmill coordinator of this version?)"},
		{errors.New("plain"), "job j: plain"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := c.explain(tt.err, "job j").Error(); got != tt.want {
				t.Errorf("explain(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}
