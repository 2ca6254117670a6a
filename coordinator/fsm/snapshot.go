package fsm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/hashicorp/raft"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// SnapshotVersion is the version of the snapshot format that Persist writes and the newest
// that Restore reads. A snapshot is a sequence of records, each a uvarint length followed by a
// pb.SnapshotRecord: a header, then each job (in submission order) followed by its tasks: the
// plan task, its shard tasks, and its finalize task once the plan is committed.
const SnapshotVersion = 1

// maxRecord bounds one snapshot record: a larger length means a corrupt snapshot.
const maxRecord = 64 << 20

// snapshot is a captured state: copies of the jobs and their task slices. The values the
// tasks reference (specs, results) are never modified, so they are shared, not copied.
type snapshot struct {
	index uint64
	jobs  []job
}

var _ raft.FSMSnapshot = (*snapshot)(nil)

// Snapshot captures the state; Persist writes the capture while Apply goes on.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.st.capture(), nil
}

func (st *state) capture() *snapshot {
	s := &snapshot{index: st.index, jobs: make([]job, len(st.order))}
	for i, j := range st.order {
		c := *j
		c.shards = slices.Clone(j.shards)
		if j.finalTask != nil {
			ft := *j.finalTask
			c.finalTask = &ft
		}
		s.jobs[i] = c
	}
	return s
}

// Persist writes the snapshot to sink and closes it, or cancels it on an error.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := s.write(sink); err != nil {
		return errors.Join(err, sink.Cancel())
	}
	return sink.Close()
}

// Release does nothing: the capture holds no resources.
func (s *snapshot) Release() {}

// write writes the records of the snapshot to w.
func (s *snapshot) write(w io.Writer) error {
	rw := &recordWriter{w: bufio.NewWriterSize(w, 1<<16)}
	rw.put(&pb.SnapshotRecord{Record: &pb.SnapshotRecord_Header{Header: &pb.SnapshotHeader{
		Version: SnapshotVersion, Jobs: uint32(len(s.jobs)), Index: s.index}}})
	for i := range s.jobs {
		j := &s.jobs[i]
		rw.put(&pb.SnapshotRecord{Record: &pb.SnapshotRecord_Job{Job: jobRecord(j)}})
		rw.putTask(&j.planTask)
		for k := range j.shards {
			rw.putTask(&j.shards[k])
		}
		if j.finalTask != nil {
			rw.putTask(j.finalTask)
		}
	}
	if rw.err != nil {
		return rw.err
	}
	return rw.w.Flush()
}

// recordWriter writes length-prefixed records; the first error sticks.
type recordWriter struct {
	w   *bufio.Writer
	buf []byte
	err error
}

func (rw *recordWriter) put(m *pb.SnapshotRecord) {
	if rw.err != nil {
		return
	}
	b, err := proto.MarshalOptions{Deterministic: true}.MarshalAppend(rw.buf[:0], m)
	if err != nil {
		rw.err = fmt.Errorf("fsm: snapshot: %w", err)
		return
	}
	rw.buf = b
	var n [binary.MaxVarintLen64]byte
	if _, err := rw.w.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))]); err != nil {
		rw.err = err
		return
	}
	if _, err := rw.w.Write(b); err != nil {
		rw.err = err
	}
}

func (rw *recordWriter) putTask(t *task) {
	rw.put(&pb.SnapshotRecord{Record: &pb.SnapshotRecord_Task{Task: taskRecord(t)}})
}

func jobRecord(j *job) *pb.JobRecord {
	return &pb.JobRecord{JobId: j.id, Name: j.name, Spec: j.spec, MaxAttempts: j.maxAttempts,
		SubmittedUnixMs: j.submitted, State: j.state, Error: j.err, Shards: uint32(len(j.shards)),
		Plan: j.plan, Finalize: j.finalize, Cleaned: j.cleaned}
}

func taskRecord(t *task) *pb.TaskRecord {
	r := &pb.TaskRecord{Task: &pb.TaskRef{Kind: t.kind, Shard: t.index}, State: t.state,
		Attempt: t.attempt, Failures: t.failures, LastCause: t.cause, Spec: t.spec, Result: t.result}
	if t.state == pb.TaskState_TASK_STATE_LEASED {
		r.Lease = &pb.Lease{WorkerId: t.lease.Worker, Epoch: t.lease.Epoch, DeadlineUnixMs: t.lease.DeadlineUnixMS}
		if b := t.backup; b.held() {
			r.Backup = &pb.Lease{WorkerId: b.Worker, Epoch: b.Epoch, DeadlineUnixMs: b.DeadlineUnixMS}
			r.BackupAttempt = t.backupAttempt
		}
	}
	r.LastAttempt = t.lastAttempt
	return r
}

