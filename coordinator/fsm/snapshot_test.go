package fsm

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// populate builds a state with every record type: jobs planning (with staged shards),
// running (pending, leased, committed, retried shards), finalizing, succeeded, failed and
// canceled.
func populate(h *harness) {
	h.submit("planning", 0)
	pe := h.grant("w1", planRef("planning"))
	h.must(AppendPlan, &pb.AppendPlanCommand{Task: planRef("planning").Proto(), Epoch: pe, Specs: [][]byte{specJSON(0), specJSON(1)}})

	h.planned("running", 6, 4)
	e := h.grant("w1", shardRef("running", 0), shardRef("running", 1), shardRef("running", 2))
	h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(shardRef("running", 1), e, 0)}})
	h.must(ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: shardRef("running", 2).Proto(), Epoch: e, Cause: "lease expired"}}})
	e = h.grant("w2", shardRef("running", 2), shardRef("running", 4))
	h.must(SpeculateLeases, &pb.SpeculateCommand{Speculations: []*pb.Speculation{{Task: shardRef("running", 4).Proto(),
		Epoch: e, WorkerId: "w3", DeadlineUnixMs: 1_780_000_040_000}}})

	for _, id := range []string{"finalizing", "succeeded"} {
		h.planned(id, 2, 0)
		e := h.grant("w2", shardRef(id, 0), shardRef(id, 1))
		h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(shardRef(id, 0), e, 0), shardCommit(shardRef(id, 1), e, 0)}})
		fe := h.grant("w3", finalizeRef(id))
		if id == "succeeded" {
			h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{finalizeCommit(id, fe)}})
		}
	}
	h.planned("failed", 2, 1)
	e = h.grant("w1", shardRef("failed", 0), shardRef("failed", 1))
	h.must(FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{{Task: shardRef("failed", 1).Proto(), Epoch: e,
		Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "no space left on device"}}})
	h.planned("canceled", 2, 0)
	h.grant("w1", shardRef("canceled", 0))
	h.must(CancelJob, &pb.CancelJobCommand{JobId: "canceled", Reason: "by bob"})
	h.must(CleanJobs, &pb.CleanJobsCommand{JobIds: []string{"canceled"}})
}

// persist snapshots f into a raft snapshot store and returns the snapshot's bytes.
func persist(t testing.TB, f *FSM) []byte {
	t.Helper()
	store := raft.NewInmemSnapshotStore()
	sink, err := store.Create(raft.SnapshotVersionMax, f.Index(), 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	if err := snap.Persist(sink); err != nil {
		t.Fatal(err)
	}
	_, rc, err := store.Open(sink.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func restore(t testing.TB, b []byte) *FSM {
	t.Helper()
	f := New()
	if err := f.Restore(io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	return f
}

// sameState fails the test unless a and b answer every query alike.
func sameState(t *testing.T, a, b *FSM) {
	t.Helper()
	if a.Index() != b.Index() {
		t.Errorf("index %d != %d", a.Index(), b.Index())
	}
	ja, jb := a.Jobs(), b.Jobs()
	if len(ja) != len(jb) {
		t.Fatalf("%d jobs != %d", len(ja), len(jb))
	}
	for i := range ja {
		if !proto.Equal(ja[i], jb[i]) {
			t.Errorf("job %d: %v != %v", i, ja[i], jb[i])
		}
	}
	if !slices.Equal(a.Leases(), b.Leases()) || !slices.Equal(a.Pending(1000), b.Pending(1000)) || !slices.Equal(a.Workers(), b.Workers()) {
		t.Errorf("leases or pending differ: %v %v / %v %v", a.Leases(), a.Pending(1000), b.Leases(), b.Pending(1000))
	}
	for _, w := range a.Workers() {
		if !slices.Equal(a.LeasesOf(w), b.LeasesOf(w)) {
			t.Errorf("leases of %s differ", w)
		}
	}
	for _, s := range ja {
		for i := range int(s.Shards) {
			ta, _ := a.Task(shardRef(s.JobId, i))
			tb, _ := b.Task(shardRef(s.JobId, i))
			if !bytes.Equal(ta.Spec, tb.Spec) || !proto.Equal(ta.Result, tb.Result) || ta.Cause != tb.Cause ||
				ta.State != tb.State || ta.Attempt != tb.Attempt || ta.Failures != tb.Failures || ta.Lease != tb.Lease ||
				ta.Backup != tb.Backup || ta.BackupAttempt != tb.BackupAttempt {
				t.Errorf("task %s: %+v != %+v", ta.Ref, ta, tb)
			}
		}
	}
}

func TestFSM_SnapshotRoundTrip(t *testing.T) {
	h := newHarness(t)
	populate(h)
	states := map[pb.JobState]bool{}
	for _, s := range h.f.Jobs() {
		states[s.State] = true
	}
	if len(states) != 6 {
		t.Fatalf("the populated state has jobs in %d states, want all 6", len(states))
	}
	b := persist(t, h.f)
	g := restore(t, b)
	sameState(t, h.f, g)
	if got, want := g.Unclean(), []string{"failed"}; !slices.Equal(got, want) || !slices.Equal(h.f.Unclean(), want) {
		t.Errorf("Unclean = %v restored, %v before; want %v", got, h.f.Unclean(), want)
	}
	if b2 := persist(t, g); !bytes.Equal(b, b2) {
		t.Error("the snapshot of the restored state differs")
	}
	// The restored state goes on like the original: its derived indexes were rebuilt.
	h2 := &harness{t: t, f: g, index: h.index}
	r0, _ := h.f.Task(shardRef("running", 0))
	plan, _ := h.f.Task(planRef("planning"))
	for _, hh := range []*harness{h, h2} {
		e := hh.grant("w9", hh.f.Pending(3)...)
		hh.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{
			shardCommit(shardRef("running", 0), r0.Lease.Epoch, 0)}})
		hh.must(ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: shardRef("running", 3).Proto(), Epoch: e}}})
		hh.must(CommitTasks, commitPlan(planRef("planning"), plan.Lease.Epoch, 2))
	}
	sameState(t, h.f, g)
}

