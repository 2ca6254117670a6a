package fsm

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// CommandType is the first byte of a log entry. The values are an append-only list: a value
// is never renumbered or reused, and a command whose meaning changes gets a new version (the
// second byte) or a new type.
type CommandType uint8

// The command types.
const (
	// SubmitJob adds a job (pb.SubmitJobCommand).
	SubmitJob CommandType = 1
	// CancelJob cancels a job (pb.CancelJobCommand).
	CancelJob CommandType = 2
	// GrantLeases leases pending tasks to workers (pb.GrantCommand); epoch = the entry's index.
	GrantLeases CommandType = 3
	// ExpireLeases takes leases back (pb.ExpireCommand).
	ExpireLeases CommandType = 4
	// CommitTasks commits task results (pb.CommitCommand).
	CommitTasks CommandType = 5
	// FailTasks records failed or handed-back attempts (pb.FailCommand).
	FailTasks CommandType = 6
	// AppendPlan adds shard specs to a job's plan (pb.AppendPlanCommand).
	AppendPlan CommandType = 7
	// CleanJobs records that failed or canceled jobs' staged files are removed
	// (pb.CleanJobsCommand).
	CleanJobs CommandType = 8
	// SpeculateLeases grants backup leases on leased shard tasks (pb.SpeculateCommand);
	// epoch = the entry's index.
	SpeculateLeases CommandType = 9
)

// IgnoreUnknown, set in a type byte, lets a replica that does not know the type (or its
// version) skip the entry instead of stopping. Only commands whose loss leaves the replicated
// state consistent may carry it.
const IgnoreUnknown CommandType = 0x80

// commandVersion is the version of each type that this binary writes and the newest it
// reads.
func commandVersion(t CommandType) (uint8, bool) {
	switch t {
	case SubmitJob, CancelJob, GrantLeases, ExpireLeases, CommitTasks, FailTasks, AppendPlan, CleanJobs, SpeculateLeases:
		return 1, true
	}
	return 0, false
}

// String names the type, for logs and errors.
func (t CommandType) String() string {
	names := [...]string{SubmitJob: "submit_job", CancelJob: "cancel_job", GrantLeases: "grant_leases",
		ExpireLeases: "expire_leases", CommitTasks: "commit_tasks", FailTasks: "fail_tasks", AppendPlan: "append_plan",
		CleanJobs: "clean_jobs", SpeculateLeases: "speculate_leases"}
	if b := t &^ IgnoreUnknown; int(b) < len(names) && names[b] != "" {
		return names[b]
	}
	return fmt.Sprintf("command_type(%d)", uint8(t))
}

// Encode returns the log entry of a command: its type byte, its version byte and the
// message, deterministically marshalled.
func Encode(t CommandType, m proto.Message) ([]byte, error) {
	v, ok := commandVersion(t &^ IgnoreUnknown)
	if !ok {
		return nil, fmt.Errorf("fsm: encode: unknown command type %d", uint8(t))
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("fsm: encode %s: %w", t, err)
	}
	return append([]byte{byte(t), v}, body...), nil
}

// FatalError is a log entry this replica cannot apply: an unknown type or version not flagged
// ignorable, or a body that does not decode. Applying past it would make the replica diverge.
type FatalError struct {
	Index uint64
	Type  CommandType
	Err   error
}

func (e *FatalError) Error() string {
	return fmt.Sprintf("fsm: cannot apply log entry %d (%s): %v", e.Index, e.Type, e.Err)
}

func (e *FatalError) Unwrap() error { return e.Err }