// readSnapshot reads a snapshot that write wrote into a new state.
func readSnapshot(r io.Reader) (*state, error) {
	rr := &recordReader{r: bufio.NewReaderSize(r, 1<<16)}
	h := rr.next().GetHeader()
	if rr.err != nil {
		return nil, rr.err
	}
	if h == nil {
		return nil, errors.New("fsm: restore: the snapshot does not start with a header")
	}
	if h.Version == 0 || h.Version > SnapshotVersion {
		return nil, fmt.Errorf("fsm: restore: snapshot version %d, this binary reads up to %d", h.Version, SnapshotVersion)
	}
	st := newState()
	st.index = h.Index
	for range h.Jobs {
		j, err := rr.job()
		if err != nil {
			return nil, err
		}
		if _, dup := st.jobs[j.id]; dup {
			return nil, fmt.Errorf("fsm: restore: job %s twice", j.id)
		}
		j.seq = len(st.order)
		st.jobs[j.id] = j
		st.order = append(st.order, j)
		st.derive(j)
	}
	if _, err := rr.r.ReadByte(); err != io.EOF {
		return nil, errors.New("fsm: restore: data after the last job")
	}
	return st, nil
}

// recordReader reads length-prefixed records; the first error sticks.
type recordReader struct {
	r   *bufio.Reader
	buf []byte
	err error
}

func (rr *recordReader) next() *pb.SnapshotRecord {
	if rr.err != nil {
		return nil
	}
	n, err := binary.ReadUvarint(rr.r)
	if err == nil && n > maxRecord {
		err = fmt.Errorf("record of %d bytes", n)
	}
	if err == nil {
		rr.buf = slices.Grow(rr.buf[:0], int(n))[:n]
		_, err = io.ReadFull(rr.r, rr.buf)
	}
	m := &pb.SnapshotRecord{}
	if err == nil {
		err = proto.Unmarshal(rr.buf, m)
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		rr.err = fmt.Errorf("fsm: restore: %w", err)
		return nil
	}
	return m
}

// job reads a job record and its tasks.
func (rr *recordReader) job() (*job, error) {
	rec := rr.next().GetJob()
	if rr.err == nil && rec == nil {
		rr.err = errors.New("fsm: restore: expected a job record")
	}
	if rr.err != nil {
		return nil, rr.err
	}
	j := &job{id: rec.JobId, name: rec.Name, spec: rec.Spec, maxAttempts: rec.MaxAttempts,
		submitted: rec.SubmittedUnixMs, state: rec.State, err: rec.Error, plan: rec.Plan, finalize: rec.Finalize,
		cleaned: rec.Cleaned}
	rr.task(&j.planTask, pb.TaskKind_TASK_KIND_PLAN, 0)
	j.shards = make([]task, rec.Shards)
	for i := range j.shards {
		rr.task(&j.shards[i], pb.TaskKind_TASK_KIND_SHARD, uint32(i))
	}
	if j.plan != nil {
		j.finalTask = &task{}
		rr.task(j.finalTask, pb.TaskKind_TASK_KIND_FINALIZE, 0)
	}
	if rr.err != nil {
		return nil, fmt.Errorf("%w (job %s)", rr.err, j.id)
	}
	return j, nil
}

// task reads the task record of the given kind and index into t.
func (rr *recordReader) task(t *task, kind pb.TaskKind, index uint32) {
	rec := rr.next().GetTask()
	if rr.err != nil {
		return
	}
	if rec.GetTask().GetKind() != kind || rec.GetTask().GetShard() != index {
		rr.err = fmt.Errorf("fsm: restore: expected the task record of %s %d", kind, index)
		return
	}
	*t = task{kind: kind, index: rec.Task.Shard, state: rec.State, attempt: rec.Attempt,
		failures: rec.Failures, cause: rec.LastCause, spec: rec.Spec, result: rec.Result, lastAttempt: rec.LastAttempt}
	if l := rec.Lease; l != nil {
		t.lease = Lease{Worker: l.WorkerId, Epoch: l.Epoch, DeadlineUnixMS: l.DeadlineUnixMs}
	}
	if l := rec.Backup; l != nil && t.state == pb.TaskState_TASK_STATE_LEASED {
		t.backup = Lease{Worker: l.WorkerId, Epoch: l.Epoch, DeadlineUnixMS: l.DeadlineUnixMs}
		t.backupAttempt = rec.BackupAttempt
	}
}

// derive rebuilds what the state derives from a restored job's tasks.
func (st *state) derive(j *job) {
	visit := func(t *task) {
		if t.state == pb.TaskState_TASK_STATE_LEASED {
			j.leased++
			st.track(t.lease.Worker, j.ref(t))
			if t.backup.held() {
				st.track(t.backup.Worker, j.ref(t))
			}
		}
	}
	visit(&j.planTask)
	for i := range j.shards {
		t := &j.shards[i]
		visit(t)
		if t.state == pb.TaskState_TASK_STATE_COMMITTED {
			j.committed++
			j.addDone(t.result)
		}
	}
	if j.finalTask != nil {
		visit(j.finalTask)
	}
	j.advancePending()
	if j.needsCleanup() {
		st.unclean[j.id] = j
	}
}
