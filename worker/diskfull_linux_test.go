//go:build linux

package worker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
	"google.golang.org/grpc"
)

// mountTmpfs mounts a tmpfs of size bytes on dir for the test, or skips the test where the
// system does not let it (not root, or no CAP_SYS_ADMIN in a container).
func mountTmpfs(t *testing.T, dir string, size int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("filling a disk for real needs a small tmpfs, and mounting one needs root (CI runs as root)")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("cannot mount a tmpfs on %s (%v): the system does not permit it here", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

// fill writes a file at path until the file system is full, and returns the error that
// ended it.
func fill(t *testing.T, path string) error {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			return err
		}
	}
}

// diskFull records the workers' failure reports and accepted commits. The disk is full
// from the start; the first failure report frees it before it goes out (every report waits
// for that). When a finalize task is granted the disk is filled again, and the next failure
// report frees it again.
type diskFull struct {
	t      *testing.T
	filler string
	mu     sync.Mutex // held while the disk is filled or freed
	full   bool
	refill bool // the disk was filled again for the finalize
	fails  []diskFail
	commit map[string]string // task (shard index or "finalize") -> the worker whose commit was accepted
}

type diskFail struct {
	worker string
	task   string
	kind   pb.FailureKind
	cause  string
}

// taskName names a task for diskFull: a shard's index, or its kind.
func taskName(r *pb.TaskRef) string {
	if r.GetKind() == pb.TaskKind_TASK_KIND_SHARD {
		return strconv.Itoa(int(r.GetShard()))
	}
	return strings.ToLower(strings.TrimPrefix(r.GetKind().String(), "TASK_KIND_"))
}

func (d *diskFull) unary(id string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if f, ok := req.(*pb.FailRequest); ok {
			d.mu.Lock()
			d.fails = append(d.fails, diskFail{id, taskName(f.Failure.Task), f.Failure.Kind, f.Failure.Cause})
			if d.full {
				if err := os.Remove(d.filler); err != nil {
					d.t.Error(err)
				}
				d.full = false
			}
			d.mu.Unlock()
		}
		err := invoker(ctx, method, req, reply, cc, opts...)
		if c, ok := req.(*pb.CommitRequest); ok && err == nil {
			d.mu.Lock()
			d.commit[taskName(c.Commit.Task)] = id
			d.mu.Unlock()
		}
		if r, ok := reply.(*pb.HeartbeatResponse); ok && err == nil {
			for _, a := range r.Start {
				if a.Task.GetKind() == pb.TaskKind_TASK_KIND_FINALIZE {
					d.mu.Lock()
					if !d.refill {
						d.refill, d.full = true, true
						if err := fill(d.t, d.filler); !errors.Is(err, syscall.ENOSPC) {
							d.t.Errorf("filling the disk again before the finalize ended with %v, want ENOSPC", err)
						}
					}
					d.mu.Unlock()
				}
			}
		}
		return err
	}
}

// TestCluster_DiskFullIsAMachineError fills the output's file system for real (a small
// tmpfs mounted as the file system of the job's output directory, so that the data plane's
// own writes meet ENOSPC from the kernel), from the start and again when the finalize is
// granted: the attempts that hit it (shards staging, the finalize writing the outputs) fail
// as ERROR with "no space left on device" in their cause, the job does not fail, each
// failed task is retried on the other worker (the disk is freed before the failure is
// reported) and committed once, nothing half-written is committed or left behind (no
// staging, no temporary output), and the output is byte-identical to runner.Run's.
func TestCluster_DiskFullIsAMachineError(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk") // the output's file system
	out := filepath.Join(disk, "out")
	writeCorpus(t, dir, 2, 300, false)
	spec := strings.Replace(pretrainSpec(dir, "diskfull"), dir+"/out", out, 1) + "max_attempts: 4\n"
	want := reference(t, spec)
	if err := os.MkdirAll(disk, 0o755); err != nil {
		t.Fatal(err)
	}
	mountTmpfs(t, disk, 16<<20)
	d := &diskFull{t: t, filler: filepath.Join(disk, "filler"), full: true, commit: map[string]string{}}
	if err := fill(t, d.filler); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the tmpfs ended with %v, want ENOSPC", err)
	}
	c := testcluster.Start(t, testcluster.Options{Coordinators: 1, Workers: 2, Worker: func(_ int, cfg *worker.Config) {
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithChainUnaryInterceptor(d.unary(cfg.ID)))
	}})
	id := submit(t, c, 0, spec)
	st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)

	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.fails) == 0 || st.FailedAttempts == 0 {
		t.Fatalf("no attempt failed (%d failed attempts): the disk was not full", st.FailedAttempts)
	}
	finalizeFailed := false
	for _, f := range d.fails {
		if f.kind != pb.FailureKind_FAILURE_KIND_ERROR || !strings.Contains(f.cause, "no space left on device") {
			t.Errorf("%s failed task %s as %s: %q; want ERROR, no space left on device", f.worker, f.task, f.kind, f.cause)
		}
		if w := d.commit[f.task]; w == f.worker {
			t.Errorf("task %s failed on %s and was committed by %s again; want the other worker", f.task, f.worker, w)
		}
		finalizeFailed = finalizeFailed || f.task == "finalize"
		t.Logf("%s failed %s: %s", f.worker, f.task, f.cause)
	}
	if !finalizeFailed || !d.refill {
		t.Errorf("the finalize did not meet the full disk (filled again: %v)", d.refill)
	}
	for s := range st.Shards {
		if d.commit[strconv.Itoa(int(s))] == "" {
			t.Errorf("shard %d: no commit accepted", s)
		}
	}
	os.Remove(d.filler)
	sameTree(t, hashTree(t, out), want)
	noLeftovers(t, out)
}
