package fsm

import (
	"errors"
	"slices"
	"strings"
	"testing"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// fixture is the state the apply tests start from: job "a" planned with 4 shards and
// max_attempts 2, shards 0 and 1 leased to w1 at epoch lease, shard 1 committed; job "p"
// submitted, its plan task leased to w2 at epoch planLease with 2 shards appended.
type fixture struct {
	h         *harness
	lease     uint64
	planLease uint64
}

func newFixture(t *testing.T) *fixture {
	h := newHarness(t)
	h.planned("a", 4, 2)
	fx := &fixture{h: h}
	fx.lease = h.grant("w1", shardRef("a", 0), shardRef("a", 1))
	h.must(CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{shardCommit(shardRef("a", 1), fx.lease, 0)}})
	h.submit("p", 0)
	fx.planLease = h.grant("w2", planRef("p"))
	h.must(AppendPlan, &pb.AppendPlanCommand{Task: planRef("p").Proto(), Epoch: fx.planLease,
		Specs: [][]byte{specJSON(0), specJSON(1)}})
	return fx
}

func (fx *fixture) task(t *testing.T, ref TaskRef) TaskInfo {
	t.Helper()
	ti, ok := fx.h.f.Task(ref)
	if !ok {
		t.Fatalf("no task %s", ref)
	}
	return ti
}

func (fx *fixture) job(t *testing.T, id string) *pb.JobStatus {
	t.Helper()
	s, ok := fx.h.f.Job(id)
	if !ok {
		t.Fatalf("no job %s", id)
	}
	return s
}

