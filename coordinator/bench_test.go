package coordinator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"github.com/tokenmill/tokenmill/internal/wire"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
	"google.golang.org/protobuf/proto"
)

// BenchmarkCluster_Transitions drives the leader's scheduler and FSM, through raft on disk,
// with 1,000 simulated workers over a job of 100,000 shards, on one coordinator and on three
// on loopback. The job's plan is appended and committed first (not timed); then every worker
// heartbeats for up to benchSlots tasks, commits a realistic result of each (concurrently,
// as a worker's slots do), and heartbeats again, until every shard is committed. The workers
// call the leader's scheduler in process (no gRPC), so the figure is that of the scheduler,
// the batchers, raft (its log on disk, replication to the followers) and the FSM.
//
// It reports shard transitions committed per second (a grant and a commit per shard: the
// target is 20,000), the same per second of the process's CPU time (all its nodes and the
// simulated workers: a figure that other processes on the machine do not move), shard items
// per raft entry, and the FSM's snapshot bytes per committed
// shard (spec, state and result: the target is 1 KiB), and the growth of the leader's raft
// log file per shard during the timed part (grants and commits).
func BenchmarkCluster_Transitions(b *testing.B) {
	for _, nodes := range []int{1, 3} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) { benchTransitions(b, nodes) })
	}
}

const (
	benchShards  = 100_000
	benchWorkers = 1000
	benchSlots   = 4
)

func benchTransitions(b *testing.B, nodes int) {
	leader := benchCluster(b, nodes)
	ctx := context.Background()
	var shards, entries, transitions, logBytes int64
	var elapsed, cpu time.Duration
	for i := range b.N {
		b.StopTimer()
		job := benchPlannedJob(b, leader, fmt.Sprintf("bench-%d", i))
		first, disk := leader.raft.AppliedIndex(), raftDBSize(leader)
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		var wg sync.WaitGroup
		var failed atomic.Value
		for w := range benchWorkers {
			wg.Go(func() {
				if err := benchWorker(ctx, leader, fmt.Sprintf("w%04d", w)); err != nil {
					failed.CompareAndSwap(nil, err)
				}
			})
		}
		wg.Wait()
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		if err, _ := failed.Load().(error); err != nil {
			b.Fatal(err)
		}
		st, _ := leader.fsm.Job(job)
		if st.Tasks.Committed != benchShards+1 || st.State != pb.JobState_JOB_STATE_FINALIZING {
			b.Fatalf("job %s after the run: %v", job, st)
		}
		shards += benchShards
		transitions += 2 * benchShards
		entries += int64(leader.raft.AppliedIndex() - first)
		logBytes += raftDBSize(leader) - disk
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(transitions)/elapsed.Seconds(), "transitions/s")
	b.ReportMetric(float64(transitions)/cpu.Seconds(), "transitions/cpu-s")
	b.ReportMetric(float64(transitions)/float64(entries), "items/entry")
	b.ReportMetric(float64(snapshotSize(b, leader.fsm))/float64(shards), "fsm-B/shard")
	b.ReportMetric(float64(logBytes)/float64(shards), "raft-log-B/shard")
	b.ReportMetric(0, "ns/op")
}

