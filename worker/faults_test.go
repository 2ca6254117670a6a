package worker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	commitMethod       = "/tokenmill.v1.WorkerService/Commit"
	appendPlanMethod   = "/tokenmill.v1.WorkerService/AppendPlan"
	shardResultsMethod = "/tokenmill.v1.WorkerService/ShardResults"
)

// ledger records, at the workers' transport, every commit a coordinator accepted, so that
// a test can check that no task was committed twice.
type ledger struct {
	mu        sync.Mutex
	committed map[string]int // task key -> accepted commits
}

func newLedger() *ledger { return &ledger{committed: map[string]int{}} }

func taskKey(r *pb.TaskRef) string {
	return fmt.Sprintf("%s/%s/%d", r.GetJobId(), r.GetKind(), r.GetShard())
}

// interceptor records the accepted commits.
func (l *ledger) interceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if err == nil && method == commitMethod {
		l.mu.Lock()
		l.committed[taskKey(req.(*pb.CommitRequest).Commit.Task)]++
		l.mu.Unlock()
	}
	return err
}

// check fails the test unless every shard of the job and its plan and finalize were
// committed exactly once.
func (l *ledger) check(t *testing.T, job string, shards uint32) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	want := []*pb.TaskRef{{JobId: job, Kind: pb.TaskKind_TASK_KIND_PLAN}, {JobId: job, Kind: pb.TaskKind_TASK_KIND_FINALIZE}}
	for i := range shards {
		want = append(want, &pb.TaskRef{JobId: job, Kind: pb.TaskKind_TASK_KIND_SHARD, Shard: i})
	}
	for _, r := range want {
		if n := l.committed[taskKey(r)]; n != 1 {
			t.Errorf("%s committed %d times, want once", taskKey(r), n)
		}
	}
}

// hold is a fault at a worker's transport: the first call that match selects is held
// (until its context ends, or release), and which worker made it is sent on caught.
type hold struct {
	match   func(method string, req any) bool
	caught  chan string
	release chan struct{}

	mu   sync.Mutex
	done bool
	// by and task are the worker that made the held call and, for a commit, its task.
	by, task string
	// cut makes every call of the caught worker fail as unreachable while it is set.
	cut bool
	// after is the error the held call got once released.
	after error
}

func newHold(match func(method string, req any) bool) *hold {
	return &hold{match: match, caught: make(chan string, 1), release: make(chan struct{})}
}

// first reports whether this call is the one to hold.
func (h *hold) first(method string, req any) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done || !h.match(method, req) {
		return false
	}
	h.done = true
	return true
}

func (h *hold) setCut(v bool) {
	h.mu.Lock()
	h.cut = v
	h.mu.Unlock()
}

// unary is the interceptor of worker id.
func (h *hold) unary(id string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if h.first(method, req) {
			h.mu.Lock()
			h.by = id
			if r, ok := req.(*pb.CommitRequest); ok {
				h.task = taskKey(r.Commit.Task)
			}
			h.mu.Unlock()
			h.caught <- id
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-h.release:
			}
			err := invoker(ctx, method, req, reply, cc, opts...)
			h.mu.Lock()
			h.after = err
			h.mu.Unlock()
			return err
		}
		h.mu.Lock()
		cut := h.cut && h.by == id
		h.mu.Unlock()
		if cut {
			return status.Error(codes.Unavailable, "test: worker cut off")
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// stream is the stream interceptor of worker id.
func (h *hold) stream(id string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if h.first(method, nil) {
			h.caught <- id
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-h.release:
			}
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
}

// commitOf matches commits of tasks of kind.
func commitOf(kind pb.TaskKind) func(string, any) bool {
	return func(method string, req any) bool {
		r, ok := req.(*pb.CommitRequest)
		return ok && method == commitMethod && r.Commit.GetTask().GetKind() == kind
	}
}
