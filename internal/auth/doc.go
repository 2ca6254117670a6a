// Package auth holds the cluster's security pieces that coordinators, workers and the CLI
// share, each off unless configured:
//
//   - the gossip key (NewGossipKey, ReadGossipKey): memberlist encrypts gossip with it;
//   - mutual TLS (LoadTLS): the server, client and raft configurations built from one
//     certificate, key and CA, and the role a certificate carries (RoleOf);
//   - bearer tokens (ReadToken, Token) and the Policy that the coordinator's gRPC interceptors
//     apply: a table of which call needs which caller (person, worker, coordinator);
//   - the path allow-list (Roots): a path is inside the allowed roots once ".." and symlinks
//     are resolved.
//
// # Roles
//
// With TLS, a caller's role is in its client certificate's Subject OU: "tokenmill-coordinator"
// for coordinators (whose certificates also carry the DNS name "coordinator.tokenmill", which
// every client verifies instead of an address), "tokenmill-worker" for workers, anything else
// for people. Without TLS the role is the bearer token's: the coordinators' --token-file is a
// person's, --worker-token-file a worker's.
package auth
