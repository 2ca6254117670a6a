package coordinator_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// spec returns a valid job file with absolute paths.
func spec(t *testing.T, name string) []byte {
	t.Helper()
	dir := t.TempDir()
	return fmt.Appendf(nil, "name: %s\ninputs:\n  - path: %s/in/*.jsonl\ntokenizer: cl100k_base\noutput:\n  dir: %s/out\n", name, dir, dir)
}

// worker acts as a worker in a test, through the real WorkerService client: its heartbeats
// follow the protocol (each lists every task it runs, those started from the previous
// response included).
type worker struct {
	t       *testing.T
	id      string
	client  pb.WorkerServiceClient
	running map[string]*pb.Assignment // by task ref string
	stopped []*pb.StopTask
}

func newWorker(t *testing.T, id string, client pb.WorkerServiceClient) *worker {
	return &worker{t: t, id: id, client: client, running: map[string]*pb.Assignment{}}
}

func refKey(r *pb.TaskRef) string { return fsm.RefOf(r).String() }

// beat heartbeats with free slots and the running tasks (with progress), starts what the
// response grants and drops what it stops; it returns the new assignments.
func (w *worker) beat(free int, progress *pb.Progress) []*pb.Assignment {
	w.t.Helper()
	req := &pb.HeartbeatRequest{WorkerId: w.id, FreeSlots: uint32(free)}
	for _, a := range w.sorted() {
		req.Running = append(req.Running, &pb.RunningTask{Task: a.Task, Epoch: a.Epoch, Progress: progress})
	}
	r, err := w.client.Heartbeat(ctx(w.t), req)
	if err != nil {
		w.t.Fatalf("heartbeat of %s: %v", w.id, err)
	}
	for _, s := range r.Stop {
		delete(w.running, refKey(s.Task))
		w.stopped = append(w.stopped, s)
	}
	for _, a := range r.Start {
		w.running[refKey(a.Task)] = a
	}
	if r.LeaseTtlMs <= 0 {
		w.t.Fatalf("heartbeat response without a lease ttl")
	}
	return r.Start
}

func (w *worker) sorted() []*pb.Assignment {
	var out []*pb.Assignment
	for _, a := range w.running {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b *pb.Assignment) int { return strings.Compare(refKey(a.Task), refKey(b.Task)) })
	return out
}

// commit commits the result of a running task and forgets it.
func (w *worker) commit(a *pb.Assignment, c *pb.TaskCommit) error {
	c.Task, c.Epoch = a.Task, a.Epoch
	_, err := w.client.Commit(ctx(w.t), &pb.CommitRequest{WorkerId: w.id, Commit: c})
	if err == nil {
		delete(w.running, refKey(a.Task))
	}
	return err
}

func shardCommit(a *pb.Assignment, tokens int64) *pb.TaskCommit {
	return &pb.TaskCommit{Result: &pb.TaskCommit_Shard{Shard: &pb.ShardResult{Attempt: a.Attempt,
		Dir: fmt.Sprintf("%06d/%d", a.Task.Shard, a.Attempt), Bytes: 100,
		Documents: &pb.DocumentCounts{Read: 10, Written: 10}, TokensTrain: tokens}}}
}

func shardSpec(i int) []byte {
	return fmt.Appendf(nil, `{"id":"%06d","index":%d,"path":"/data/in/%d.jsonl","format":"jsonl"}`, i, i, i)
}

// task reads a task from node i's FSM.
func task(c *testcluster.Cluster, i int, ref fsm.TaskRef) (fsm.TaskInfo, error) {
	n := c.Node(i)
	if n == nil {
		return fsm.TaskInfo{}, fmt.Errorf("node %d is down", i)
	}
	info, ok := n.FSM().Task(ref)
	if !ok {
		return info, fmt.Errorf("node %d has no task %s", i, ref)
	}
	return info, nil
}

func planRef(job string) fsm.TaskRef {
	return fsm.TaskRef{Job: job, Kind: pb.TaskKind_TASK_KIND_PLAN}
}

// submit submits a job through node i and returns its id.
func submit(t *testing.T, c *testcluster.Cluster, i int, spec []byte) string {
	t.Helper()
	r, err := c.Jobs(i).Submit(ctx(t), &pb.SubmitRequest{Spec: spec})
	if err != nil {
		t.Fatalf("submit through node %d: %v", i, err)
	}
	return r.JobId
}
