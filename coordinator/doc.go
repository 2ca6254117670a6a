// Package coordinator is the control plane's server side: the raft-replicated state of jobs,
// tasks, leases and results (package fsm), the scheduler on the leader, and the gRPC services.
// DESIGN.md beside this file describes the replicated state, its commands and the fencing of
// results. The coordinator never reads job data: listing, planning, shards and finalize run on
// workers.
package coordinator