// benchWorker heartbeats for tasks, commits each shard's result from its own goroutine (a
// slot), and heartbeats again until the leader grants no shard.
func benchWorker(ctx context.Context, n *Node, id string) error {
	for {
		resp, err := n.sched.heartbeat(ctx, &pb.HeartbeatRequest{WorkerId: id, FreeSlots: benchSlots}, n.clock.Now())
		if err != nil {
			return fmt.Errorf("heartbeat of %s: %w", id, err)
		}
		if len(resp.Start) == 0 || resp.Start[0].Task.Kind != pb.TaskKind_TASK_KIND_SHARD {
			return nil
		}
		errs := make([]error, len(resp.Start))
		var wg sync.WaitGroup
		for i, a := range resp.Start {
			if a.Task.Kind != pb.TaskKind_TASK_KIND_SHARD {
				continue // the finalize task, once every shard is committed: not run here
			}
			wg.Go(func() {
				c := &pb.TaskCommit{Task: a.Task, Epoch: a.Epoch,
					Result: &pb.TaskCommit_Shard{Shard: benchResult(int(a.Task.Shard), a.Attempt)}}
				errs[i] = n.sched.commit(ctx, c, time.Now())
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return fmt.Errorf("commit of %s: %w", id, err)
			}
		}
	}
}

// benchPlannedJob submits a job and has a planner worker append benchShards shard specs in
// batches of 1,000 and commit the plan; it returns the job's id.
func benchPlannedJob(b *testing.B, n *Node, id string) string {
	ctx := context.Background()
	spec := fmt.Appendf(nil, "name: %s\ninputs:\n  - path: /mnt/shared/corpora/*.jsonl\ntokenizer: cl100k_base\noutput:\n  dir: /mnt/shared/out/%s\n", id, id)
	if _, err := n.apply(fsm.SubmitJob, &pb.SubmitJobCommand{JobId: id, Name: id, Spec: spec, MaxAttempts: 3,
		SubmittedUnixMs: n.clock.Now().UnixMilli()}); err != nil {
		b.Fatal(err)
	}
	resp, err := n.sched.heartbeat(ctx, &pb.HeartbeatRequest{WorkerId: "planner", FreeSlots: 1}, n.clock.Now())
	if err != nil || len(resp.Start) != 1 || resp.Start[0].Task.Kind != pb.TaskKind_TASK_KIND_PLAN {
		b.Fatalf("planner heartbeat: %v %v", resp, err)
	}
	plan := resp.Start[0]
	for from := 0; from < benchShards; from += 1000 {
		c := &pb.AppendPlanCommand{Task: plan.Task, Epoch: plan.Epoch, FirstIndex: uint32(from)}
		for i := from; i < min(from+1000, benchShards); i++ {
			c.Specs = append(c.Specs, benchSpec(id, i))
		}
		res, err := n.apply(fsm.AppendPlan, c)
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := n.sched.commit(ctx, &pb.TaskCommit{Task: plan.Task, Epoch: plan.Epoch,
		Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{Shards: benchShards, Inputs: benchShards / 64, InputBytes: 1 << 42}}}, time.Now()); err != nil {
		b.Fatal(err)
	}
	return id
}

// benchSpec is a realistic shard spec, as the planner writes it: a 64 MiB byte range of a
// large JSONL file with a long path.
func benchSpec(job string, i int) []byte {
	const size = 64 << 20
	return fmt.Appendf(nil, `{"id":"%06d","index":%d,"job":"%s","path":"/mnt/shared/corpora/common-crawl/2026-05/en/part-%05d.jsonl","format":"jsonl","text_field":"text","file_size":4294967296,"kind":"bytes","byte_start":%d,"byte_end":%d}`,
		i, i, job, i/64, int64(i%64)*size, int64(i%64+1)*size)
}

// benchResult is a realistic shard result as a worker commits it: three sequence lengths,
// two splits, tails of hundreds of tokens (which stay in the staged result file, referenced
// by checksum). The summary is made once and copied with the shard's names, so that the
// simulated workers spend little of the benchmark's CPU time.
func benchResult(i int, attempt uint32) *pb.ShardResult {
	r := proto.Clone(benchTemplate()).(*pb.ShardResult)
	dir := fmt.Sprintf("%06d/%d", i, attempt)
	r.Attempt, r.Dir = attempt, dir
	r.Rejects.Name = dir + "/rejects.jsonl"
	r.Result.Name = dir + "/result.json"
	for _, b := range r.Buckets {
		b.File.Name = dir + "/" + b.Split + ".u32"
	}
	return r
}

var benchTemplate = sync.OnceValue(func() *pb.ShardResult {
	r := &shard.Result{Shard: "000000", Bytes: 64 << 20,
		Documents: shard.Counts{Read: 31_337, Written: 31_210, Rejected: 127, TextBytes: 66_000_000},
		Tokens:    shard.Tokens{Train: 16_100_000, Val: 163_000},
		Rejects:   shard.FileRef{Name: "rejects.jsonl", Bytes: 81_000, CRC32C: 0xdeadbeef}}
	for _, split := range shard.Splits() {
		for _, n := range []int{512, 1024, 2048} {
			r.Buckets = append(r.Buckets, shard.Bucket{Split: split, SeqLen: n, Rows: 16_100_000 / int64(n),
				File: shard.FileRef{Name: split + ".u32", Bytes: 64_400_000, CRC32C: 0x1234abcd},
				Tail: make([]uint32, n/2)})
		}
	}
	return wire.Summarize(r, &pb.FileRef{Name: "result.json", Bytes: 120_000, Crc32C: 0xcafe0001})
})

// snapshotSize returns the bytes of a snapshot of f.
func snapshotSize(b *testing.B, f *fsm.FSM) int {
	snap, err := f.Snapshot()
	if err != nil {
		b.Fatal(err)
	}
	var sink memSink
	if err := snap.Persist(&sink); err != nil {
		b.Fatal(err)
	}
	return sink.Len()
}

// benchCluster starts n coordinators on loopback, raft in the benchmark's directory, that
// form a cluster by gossip; it returns the leader once its scheduler runs.
func benchCluster(b *testing.B, n int) *Node {
	dir := b.TempDir()
	var nodes []*Node
	b.Cleanup(func() {
		for _, nd := range nodes {
			nd.Shutdown()
		}
	})
	for i := range n {
		cfg := DefaultConfig()
		cfg.ID = fmt.Sprintf("c%d", i+1)
		cfg.DataDir = filepath.Join(dir, cfg.ID)
		cfg.BindAddr = "127.0.0.1"
		cfg.RaftPort, cfg.GossipPort, cfg.GRPCPort = 0, 0, 0
		cfg.BootstrapExpect = n
		cfg.JoinRetry = 50 * time.Millisecond
		cfg.Gossip = memberlist.DefaultLocalConfig()
		cfg.LeaseTTL, cfg.LeaseGrace = time.Hour, time.Hour // no lease expires during the run
		cfg.Version = "bench"
		if i > 0 {
			cfg.Join = []string{nodes[0].Addrs().Gossip}
		}
		nd, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, nd)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, nd := range nodes {
			if nd.IsLeader() && nd.sched.isActive() && len(nd.raft.GetConfiguration().Configuration().Servers) == n {
				return nd
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("no leader of %d coordinators with its scheduler running after 30 s", n)
	return nil
}

// raftDBSize returns the size of a node's raft log store.
func raftDBSize(n *Node) int64 {
	fi, err := os.Stat(filepath.Join(n.cfg.DataDir, "raft.db"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
