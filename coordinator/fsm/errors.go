package fsm

import "errors"

// Refusals: a command that the state does not allow returns one of these (wrapped with the
// task or job it concerns) in its Result. errors.Is tells them apart.
var (
	// ErrUnknownJob: no job has the id.
	ErrUnknownJob = errors.New("fsm: unknown job")
	// ErrJobExists: a job with the id was submitted before.
	ErrJobExists = errors.New("fsm: job exists")
	// ErrJobFinal: the job succeeded, failed or was canceled; it takes no lease or result.
	ErrJobFinal = errors.New("fsm: job is final")
	// ErrUnknownTask: the job has no such task (yet).
	ErrUnknownTask = errors.New("fsm: unknown task")
	// ErrNotPending: a grant names a task that is not pending.
	ErrNotPending = errors.New("fsm: task not pending")
	// ErrStaleEpoch: the epoch is not the task's current lease (it expired, was lost, or was
	// never granted).
	ErrStaleEpoch = errors.New("fsm: stale lease epoch")
	// ErrCommitted: the task already has its result; the first accepted result wins.
	ErrCommitted = errors.New("fsm: task already committed")
	// ErrPlanOrder: plan batches must arrive in order, without gaps or overlaps.
	ErrPlanOrder = errors.New("fsm: plan batch out of order")
	// ErrSpeculating: a speculation names a task that has a backup lease already.
	ErrSpeculating = errors.New("fsm: task runs a speculative attempt already")
	// ErrBadCommand: a field of the command is missing or impossible.
	ErrBadCommand = errors.New("fsm: bad command")
)
