// Package members is the gossip layer that coordinators and workers share: the metadata a
// node advertises (Meta, encoded in memberlist's node meta with a format byte so that it can
// grow), and Agent, a memberlist node that joins the cluster, lists its members with their
// state and metadata, and reports joins, updates and failures as events.
//
// Concurrency: an Agent is safe for concurrent use. Its events are delivered in order on the
// channel of Events by a goroutine of its own, so that a slow reader never blocks gossip.
package members
