package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// raftReport is what the replay of the raft log found.
type raftReport struct {
	entries         int    // command entries replayed
	first           uint64 // the first index replayed
	commits         int    // accepted task results
	refused         int    // refused task results (stale epoch, already committed, ...)
	worstWorker     time.Duration
	measured        int // worker events that held leases, whose tasks were committed
	events          int // worker events after the replay's start
	refusedByReason map[string]int
}

// readRaftLog reads a stopped coordinator's raft log: every entry from its first index to
// its last.
func readRaftLog(dataDir string) ([]raft.Log, error) {
	st, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dataDir, "raft.db")})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	first, err := st.FirstIndex()
	if err != nil {
		return nil, err
	}
	last, err := st.LastIndex()
	if err != nil {
		return nil, err
	}
	var logs []raft.Log
	for i := first; i <= last && i > 0; i++ {
		var l raft.Log
		if err := st.GetLog(i, &l); err != nil {
			return nil, fmt.Errorf("log entry %d: %w", i, err)
		}
		logs = append(logs, l)
	}
	return logs, nil
}

// checkRaftLogs reads the three stopped coordinators' raft logs and checks that they hold the
// same entries where they overlap. It replays the longest through the coordinator's FSM and
// checks that every task of every job was committed exactly once, and that every job's
// outcome is the one the cluster reported. For each worker kill or pause, it finds the
// leases the worker held at that moment and the time until the last of those tasks was
// committed (by another worker, or by it once its lease was back): the worker's recovery.
func checkRaftLogs(t *testing.T, c *soakCluster, final []*pb.JobStatus, events []soakEvent) raftReport {
	t.Helper()
	var logs [][]raft.Log
	for _, n := range c.coords {
		l, err := readRaftLog(n.dataDir)
		if err != nil {
			t.Fatalf("%s's raft log: %v", n.id, err)
		}
		if len(l) == 0 {
			t.Fatalf("%s's raft log is empty", n.id)
		}
		logs = append(logs, l)
	}
	// Where the logs overlap, they hold the same entries.
	lo, hi := uint64(0), ^uint64(0)
	for _, l := range logs {
		lo, hi = max(lo, l[0].Index), min(hi, l[len(l)-1].Index)
	}
	for i := lo; i <= hi; i++ {
		a := logs[0][i-logs[0][0].Index]
		for k, l := range logs[1:] {
			b := l[i-l[0].Index]
			if a.Term != b.Term || a.Type != b.Type || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("raft log entry %d differs between %s and %s", i, c.coords[0].id, c.coords[k+1].id)
			}
		}
	}
	best := 0
	for k, l := range logs {
		if l[0].Index < logs[best][0].Index || l[0].Index == logs[best][0].Index && len(l) > len(logs[best]) {
			best = k
		}
	}
	log := logs[best]
	f := fsm.New()
	from := log[0].Index
	if from > 1 {
		// The log was compacted: start from a snapshot the log continues.
		dir := c.coords[best].dataDir
		snaps, err := raft.NewFileSnapshotStore(dir, 2, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		metas, err := snaps.List()
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(metas, func(m *raft.SnapshotMeta) bool { return m.Index+1 >= from && m.Index < log[len(log)-1].Index })
		if i < 0 {
			t.Fatalf("%s's raft log starts at %d and no snapshot precedes it", c.coords[best].id, from)
		}
		_, rc, err := snaps.Open(metas[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Restore(rc); err != nil {
			t.Fatal(err)
		}
		from = metas[i].Index + 1
	}
	rep := raftReport{first: from, refusedByReason: map[string]int{}}
	slices.SortFunc(events, func(a, b soakEvent) int { return a.at.Compare(b.at) })
	type open struct {
		ev    soakEvent
		tasks map[fsm.TaskRef]bool
		last  time.Time
	}
	var opened []*open
	committed := map[fsm.TaskRef]int{}
	started := false
	for _, e := range log {
		if e.Index < from || e.Type != raft.LogCommand {
			continue
		}
		if e.AppendedAt.IsZero() {
			t.Fatalf("raft log entry %d has no append time", e.Index)
		}
		if !started {
			// Events before the replay's first entry cannot be measured.
			for len(events) > 0 && events[0].at.Before(e.AppendedAt) {
				events = events[1:]
			}
			started = true
		}
		for len(events) > 0 && events[0].at.Before(e.AppendedAt) {
			ev := events[0]
			events = events[1:]
			rep.events++
			o := &open{ev: ev, tasks: map[fsm.TaskRef]bool{}}
			for _, l := range f.LeasesOf(ev.worker) {
				o.tasks[l.Task] = true
			}
			if len(o.tasks) > 0 {
				opened = append(opened, o)
			}
		}
		res, err := f.ApplyCommand(e.Index, e.Data)
		if err != nil {
			t.Fatalf("replaying the raft log: %v", err)
		}
		rep.entries++
		if fsm.CommandType(e.Data[0])&^fsm.IgnoreUnknown != fsm.CommitTasks {
			continue
		}
		var cmd pb.CommitCommand
		if err := proto.Unmarshal(e.Data[2:], &cmd); err != nil {
			t.Fatalf("raft log entry %d: %v", e.Index, err)
		}
		for i, cm := range cmd.Commits {
			ref := fsm.RefOf(cm.Task)
			if err := res.Errs[i]; err != nil {
				rep.refused++
				reason := "other: " + err.Error()
				for _, want := range []error{fsm.ErrStaleEpoch, fsm.ErrCommitted, fsm.ErrJobFinal} {
					if errors.Is(err, want) {
						reason = strings.TrimPrefix(want.Error(), "fsm: ")
					}
				}
				rep.refusedByReason[reason]++
				continue
			}
			rep.commits++
			committed[ref]++
			for _, o := range opened {
				if o.tasks[ref] {
					delete(o.tasks, ref)
					o.last = e.AppendedAt
				}
			}
		}
		opened = slices.DeleteFunc(opened, func(o *open) bool {
			if len(o.tasks) > 0 {
				return false
			}
			rep.measured++
			rep.worstWorker = max(rep.worstWorker, o.last.Sub(o.ev.at))
			return true
		})
	}
	rep.events += len(events)
	for _, o := range opened {
		t.Errorf("worker %s %s at %s held leases on tasks never committed: %v", o.ev.worker, o.ev.what,
			o.ev.at.Format("15:04:05.000"), o.tasks)
	}
	for ref, n := range committed {
		if n != 1 {
			t.Errorf("task %v was committed %d times", ref, n)
		}
	}
	for _, j := range final {
		st, ok := f.Job(j.JobId)
		if !ok {
			t.Errorf("job %s is not in the replayed raft log", j.JobId)
			continue
		}
		if st.State != j.State || st.ShardsDone != j.Shards || st.Tasks.GetCommitted() != j.Shards+2 {
			t.Errorf("job %s in the replayed raft log: %s, %d/%d shards done, %d tasks committed; the cluster said %s with %d shards",
				j.JobId, st.State, st.ShardsDone, st.Shards, st.Tasks.GetCommitted(), j.State, j.Shards)
		}
		refs := []fsm.TaskRef{{Job: j.JobId, Kind: pb.TaskKind_TASK_KIND_PLAN}, {Job: j.JobId, Kind: pb.TaskKind_TASK_KIND_FINALIZE}}
		for i := range j.Shards {
			refs = append(refs, fsm.TaskRef{Job: j.JobId, Kind: pb.TaskKind_TASK_KIND_SHARD, Index: i})
		}
		for _, ref := range refs {
			info, ok := f.Task(ref)
			if !ok || info.State != pb.TaskState_TASK_STATE_COMMITTED {
				t.Errorf("task %v of job %s is not committed in the replayed raft log", ref, j.Name)
			}
		}
	}
	var reasons []string
	for _, r := range slices.Sorted(maps.Keys(rep.refusedByReason)) {
		reasons = append(reasons, fmt.Sprintf("%d %s", rep.refusedByReason[r], r))
	}
	if len(reasons) > 0 {
		t.Logf("soak: refused results in the raft log: %s", strings.Join(reasons, ", "))
	}
	return rep
}

// memSample is one reading of a process's resident memory.
type memSample struct {
	at  time.Time
	kib int64
}

// memSampler reads the resident memory (VmRSS) of every running process of the cluster at
// an interval, by incarnation.
type memSampler struct {
	c        *soakCluster
	interval time.Duration
	begin    time.Time

	mu      sync.Mutex
	samples map[string][]memSample // by "ID#incarnation"
	end     time.Time
	stopc   chan struct{}
	done    chan struct{}
}

func newMemSampler(c *soakCluster, interval time.Duration) *memSampler {
	m := &memSampler{c: c, interval: interval, begin: time.Now(), samples: map[string][]memSample{},
		stopc: make(chan struct{}), done: make(chan struct{})}
	go m.loop()
	return m
}

func (m *memSampler) loop() {
	defer close(m.done)
	tick := time.NewTicker(m.interval)
	defer tick.Stop()
	for {
		now := time.Now()
		for _, n := range m.c.all() {
			pid, inc := n.pid()
			if pid == 0 {
				continue
			}
			if kib, ok := rssKiB(pid); ok {
				key := fmt.Sprintf("%s#%d", n.id, inc)
				m.mu.Lock()
				m.samples[key] = append(m.samples[key], memSample{now, kib})
				m.mu.Unlock()
			}
		}
		select {
		case <-m.stopc:
			return
		case <-tick.C:
		}
	}
}

// markEnd ends the measured window (the end of the chaos).
func (m *memSampler) markEnd(at time.Time) {
	m.mu.Lock()
	m.end = at
	m.mu.Unlock()
}

func (m *memSampler) stop() {
	select {
	case <-m.stopc:
	default:
		close(m.stopc)
	}
	<-m.done
}

// Flat memory: over the measured window, the median of the last third of a process's
// samples is at most memGrowth times the highest sample of the first third, plus
// memSlackMiB. The first third's peak, not its median, is the base: a worker's resident
// memory follows the tasks it happens to run (an HF pretraining shard takes more than a
// validate shard) and Go's heap target, so the base is the working set already reached; a
// leak keeps the later samples growing past it.
const (
	memGrowth   = 1.25
	memSlackMiB = 32
	// memWorkerWindow is the shortest window over which a worker's memory is asserted flat.
	memWorkerWindow = 3 * time.Minute
)

// check stops sampling and checks that the memory of every process that ran through the
// whole window (the spares always do) is flat. The window starts a sixth of the way into the
// chaos, once the workers have loaded the tokenizers and the coordinators hold jobs, and
// ends with the chaos. It returns a line per process checked.
func (m *memSampler) check(t *testing.T) string {
	t.Helper()
	m.stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	from := m.begin.Add(m.end.Sub(m.begin) / 6)
	var lines []string
	checked := map[string]bool{}
	for _, key := range slices.Sorted(maps.Keys(m.samples)) {
		ss := m.samples[key]
		var in []int64
		for _, s := range ss {
			if !s.at.Before(from) && !s.at.After(m.end) {
				in = append(in, s.kib)
			}
		}
		// Only an incarnation alive at both ends of the window.
		if len(ss) == 0 || ss[0].at.After(from.Add(2*m.interval)) || ss[len(ss)-1].at.Before(m.end.Add(-2*m.interval)) || len(in) < 9 {
			continue
		}
		third := len(in) / 3
		first, last := slices.Max(in[:third]), median(in[len(in)-third:])
		limit := int64(float64(first)*memGrowth) + memSlackMiB<<10
		id, _, _ := strings.Cut(key, "#")
		n := m.c.node(id)
		checked[id] = true
		lines = append(lines, fmt.Sprintf("%s %.0f->%.0f MiB", id, float64(first)/1024, float64(last)/1024))
		// A worker's heap grows to the working set of the task mix over the first minutes
		// (tokenizers, Arrow builders, Go's heap target): its flatness is asserted over a
		// window of memWorkerWindow or more; a shorter run prints it.
		asserted := n.role == "coordinator" || m.end.Sub(from) >= memWorkerWindow
		if !asserted {
			lines[len(lines)-1] += " (not asserted: window shorter than " + memWorkerWindow.String() + ")"
		}
		if asserted && last > limit {
			t.Errorf("memory of %s grew: the median RSS of the window's last third is %d KiB, the first third's peak %d KiB (limit %d KiB: x%.2f + %d MiB; %d samples)",
				key, last, first, limit, memGrowth, memSlackMiB, len(in))
		}
	}
	for _, n := range m.c.all() {
		if n.spare && !checked[n.id] {
			t.Errorf("memory of %s (a spare, never killed) was not measured over the window", n.id)
		}
	}
	return fmt.Sprintf("flat (last third's median <= x%.2f + %d MiB of the first third's peak) for %s", memGrowth, memSlackMiB, strings.Join(lines, ", "))
}

func median(v []int64) int64 {
	s := slices.Clone(v)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
