package worker_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
	"google.golang.org/grpc"
)

// failures records, at the workers' transport, the failures they report, by kind; it runs
// a hook once before the first failure of a kind goes out (onFail), and once before the
// first plan commit goes out (onPlan).
type failures struct {
	mu     sync.Mutex
	byKind map[pb.FailureKind]int
	onFail map[pb.FailureKind]func()
	onPlan func()
}

func newFailures() *failures {
	return &failures{byKind: map[pb.FailureKind]int{}, onFail: map[pb.FailureKind]func(){}}
}

func (f *failures) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
	invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	var hook func()
	f.mu.Lock()
	switch method {
	case failMethod:
		k := req.(*pb.FailRequest).Failure.Kind
		f.byKind[k]++
		hook = f.onFail[k]
		delete(f.onFail, k)
	case commitMethod:
		if req.(*pb.CommitRequest).Commit.GetPlan() != nil {
			hook, f.onPlan = f.onPlan, nil
		}
	}
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// set sets the hooks.
func (f *failures) set(onPlan func(), kind pb.FailureKind, onFail func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onPlan = onPlan
	if onFail != nil {
		f.onFail[kind] = onFail
	}
}

func (f *failures) count(k pb.FailureKind) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.byKind[k]
}

// gzipped returns b compressed.
func gzipped(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCluster_InputErrorsFailAtOnce: an error that is a property of the input fails the job
// at its first attempt, with the file and the position in the job's error, and is not
// retried on the other worker.
func TestCluster_InputErrorsFailAtOnce(t *testing.T) {
	fl := newFailures()
	c := testcluster.Start(t, testcluster.Options{Coordinators: 1, Workers: 2, Worker: func(_ int, cfg *worker.Config) {
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(fl.unary))
	}})
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (input string, extra string)
		want  []string // in the job's error
	}{
		{"truncated gzip", func(t *testing.T, dir string) (string, string) {
			in := writeCorpus(t, dir, 1, 400, false)
			src := filepath.Join(in, "part-00.jsonl")
			b, _ := os.ReadFile(src)
			z := gzipped(t, b)
			os.Remove(src)
			p := filepath.Join(in, "part-00.jsonl.gz")
			os.WriteFile(p, z[:len(z)/2], 0o644)
			return p, ""
		}, []string{"part-00.jsonl.gz: line 203, byte 75693 (compressed byte 16085): gzip: unexpected EOF"}},
		{"file changed after the plan", func(t *testing.T, dir string) (string, string) {
			in := writeCorpus(t, dir, 1, 400, false)
			p := filepath.Join(in, "part-00.jsonl")
			fl.set(func() {
				f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
				f.WriteString(`{"text":"appended after the plan"}` + "\n")
				f.Close()
			}, 0, nil)
			return p, ""
		}, []string{"finalize: the inputs changed since the plan: shard 000000 (", "part-00.jsonl) is now planned as"}},
		{"too many rejects", func(t *testing.T, dir string) (string, string) {
			in := writeCorpus(t, dir, 1, 400, true)
			return filepath.Join(in, "part-00.jsonl"), "max_reject_fraction: 0.001\n"
		}, []string{"4 of 400 records rejected (1%), more than max_reject_fraction 0.001", `"line":14`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			input, extra := tt.setup(t, dir)
			before, errsBefore := fl.count(pb.FailureKind_FAILURE_KIND_INPUT), fl.count(pb.FailureKind_FAILURE_KIND_ERROR)
			spec := "name: bad\ninputs:\n  - path: " + input + "\ntokenizer: cl100k_base\nsequence_lengths: [64]\n" +
				"shard_size: 1MiB\nmax_attempts: 3\noutput:\n  dir: " + dir + "/out\n" + extra
			id := submit(t, c, 0, spec)
			st := waitState(t, c, id, pb.JobState_JOB_STATE_FAILED)
			for _, w := range tt.want {
				if !strings.Contains(st.Error, w) {
					t.Errorf("job error %q lacks %q", st.Error, w)
				}
			}
			// One attempt, failed as an input error; none retried on the other worker (an
			// input error does not count towards max_attempts: the job fails at once).
			if n := fl.count(pb.FailureKind_FAILURE_KIND_INPUT) - before; n != 1 {
				t.Errorf("the workers reported %d input failures, want 1", n)
			}
			if n := fl.count(pb.FailureKind_FAILURE_KIND_ERROR) - errsBefore; n != 0 || st.FailedAttempts != 0 {
				t.Errorf("%d failures of kind ERROR, %d failed attempts: want none, the job failed at once", n, st.FailedAttempts)
			}
			t.Logf("job error: %s", st.Error)
		})
	}
}

// TestCluster_MachineErrorIsRetried: an I/O error of the worker (the input cannot be opened
// when the shard runs: a mount that came back a moment later) fails the attempt as ERROR,
// counts one failed attempt, and the next attempt publishes what `tokenmill run` does.
func TestCluster_MachineErrorIsRetried(t *testing.T) {
	fl := newFailures()
	c := testcluster.Start(t, testcluster.Options{Coordinators: 1, Workers: 1, Worker: func(_ int, cfg *worker.Config) {
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(fl.unary))
	}})
	dir := t.TempDir()
	in := writeCorpus(t, dir, 1, 300, false)
	p := filepath.Join(in, "part-00.jsonl")
	spec := "name: transient\ninputs:\n  - path: " + p + "\ntokenizer: cl100k_base\nsequence_lengths: [64]\n" +
		"shard_size: 1MiB\noutput:\n  dir: " + dir + "/out\n"
	want := reference(t, spec)
	away := p + ".away"
	fl.set(func() {
		if err := os.Rename(p, away); err != nil {
			t.Error(err)
		}
	}, pb.FailureKind_FAILURE_KIND_ERROR, func() {
		if err := os.Rename(away, p); err != nil {
			t.Error(err)
		}
	})
	id := submit(t, c, 0, spec)
	st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
	if st.FailedAttempts != 1 || fl.count(pb.FailureKind_FAILURE_KIND_ERROR) != 1 || fl.count(pb.FailureKind_FAILURE_KIND_INPUT) != 0 {
		t.Errorf("failed attempts %d, ERROR reports %d, INPUT reports %d: want 1, 1, 0", st.FailedAttempts,
			fl.count(pb.FailureKind_FAILURE_KIND_ERROR), fl.count(pb.FailureKind_FAILURE_KIND_INPUT))
	}
	out := filepath.Join(dir, "out")
	sameTree(t, hashTree(t, out), want)
	noLeftovers(t, out)
}
