// Package tokenmillv1 is the generated Go code of the cluster's protobuf messages and gRPC
// services (the .proto files beside it): the job, cluster and worker services, and the
// coordinator's raft log entries and snapshot records. `make proto` regenerates it; `make lint`
// fails when the committed code differs from what it makes. Messages are safe for concurrent
// reads; a message shared between goroutines is not modified.
package tokenmillv1
