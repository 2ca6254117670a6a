// Package testcluster builds clusters of real coordinators for tests, in one test binary:
// raft on disk in the test's temporary directory, memberlist and gRPC on loopback with
// ports from the system, timings tight enough for tests (Config). WaitFor polls a condition
// until it holds, failing the test with what it waited for.
//
// Only tests import this package.
package testcluster
