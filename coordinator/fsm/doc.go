// Package fsm is the coordinator's replicated state machine: jobs, their tasks (one plan task,
// N shard tasks, one finalize task), each task's state, attempt, lease and committed result.
//
// The state changes only through commands (command.go), each a raft log entry applied by
// Apply in log order. Apply is deterministic: it reads no clock (deadlines and times are
// values carried in commands), draws no random numbers, does no I/O and never lets map order
// reach its results, so every replica that applies the same log holds the same state and
// answers the same responses. A command that is refused (a stale epoch, a second result, a
// job already final) returns its typed error in the Result; a log entry that cannot be decoded
// is a fatal error, since a replica that skipped it would diverge.
//
// Concurrency: FSM is safe for concurrent use. Apply, Restore and the query methods take its
// lock; Snapshot captures the state under it and Persist writes the capture without it, as
// hashicorp/raft's FSM contract asks. Query methods return copies or values that are never
// modified afterwards (spec bytes, committed results): callers must not modify them either.
package fsm
