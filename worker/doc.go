// Package worker is the cluster's worker: a gossip member (role worker) that asks the
// coordinators for tasks over the WorkerService and runs them through the same data plane as
// `tokenmill run`.
//
// A job's tasks are one plan task (runner.List and planner.Plan, the specs sent in ordered
// batches by AppendPlan, then the plan committed), one shard task per shard (shard.Execute,
// or shard.ExecuteRecords for validate and convert jobs, staging under
// <out>/.staging/<job id>/<shard>/<attempt>/, the whole result written beside the staged
// outputs as result.json and committed as a summary that names that file by size and
// CRC-32C) and one finalize task (the committed summaries streamed by ShardResults, each
// result file read back from the attempt directory its summary names and checked, then
// shard.Finalize or shard.FinalizeRecords publishes the output atomically, manifest last).
//
// One goroutine heartbeats: each heartbeat lists every task the worker runs (with its
// progress), starts the leases the response grants up to the free slots and stops the tasks
// it orders stopped. A response may also order the cleanup of a failed or canceled job: the
// worker removes the job's staging area and finalize temporaries in the background and
// reports the job as cleaning, then cleaned, in its heartbeats. A task whose lease the worker cannot renew for the lease TTL (no
// coordinator answered) is abandoned: the coordinator has taken it back by then, so its
// result could never commit. Every call that reports on a task carries its lease's epoch;
// the coordinator refuses a stale one. A task may run on two workers at once (a speculative
// attempt of a slow shard, each in its own attempt directory): the attempt told to stop, or
// whose result is refused, removes what it staged. A failed attempt is classified (classify):
// an error of the machine (I/O, a full disk) is retried elsewhere, an error of the input
// fails the job; a failed finalize leaves the staged files for the next attempt.
//
// Concurrency: a Worker is safe for concurrent use. Each task runs on a goroutine of its own;
// Drain and Kill wait for all of them before they return.
package worker
