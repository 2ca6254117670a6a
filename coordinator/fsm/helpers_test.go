package fsm

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/tokenmill/tokenmill/internal/wire"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
	"google.golang.org/protobuf/proto"
)

// harness applies commands to an FSM as raft would: each entry at the next index.
type harness struct {
	t     testing.TB
	f     *FSM
	index uint64
	log   [][]byte // every entry applied, in order
}

func newHarness(t testing.TB) *harness { return &harness{t: t, f: New()} }

// apply encodes and applies a command; a fatal error fails the test.
func (h *harness) apply(ct CommandType, m proto.Message) *Result {
	h.t.Helper()
	data, err := Encode(ct, m)
	if err != nil {
		h.t.Fatal(err)
	}
	h.index++
	res, err := h.f.ApplyCommand(h.index, data)
	if err != nil {
		h.t.Fatalf("apply %s: %v", ct, err)
	}
	h.log = append(h.log, data)
	return res
}

// must applies a command and fails the test unless every item was applied.
func (h *harness) must(ct CommandType, m proto.Message) *Result {
	h.t.Helper()
	res := h.apply(ct, m)
	if err := res.Err(); err != nil {
		h.t.Fatalf("%s refused: %v", ct, err)
	}
	return res
}

func (h *harness) submit(id string, maxAttempts uint32) {
	h.t.Helper()
	h.must(SubmitJob, &pb.SubmitJobCommand{JobId: id, Name: "name-" + id, Spec: []byte("name: " + id + "\n"),
		MaxAttempts: maxAttempts, SubmittedUnixMs: 1_780_000_000_000})
}

// grant leases refs to worker and returns the epoch.
func (h *harness) grant(worker string, refs ...TaskRef) uint64 {
	h.t.Helper()
	c := &pb.GrantCommand{}
	for _, r := range refs {
		c.Grants = append(c.Grants, &pb.Grant{Task: r.Proto(), WorkerId: worker, DeadlineUnixMs: 1_780_000_030_000})
	}
	return h.must(GrantLeases, c).Index
}

// planned submits job id and commits a plan of n shards, appended in batches of 1,000.
func (h *harness) planned(id string, n int, maxAttempts uint32) {
	h.t.Helper()
	h.submit(id, maxAttempts)
	plan := TaskRef{Job: id, Kind: pb.TaskKind_TASK_KIND_PLAN}
	epoch := h.grant("planner", plan)
	for from := 0; from < n; from += 1000 {
		c := &pb.AppendPlanCommand{Task: plan.Proto(), Epoch: epoch, FirstIndex: uint32(from)}
		for i := from; i < min(from+1000, n); i++ {
			c.Specs = append(c.Specs, specJSON(i))
		}
		h.must(AppendPlan, c)
	}
	h.must(CommitTasks, commitPlan(plan, epoch, n))
}

func commitPlan(plan TaskRef, epoch uint64, n int) *pb.CommitCommand {
	return &pb.CommitCommand{Commits: []*pb.TaskCommit{{Task: plan.Proto(), Epoch: epoch,
		Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{Shards: uint32(n), Inputs: 1, InputBytes: 1 << 40}}}}}
}

func shardRef(job string, i int) TaskRef {
	return TaskRef{Job: job, Kind: pb.TaskKind_TASK_KIND_SHARD, Index: uint32(i)}
}

func finalizeRef(job string) TaskRef { return TaskRef{Job: job, Kind: pb.TaskKind_TASK_KIND_FINALIZE} }

func planRef(job string) TaskRef { return TaskRef{Job: job, Kind: pb.TaskKind_TASK_KIND_PLAN} }

// shardCommit is the commit of shard ref's result of attempt under epoch.
func shardCommit(ref TaskRef, epoch uint64, attempt uint32) *pb.TaskCommit {
	return &pb.TaskCommit{Task: ref.Proto(), Epoch: epoch,
		Result: &pb.TaskCommit_Shard{Shard: resultOf(int(ref.Index), attempt)}}
}

func finalizeCommit(job string, epoch uint64) *pb.TaskCommit {
	return &pb.TaskCommit{Task: finalizeRef(job).Proto(), Epoch: epoch, Result: &pb.TaskCommit_Finalize{
		Finalize: &pb.FinalizeResult{Manifest: &pb.FileRef{Name: "manifest.json", Bytes: 2048, Crc32C: 7}}}}
}

// specJSON is a realistic shard spec: a 64 MiB byte range of a large JSONL file with a long
// path, as the planner makes it.
func specJSON(i int) []byte {
	const size = 64 << 20
	return fmt.Appendf(nil, `{"id":"%06d","index":%d,"job":"pretrain-web-2026-05","path":"/mnt/shared/corpora/common-crawl/2026-05/en/part-%05d.jsonl","format":"jsonl","text_field":"text","file_size":4294967296,"kind":"bytes","byte_start":%d,"byte_end":%d}`,
		i, i, i/64, int64(i%64)*size, int64(i%64+1)*size)
}

// resultOf is a realistic shard result (three lengths, two splits, tails of hundreds of
// tokens) as the state keeps it.
func resultOf(i int, attempt uint32) *pb.ShardResult {
	r := &shard.Result{Shard: fmt.Sprintf("%06d", i), Index: i, Attempt: int(attempt),
		Dir: fmt.Sprintf("%06d/%d", i, attempt), Bytes: 64 << 20,
		Documents: shard.Counts{Read: 31_337, Written: 31_210, Rejected: 127, TextBytes: 66_000_000},
		Tokens:    shard.Tokens{Train: 16_100_000, Val: 163_000},
		Rejects:   shard.FileRef{Name: fmt.Sprintf("%06d/%d/rejects.jsonl", i, attempt), Bytes: 81_000, CRC32C: 0xdeadbeef}}
	for _, split := range shard.Splits() {
		for _, n := range []int{512, 1024, 2048} {
			r.Buckets = append(r.Buckets, shard.Bucket{Split: split, SeqLen: n, Rows: 16_100_000 / int64(n),
				File: shard.FileRef{Name: fmt.Sprintf("%06d/%d/%s.u32", i, attempt, split), Bytes: 64_400_000, CRC32C: 0x1234abcd},
				Tail: make([]uint32, n/2)})
		}
	}
	return wire.Summarize(r, &pb.FileRef{Name: r.Dir + "/result.json", Bytes: 120_000, Crc32C: 0xcafe0001})
}

func TestSpecJSON_IsAShardSpec(t *testing.T) {
	var s shard.Spec
	if err := json.Unmarshal(specJSON(65), &s); err != nil {
		t.Fatal(err)
	}
	if s.ID != "000065" || s.Index != 65 || s.ByteEnd-s.ByteStart != 64<<20 || s.Path == "" {
		t.Fatalf("spec = %+v", s)
	}
}

func raftLog(index uint64, data []byte) *raft.Log {
	return &raft.Log{Index: index, Term: 1, Type: raft.LogCommand, Data: data}
}

func bufioWriter(w io.Writer) *bufio.Writer { return bufio.NewWriter(w) }