func TestFSM_Apply(t *testing.T) {
	type cmd struct {
		t CommandType
		m proto.Message
	}
	tests := []struct {
		name  string
		cmd   func(fx *fixture) cmd
		want  []error // per item: nil or the sentinel it wraps
		check func(t *testing.T, fx *fixture)
	}{
		{"submit adds a planning job with its plan task pending",
			func(fx *fixture) cmd {
				return cmd{SubmitJob, &pb.SubmitJobCommand{JobId: "b", Name: "b", Spec: []byte("x")}}
			},
			[]error{nil},
			func(t *testing.T, fx *fixture) {
				s := fx.job(t, "b")
				if s.State != pb.JobState_JOB_STATE_PLANNING || s.MaxAttempts != DefaultMaxAttempts || s.Tasks.Pending != 1 {
					t.Errorf("status = %v", s)
				}
			}},
		{"submit of an existing id is refused",
			func(fx *fixture) cmd { return cmd{SubmitJob, &pb.SubmitJobCommand{JobId: "a", Spec: []byte("x")}} },
			[]error{ErrJobExists}, nil},
		{"submit without a spec is refused",
			func(fx *fixture) cmd { return cmd{SubmitJob, &pb.SubmitJobCommand{JobId: "c"}} },
			[]error{ErrBadCommand}, nil},
		{"clean records a canceled job cleaned, again without error; an active or unknown job is refused",
			func(fx *fixture) cmd {
				if got := fx.h.f.Unclean(); len(got) != 0 {
					t.Errorf("Unclean before the cancel = %v", got)
				}
				fx.h.must(CancelJob, &pb.CancelJobCommand{JobId: "p"})
				if got := fx.h.f.Unclean(); !slices.Equal(got, []string{"p"}) {
					t.Errorf("Unclean after the cancel = %v, want [p]", got)
				}
				return cmd{CleanJobs, &pb.CleanJobsCommand{JobIds: []string{"p", "p", "a", "zz"}}}
			},
			[]error{nil, nil, ErrBadCommand, ErrUnknownJob},
			func(t *testing.T, fx *fixture) {
				if s := fx.job(t, "p"); !s.Cleaned || s.State != pb.JobState_JOB_STATE_CANCELED {
					t.Errorf("status of p = %v", s)
				}
				if s := fx.job(t, "a"); s.Cleaned {
					t.Errorf("the running job a is cleaned: %v", s)
				}
				if got := fx.h.f.Unclean(); len(got) != 0 {
					t.Errorf("Unclean after the clean = %v", got)
				}
			}},
		{"grant leases each pending task on its own, epoch = index",
			func(fx *fixture) cmd {
				return cmd{GrantLeases, &pb.GrantCommand{Grants: []*pb.Grant{
					{Task: shardRef("a", 2).Proto(), WorkerId: "w3", DeadlineUnixMs: 99},
					{Task: shardRef("a", 0).Proto(), WorkerId: "w3"},
					{Task: shardRef("a", 1).Proto(), WorkerId: "w3"},
					{Task: shardRef("a", 9).Proto(), WorkerId: "w3"},
					{Task: shardRef("zz", 0).Proto(), WorkerId: "w3"},
					{Task: shardRef("a", 3).Proto()},
				}}}
			},
			[]error{nil, ErrNotPending, ErrCommitted, ErrUnknownTask, ErrUnknownJob, ErrBadCommand},
			func(t *testing.T, fx *fixture) {
				ti := fx.task(t, shardRef("a", 2))
				if ti.State != pb.TaskState_TASK_STATE_LEASED || ti.Lease != (Lease{"w3", fx.h.index, 99}) {
					t.Errorf("task = %+v", ti)
				}
				if got := fx.h.f.LeasesOf("w3"); len(got) != 1 || got[0].Task != shardRef("a", 2) {
					t.Errorf("LeasesOf(w3) = %v", got)
				}
			}},
		{"grant of a planning job's staged shard is refused",
			func(fx *fixture) cmd {
				return cmd{GrantLeases, &pb.GrantCommand{Grants: []*pb.Grant{{Task: shardRef("p", 0).Proto(), WorkerId: "w3"}}}}
			},
			[]error{ErrUnknownTask}, nil},
		{"expire puts the task back pending for its next attempt",
			func(fx *fixture) cmd {
				return cmd{ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{
					{Task: shardRef("a", 0).Proto(), Epoch: fx.lease, Cause: "lease expired"},
					{Task: shardRef("a", 1).Proto(), Epoch: fx.lease},
					{Task: shardRef("a", 2).Proto(), Epoch: fx.lease},
				}}}
			},
			[]error{nil, ErrCommitted, ErrStaleEpoch},
			func(t *testing.T, fx *fixture) {
				ti := fx.task(t, shardRef("a", 0))
				if ti.State != pb.TaskState_TASK_STATE_PENDING || ti.Attempt != 1 || ti.Failures != 1 || ti.Cause != "lease expired" || ti.Lease != (Lease{}) {
					t.Errorf("task = %+v", ti)
				}
				want := []TaskRef{shardRef("a", 0), shardRef("a", 2), shardRef("a", 3)}
				if got := fx.h.f.Pending(10); !slices.Equal(got, want) {
					t.Errorf("Pending = %v, want %v", got, want)
				}
			}},
		{"expire of a plan lease drops the appended shards",
			func(fx *fixture) cmd {
				return cmd{ExpireLeases, &pb.ExpireCommand{Expiries: []*pb.Expiry{{Task: planRef("p").Proto(), Epoch: fx.planLease, Cause: "worker w2 died"}}}}
			},
			[]error{nil},
			func(t *testing.T, fx *fixture) {
				epoch := fx.h.grant("w3", planRef("p"))
				res := fx.h.apply(AppendPlan, &pb.AppendPlanCommand{Task: planRef("p").Proto(), Epoch: epoch, FirstIndex: 2, Specs: [][]byte{specJSON(2)}})
				if !errors.Is(res.Err(), ErrPlanOrder) {
					t.Errorf("append at 2 after a lost plan lease: %v, want ErrPlanOrder", res.Err())
				}
			}},
		{"fail with an error counts; the last allowed attempt fails the job naming shard, input and cause",
			func(fx *fixture) cmd {
				return cmd{FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{
					{Task: shardRef("a", 0).Proto(), Epoch: fx.lease, Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "disk full"},
				}}}
			},
			[]error{nil},
			func(t *testing.T, fx *fixture) {
				epoch := fx.h.grant("w1", shardRef("a", 0))
				fx.h.must(FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{
					{Task: shardRef("a", 0).Proto(), Epoch: epoch, Kind: pb.FailureKind_FAILURE_KIND_ERROR, Cause: "out of memory"}}})
				s := fx.job(t, "a")
				want := "shard 000000 (input /mnt/shared/corpora/common-crawl/2026-05/en/part-00000.jsonl) failed 2 times (max_attempts 2), last: out of memory"
				if s.State != pb.JobState_JOB_STATE_FAILED || s.Error != want {
					t.Errorf("job = %v %q, want failed %q", s.State, s.Error, want)
				}
			}},
		{"a released task does not count towards max_attempts",
			func(fx *fixture) cmd {
				return cmd{FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{
					{Task: shardRef("a", 0).Proto(), Epoch: fx.lease, Kind: pb.FailureKind_FAILURE_KIND_RELEASED, Cause: "draining"}}}}
			},
			[]error{nil},
			func(t *testing.T, fx *fixture) {
				if ti := fx.task(t, shardRef("a", 0)); ti.Attempt != 1 || ti.Failures != 0 || ti.State != pb.TaskState_TASK_STATE_PENDING {
					t.Errorf("task = %+v", ti)
				}
			}},
		{"an input error that names its file names it once",
			func(fx *fixture) cmd {
				return cmd{FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{
					{Task: shardRef("a", 0).Proto(), Epoch: fx.lease, Kind: pb.FailureKind_FAILURE_KIND_INPUT,
						Cause: "/mnt/shared/corpora/common-crawl/2026-05/en/part-00000.jsonl: line 7: invalid UTF-8"},
				}}}
			},
			[]error{nil},
			func(t *testing.T, fx *fixture) {
				want := "shard 000000: /mnt/shared/corpora/common-crawl/2026-05/en/part-00000.jsonl: line 7: invalid UTF-8"
				if s := fx.job(t, "a"); s.State != pb.JobState_JOB_STATE_FAILED || s.Error != want {
					t.Errorf("job = %v %q, want failed %q", s.State, s.Error, want)
				}
			}},
		{"an input error fails the job at once",
			func(fx *fixture) cmd {
				return cmd{FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{
					{Task: shardRef("a", 0).Proto(), Epoch: fx.lease, Kind: pb.FailureKind_FAILURE_KIND_INPUT, Cause: "line 7: invalid UTF-8"},
					{Task: shardRef("a", 0).Proto(), Epoch: fx.lease, Kind: pb.FailureKind_FAILURE_KIND_INPUT, Cause: "again"},
				}}}
			},
			[]error{nil, ErrJobFinal},
			func(t *testing.T, fx *fixture) {
				s := fx.job(t, "a")
				if s.State != pb.JobState_JOB_STATE_FAILED || !strings.Contains(s.Error, "shard 000000 (input /mnt/") || !strings.HasSuffix(s.Error, ": line 7: invalid UTF-8") {
					t.Errorf("job = %v %q", s.State, s.Error)
				}
				if got := fx.h.f.LeasesOf("w1"); len(got) != 0 {
					t.Errorf("a failed job keeps leases: %v", got)
				}
			}},
		{"a failure without a kind is refused",
			func(fx *fixture) cmd {
				return cmd{FailTasks, &pb.FailCommand{Failures: []*pb.TaskFailure{{Task: shardRef("a", 0).Proto(), Epoch: fx.lease}}}}
			},
			[]error{ErrBadCommand}, nil},
		{"commit keeps the result and ends the lease",
			func(fx *fixture) cmd {
				return cmd{CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{
					shardCommit(shardRef("a", 0), fx.lease, 0),
					shardCommit(shardRef("a", 0), fx.lease, 0),
				}}}
			},
			[]error{nil, ErrCommitted},
			func(t *testing.T, fx *fixture) {
				ti := fx.task(t, shardRef("a", 0))
				if ti.State != pb.TaskState_TASK_STATE_COMMITTED || !proto.Equal(ti.Result, resultOf(0, 0)) || ti.Lease != (Lease{}) {
					t.Errorf("task = %+v", ti)
				}
				if s := fx.job(t, "a"); s.Tasks.Committed != 3 || s.Progress.Documents != 2*31_337 {
					t.Errorf("status = %v", s)
				}
			}},
		{"commit of another attempt's result or of the wrong kind is refused",
			func(fx *fixture) cmd {
				return cmd{CommitTasks, &pb.CommitCommand{Commits: []*pb.TaskCommit{
					shardCommit(shardRef("a", 0), fx.lease, 1),
					{Task: shardRef("a", 0).Proto(), Epoch: fx.lease, Result: &pb.TaskCommit_Plan{Plan: &pb.PlanResult{}}},
					{Task: shardRef("a", 0).Proto(), Epoch: fx.lease},
				}}}
			},
			[]error{ErrBadCommand, ErrBadCommand, ErrBadCommand}, nil},
		{"a plan commit must count the appended shards",
			func(fx *fixture) cmd { return cmd{CommitTasks, commitPlan(planRef("p"), fx.planLease, 3)} },
			[]error{ErrPlanOrder}, nil},
		{"the plan commit makes the shards pending and adds a blocked finalize task",
			func(fx *fixture) cmd { return cmd{CommitTasks, commitPlan(planRef("p"), fx.planLease, 2)} },
			[]error{nil},
			func(t *testing.T, fx *fixture) {
				s := fx.job(t, "p")
				if s.State != pb.JobState_JOB_STATE_RUNNING || s.Shards != 2 || s.Tasks.Pending != 2 || s.Tasks.Blocked != 1 || s.Tasks.Committed != 1 {
					t.Errorf("status = %v", s)
				}
			}},
		{"plan batches arrive in order",
			func(fx *fixture) cmd {
				return cmd{AppendPlan, &pb.AppendPlanCommand{Task: planRef("p").Proto(), Epoch: fx.planLease, FirstIndex: 1, Specs: [][]byte{specJSON(1)}}}
			},
			[]error{ErrPlanOrder}, nil},
		{"a plan batch needs the plan lease",
			func(fx *fixture) cmd {
				return cmd{AppendPlan, &pb.AppendPlanCommand{Task: planRef("p").Proto(), Epoch: fx.lease, FirstIndex: 2, Specs: [][]byte{specJSON(2)}}}
			},
			[]error{ErrStaleEpoch}, nil},
		{"a plan batch with an empty spec is refused whole",
			func(fx *fixture) cmd {
				return cmd{AppendPlan, &pb.AppendPlanCommand{Task: planRef("p").Proto(), Epoch: fx.planLease, FirstIndex: 2, Specs: [][]byte{specJSON(2), nil}}}
			},
			[]error{ErrBadCommand},
			func(t *testing.T, fx *fixture) {
				fx.h.must(AppendPlan, &pb.AppendPlanCommand{Task: planRef("p").Proto(), Epoch: fx.planLease, FirstIndex: 2, Specs: [][]byte{specJSON(2)}})
			}},
		{"cancel ends the job and its leases",
			func(fx *fixture) cmd { return cmd{CancelJob, &pb.CancelJobCommand{JobId: "a", Reason: "by alice"}} },
			[]error{nil},
			func(t *testing.T, fx *fixture) {
				if s := fx.job(t, "a"); s.State != pb.JobState_JOB_STATE_CANCELED || s.Error != "canceled: by alice" || s.Tasks.Leased != 0 {
					t.Errorf("status = %v", s)
				}
				for _, r := range fx.h.f.Pending(100) {
					if r.Job == "a" {
						t.Errorf("a canceled job's task %s is offered", r)
					}
				}
				res := fx.h.apply(GrantLeases, &pb.GrantCommand{Grants: []*pb.Grant{{Task: shardRef("a", 2).Proto(), WorkerId: "w1"}}})
				if !errors.Is(res.Err(), ErrJobFinal) {
					t.Errorf("grant after cancel: %v", res.Err())
				}
			}},
		{"cancel of a final or unknown job is refused",
			func(fx *fixture) cmd { return cmd{CancelJob, &pb.CancelJobCommand{JobId: "nope"}} },
			[]error{ErrUnknownJob}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newFixture(t)
			c := tt.cmd(fx)
			res := fx.h.apply(c.t, c.m)
			if res.Index != fx.h.index || len(res.Errs) != len(tt.want) {
				t.Fatalf("result = %+v, want %d items at index %d", res, len(tt.want), fx.h.index)
			}
			for i, want := range tt.want {
				if got := res.Errs[i]; (want == nil) != (got == nil) || !errors.Is(got, want) {
					t.Errorf("item %d: err = %v, want %v", i, got, want)
				}
			}
			if tt.check != nil {
				tt.check(t, fx)
			}
		})
	}
}

