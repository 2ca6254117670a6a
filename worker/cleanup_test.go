package worker_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// A job that is canceled, or fails (an input error, or a shard that reaches max_attempts),
// after some of its shards committed their staged files: a worker ordered by the leader
// removes the job's staging area once no task of the job runs, the job's status says it is
// cleaned, and nothing is published.
func TestCluster_CleanupAfterCancelAndFailure(t *testing.T) {
	tests := []struct {
		name string
		// fault returns the transport fault the workers get and, once the job is submitted,
		// drives the job to its end.
		fault func(t *testing.T, l *ledger) (grpc.UnaryClientInterceptor, func(c *testcluster.Cluster, id, dir string))
		spec  func(t *testing.T, dir string) string
		want  pb.JobState
		err   string // in the job's error
	}{
		{"canceled", cancelFault, func(_ *testing.T, dir string) string { return pretrainSpec(dir, "cancel") },
			pb.JobState_JOB_STATE_CANCELED, "canceled: test"},
		{"failed: input error", inputErrorFault, func(t *testing.T, dir string) string {
			writeCutGzip(t, dir)
			return strings.Replace(pretrainSpec(dir, "input"), "*.jsonl", "*.jsonl*", 1)
		}, pb.JobState_JOB_STATE_FAILED, "part-99.jsonl.gz"},
		{"failed: max_attempts", maxAttemptsFault, func(_ *testing.T, dir string) string {
			return pretrainSpec(dir, "attempts") + "max_attempts: 1\n"
		}, pb.JobState_JOB_STATE_FAILED, "max_attempts 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedger()
			fault, drive := tt.fault(t, l)
			c := testcluster.Start(t, testcluster.Options{Coordinators: 3, Workers: 3,
				Worker: func(_ int, cfg *worker.Config) {
					cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(l.interceptor, fault))
				}})
			dir := t.TempDir()
			writeCorpus(t, dir, 3, 300, true)
			id := submit(t, c, 0, tt.spec(t, dir))
			drive(c, id, dir)
			st := waitState(t, c, id, tt.want)
			if !strings.Contains(st.Error, tt.err) {
				t.Errorf("the job's error %q does not name %q", st.Error, tt.err)
			}
			if n := l.shardsCommitted(id); n == 0 {
				t.Fatal("no shard committed before the job ended: the test stages nothing to remove")
			}
			testcluster.WaitFor(t, jobTimeout, "the job cleaned", func() error {
				s, err := jobStatus(c, id)
				if err != nil {
					return err
				}
				if !s.Cleaned {
					return fmt.Errorf("job %s is not cleaned", id)
				}
				return nil
			})
			out := filepath.Join(dir, "out")
			noLeftovers(t, out)
			nothingPublished(t, out)
		})
	}
}

// cancelFault holds a shard commit made once two shards committed; meanwhile the job is
// canceled (its staging holds the committed shards' files), then the commit goes on and is
// refused.
func cancelFault(t *testing.T, l *ledger) (grpc.UnaryClientInterceptor, func(*testcluster.Cluster, string, string)) {
	h := newHold(func(method string, req any) bool {
		return commitOf(pb.TaskKind_TASK_KIND_SHARD)(method, req) && l.shardsCommitted("") >= 2
	})
	return h.unary("any"), func(c *testcluster.Cluster, id, dir string) {
		caught(t, h)
		ctx, cancel := context.WithTimeout(context.Background(), jobTimeout)
		defer cancel()
		if _, err := c.Jobs(0).Cancel(ctx, &pb.CancelRequest{JobId: id, Reason: "test"}); err != nil {
			t.Fatalf("cancel: %v", err)
		}
		root := filepath.Join(dir, "out", ".staging", id)
		if entries, err := os.ReadDir(root); err != nil || len(entries) == 0 {
			t.Fatalf("the canceled job's staging %s holds %d entries (%v); want the committed shards'", root, len(entries), err)
		}
		close(h.release)
	}
}

// inputErrorFault adds a gzip file whose stream is cut short, planned last; its shard fails
// with an input error, which is held until three shards committed.
func inputErrorFault(t *testing.T, l *ledger) (grpc.UnaryClientInterceptor, func(*testcluster.Cluster, string, string)) {
	g := newGate(func(_, method string, _ any) bool { return method == failMethod })
	return g.unary("any"), func(c *testcluster.Cluster, id, dir string) {
		testcluster.WaitFor(t, jobTimeout, "three shards committed and the failure held", func() error {
			if n, h := l.shardsCommitted(id), g.heldCalls(); n < 3 || h == 0 {
				return fmt.Errorf("%d shards committed, %d failures held", n, h)
			}
			return nil
		})
		g.open()
	}
}

// maxAttemptsFault turns the first shard commit made once two shards committed into a
// failed attempt (an error that counts towards max_attempts, as an I/O error would),
// reported with the commit's lease; the worker's commit is refused.
func maxAttemptsFault(t *testing.T, l *ledger) (grpc.UnaryClientInterceptor, func(*testcluster.Cluster, string, string)) {
	done := false
	var mu sync.Mutex
	intercept := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if commitOf(pb.TaskKind_TASK_KIND_SHARD)(method, req) && l.shardsCommitted("") >= 2 {
			mu.Lock()
			first := !done
			done = true
			mu.Unlock()
			if first {
				r := req.(*pb.CommitRequest)
				f := &pb.FailRequest{WorkerId: r.WorkerId, Failure: &pb.TaskFailure{Task: r.Commit.Task, Epoch: r.Commit.Epoch,
					Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "test: injected I/O error"}}
				if err := invoker(ctx, failMethod, f, &pb.FailResponse{}, cc, opts...); err != nil {
					return err
				}
				return status.Error(codes.FailedPrecondition, "test: the attempt failed instead")
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	return intercept, func(*testcluster.Cluster, string, string) {}
}

// nothingPublished fails the test if the output directory holds a file.
func nothingPublished(t *testing.T, out string) {
	t.Helper()
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("published by a job that did not succeed: %s", p)
		}
		return nil
	})
}

// writeCutGzip writes dir/in/part-99.jsonl.gz: documents compressed, the stream cut short.
func writeCutGzip(t *testing.T, dir string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	for i := range 2000 {
		fmt.Fprintf(zw, `{"id":%d,"text":"the quick brown fox %d jumps over the lazy dog"}`+"\n", i, i*7919)
	}
	zw.Close()
	cut := b.Bytes()[:b.Len()*2/3]
	if err := os.WriteFile(filepath.Join(dir, "in", "part-99.jsonl.gz"), cut, 0o644); err != nil {
		t.Fatal(err)
	}
}
