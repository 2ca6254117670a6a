// Package client is the CLI's side of a cluster: it dials one coordinator (any of them
// answers every call), submits job files with their relative paths made absolute by the
// rules of `tokenmill run` (job.Load, job.ResolveFile), reads and follows jobs, lists the
// members and the raft peers, and turns the coordinator's gRPC statuses into sentences a
// person reads. The views (view.go) are what the CLI prints: stable JSON objects and
// tables.
package client