func TestFSM_ApplyCommandVersioning(t *testing.T) {
	body, _ := proto.Marshal(&pb.SubmitJobCommand{JobId: "x", Spec: []byte("x")})
	tests := []struct {
		name  string
		data  []byte
		fatal bool
	}{
		{"known type and version", append([]byte{byte(SubmitJob), 1}, body...), false},
		{"unknown type", []byte{99, 1}, true},
		{"unknown type flagged ignorable", []byte{99 | byte(IgnoreUnknown), 1, 0xff}, false},
		{"newer version of a known type", append([]byte{byte(SubmitJob), 2}, body...), true},
		{"newer version flagged ignorable", append([]byte{byte(SubmitJob | IgnoreUnknown), 2}, body...), false},
		{"version 0", append([]byte{byte(SubmitJob), 0}, body...), true},
		{"no version byte", []byte{byte(SubmitJob)}, true},
		{"undecodable body", []byte{byte(SubmitJob), 1, 0xff, 0xff}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := New()
			res, err := f.ApplyCommand(7, tt.data)
			var fe *FatalError
			if tt.fatal != errors.As(err, &fe) {
				t.Fatalf("err = %v, fatal want %v", err, tt.fatal)
			}
			if !tt.fatal && (res.Index != 7 || f.Index() != 7) {
				t.Errorf("index = %d/%d, want 7", res.Index, f.Index())
			}
			if tt.fatal && f.Index() != 0 {
				t.Errorf("a fatal entry moved the index to %d", f.Index())
			}
		})
	}
}

func TestFSM_ApplyPanicsOnFatal(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Apply of an unknown command did not panic")
		}
	}()
	New().Apply(raftLog(3, []byte{42, 1}))
}
