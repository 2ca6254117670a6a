// Package testcluster builds clusters of real coordinators and workers for tests, in one
// test binary: Start builds both, New the coordinators alone. Raft is on disk in the test's
// temporary directory, memberlist and gRPC on loopback with ports from the system, timings
// tight enough for tests (Config, WorkerConfig). WaitFor polls a condition until it holds,
// failing the test with what it waited for.
//
// Only tests import this package.
package testcluster