// TestFSM_SnapshotIsACapture: Apply after Snapshot does not change what Persist writes.
func TestFSM_SnapshotIsACapture(t *testing.T) {
	h := newHarness(t)
	populate(h)
	want := persist(t, h.f)
	snap, _ := h.f.Snapshot()
	e := h.grant("w9", h.f.Pending(10)...)
	h.must(ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: shardRef("running", 3).Proto(), Epoch: e}}})
	h.must(CancelJob, &pb.CancelJobCommand{JobId: "running"})
	var buf bytes.Buffer
	if err := snap.(*snapshot).write(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Error("commands applied after Snapshot changed the snapshot")
	}
}

func TestFSM_RestoreRefusesBadSnapshots(t *testing.T) {
	h := newHarness(t)
	populate(h)
	good := persist(t, h.f)
	newer := (&recordWriterBuf{}).header(&pb.SnapshotHeader{Version: SnapshotVersion + 1})
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"truncated", good[:len(good)/2], "unexpected EOF"},
		{"trailing bytes", append(slices.Clone(good), 0), "data after the last job"},
		{"empty", nil, "unexpected EOF"},
		{"newer version", newer, "snapshot version 2, this binary reads up to 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := New()
			err := f.Restore(io.NopCloser(bytes.NewReader(tt.b)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if len(f.Jobs()) != 0 {
				t.Error("a failed restore changed the state")
			}
		})
	}
}

// recordWriterBuf writes hand-made snapshot records.
type recordWriterBuf struct{ bytes.Buffer }

func (w *recordWriterBuf) header(h *pb.SnapshotHeader) []byte {
	rw := &recordWriter{w: bufioWriter(w)}
	rw.put(&pb.SnapshotRecord{Record: &pb.SnapshotRecord_Header{Header: h}})
	if err := errors.Join(rw.err, rw.w.Flush()); err != nil {
		panic(err)
	}
	return w.Bytes()
}

// TestFSM_BytesPerShard measures what a shard costs in the replicated state (its spec, state
// and committed result, as a snapshot holds them) on realistic specs and results.
func TestFSM_BytesPerShard(t *testing.T) {
	const n = 5000
	h := newHarness(t)
	h.planned("j", n, 0)
	for from := 0; from < n; from += 500 {
		var refs []TaskRef
		for i := from; i < from+500; i++ {
			refs = append(refs, shardRef("j", i))
		}
		e := h.grant("worker-017.zone-a", refs...)
		c := &pb.CommitCommand{}
		for _, r := range refs {
			c.Commits = append(c.Commits, shardCommit(r, e, 0))
		}
		h.must(CommitTasks, c)
	}
	per := float64(len(persist(t, h.f))) / n
	t.Logf("FSM bytes per committed shard: %.0f (target <= 1024)", per)
	if per > 1024 {
		t.Errorf("%.0f bytes per shard, want <= 1024", per)
	}
}
