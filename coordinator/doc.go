// Package coordinator is the control plane's server side: the raft-replicated state of jobs,
// tasks, leases and results (package fsm), the node that replicates it (raft on disk, gossip
// formation with bootstrap-expect), the scheduler of leases on the leader, and the gRPC
// services, which every node answers by forwarding to the leader what needs it. DESIGN.md
// beside this file describes the replicated state, the node, forwarding, the scheduler and
// the leases. The coordinator never reads job data: listing, planning, shards and finalize
// run on workers.
//
// Concurrency: a Node is safe for concurrent use; its gRPC handlers run concurrently, the
// scheduler guards its memory with one mutex and never holds it across a raft apply, and
// Shutdown waits for every goroutine the node started.
package coordinator
