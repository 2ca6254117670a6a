package worker_test

import (
	"context"
	"fmt"
	"strings"
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
	failMethod         = "/tokenmill.v1.WorkerService/Fail"
)

// ledger records, at the workers' transport, every commit a coordinator accepted, by the
// lease epoch it carried, so that a test can check that no task was committed twice: a task
// must have exactly one accepted epoch. (The same commit accepted again is a retry after a
// lost answer, which the coordinator answers with the result it holds.) A commit whose
// answer never came (its worker was killed during the call) may have been accepted: it is
// recorded as unknown.
type ledger struct {
	mu        sync.Mutex
	committed map[string]map[uint64]int  // task key -> epoch -> accepted commits
	unknown   map[string]map[uint64]bool // task key -> epochs of commits without an answer
}

func newLedger() *ledger {
	return &ledger{committed: map[string]map[uint64]int{}, unknown: map[string]map[uint64]bool{}}
}

// epochs returns the number of epochs under which the task's commits were accepted.
func (l *ledger) epochs(task string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.committed[task])
}

func taskKey(r *pb.TaskRef) string {
	return fmt.Sprintf("%s/%s/%d", r.GetJobId(), r.GetKind(), r.GetShard())
}

// interceptor records the accepted commits.
func (l *ledger) interceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	err := invoker(ctx, method, req, reply, cc, opts...)
	if method != commitMethod {
		return err
	}
	c := req.(*pb.CommitRequest).Commit
	k := taskKey(c.Task)
	l.mu.Lock()
	defer l.mu.Unlock()
	switch status.Code(err) {
	case codes.OK:
		if l.committed[k] == nil {
			l.committed[k] = map[uint64]int{}
		}
		l.committed[k][c.Epoch]++
	case codes.Canceled, codes.DeadlineExceeded, codes.Unavailable:
		if l.unknown[k] == nil {
			l.unknown[k] = map[uint64]bool{}
		}
		l.unknown[k][c.Epoch] = true
	}
	return err
}

// shardsCommitted returns the number of the job's shards (any job's with job "") with an
// accepted commit.
func (l *ledger) shardsCommitted(job string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for k := range l.committed {
		if (job == "" || strings.HasPrefix(k, job+"/")) && strings.Contains(k, "/"+pb.TaskKind_TASK_KIND_SHARD.String()+"/") {
			n++
		}
	}
	return n
}

// check fails the test unless every shard of the job and its plan and finalize were
// committed under exactly one lease: one accepted epoch, or none and a commit whose answer
// was lost (the worker killed during the call).
func (l *ledger) check(t *testing.T, job string, shards uint32) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	want := []*pb.TaskRef{{JobId: job, Kind: pb.TaskKind_TASK_KIND_PLAN}, {JobId: job, Kind: pb.TaskKind_TASK_KIND_FINALIZE}}
	for i := range shards {
		want = append(want, &pb.TaskRef{JobId: job, Kind: pb.TaskKind_TASK_KIND_SHARD, Shard: i})
	}
	for _, r := range want {
		k := taskKey(r)
		if e := l.committed[k]; len(e) > 1 || len(e) == 0 && len(l.unknown[k]) == 0 {
			t.Errorf("%s committed under %d leases (%v; without an answer: %v), want one", k, len(e), e, l.unknown[k])
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
