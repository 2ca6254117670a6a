package coordinator

import (
	"context"
	"errors"
	"strings"

	"github.com/hashicorp/raft"
	"github.com/tokenmill/tokenmill/coordinator/fsm"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The coordinator's own refusals, besides the fsm's. Wrapped with %w; toStatus maps them.
var (
	// ErrNoLeader: no leader is elected (an election is under way, or a majority of the
	// coordinators is down).
	ErrNoLeader = errors.New("coordinator: no leader")
	// ErrNotLeader: a call forwarded to this node found it no longer the leader; the
	// forwarding node tries again.
	ErrNotLeader = errors.New("coordinator: not the leader")
	// ErrBadRequest: a field of the request is missing or impossible.
	ErrBadRequest = errors.New("coordinator: bad request")
	// ErrUnknownPeer: no raft server has the id.
	ErrUnknownPeer = errors.New("coordinator: unknown raft peer")
	// ErrShutdown: the node is shutting down.
	ErrShutdown = errors.New("coordinator: shutting down")
	// ErrPermission: the job names a path outside the allowed roots (--allowed-roots).
	ErrPermission = errors.New("coordinator: permission denied")
	// ErrLeaderGone: the leader a call was forwarded to stopped being this node's leader
	// before it answered (it died, vanished from the network or lost an election); the call
	// may or may not have been applied.
	ErrLeaderGone = errors.New("coordinator: the leader went away")
	// ErrStaleHeartbeat: a heartbeat arrived after a later one of the same worker process
	// was served (see HeartbeatRequest.seq).
	ErrStaleHeartbeat = errors.New("coordinator: stale heartbeat")
)

// statusOf maps each sentinel error to its gRPC code and to the words that replace the
// sentinel's own text in the status message, so a person reads "the job is already over:
// job j1 is succeeded" rather than a package prefix.
var statusOf = []struct {
	err  error
	code codes.Code
	text string
}{
	{fsm.ErrUnknownJob, codes.NotFound, "no such job"},
	{fsm.ErrUnknownTask, codes.NotFound, "no such task"},
	{ErrUnknownPeer, codes.NotFound, "no such raft peer"},
	{fsm.ErrJobExists, codes.AlreadyExists, "a different job was submitted with this id"},
	{fsm.ErrCommitted, codes.AlreadyExists, "the task already has its result (the first accepted result wins)"},
	{fsm.ErrStaleEpoch, codes.FailedPrecondition, "the lease is no longer current (it expired or the task went to another worker)"},
	{fsm.ErrJobFinal, codes.FailedPrecondition, "the job is already over"},
	{fsm.ErrNotPending, codes.FailedPrecondition, "the task is not pending"},
	{fsm.ErrPlanOrder, codes.FailedPrecondition, "plan batches out of order"},
	{fsm.ErrBadCommand, codes.InvalidArgument, "invalid request"},
	{ErrBadRequest, codes.InvalidArgument, "invalid request"},
	{ErrPermission, codes.PermissionDenied, "job spec"},
	{ErrStaleHeartbeat, codes.Aborted, "stale heartbeat"},
	{ErrNoLeader, codes.Unavailable, "no leader elected (is a majority of the coordinators up?)"},
	{ErrNotLeader, codes.Unavailable, notLeaderText},
	{ErrShutdown, codes.Unavailable, "the coordinator is shutting down"},
	{ErrLeaderGone, codes.Unavailable, "the leader went away before it answered the forwarded call; it may or may not have been applied"},
	{raft.ErrNotLeader, codes.Unavailable, notLeaderText},
	{raft.ErrLeadershipLost, codes.Unavailable, "leadership changed before the change was committed; it may or may not have been applied"},
	{raft.ErrLeadershipTransferInProgress, codes.Unavailable, "leadership is moving to another coordinator"},
	{raft.ErrAbortedByRestore, codes.Unavailable, "the coordinator restored a snapshot; try again"},
	{raft.ErrRaftShutdown, codes.Unavailable, "the coordinator is shutting down"},
	{raft.ErrEnqueueTimeout, codes.Unavailable, "the coordinator is overloaded (timed out queueing the change)"},
	{context.DeadlineExceeded, codes.DeadlineExceeded, "timed out"},
	{context.Canceled, codes.Canceled, "canceled"},
}

// notLeaderText is the message of the status that tells a forwarding node to try again.
const notLeaderText = "this coordinator is not the leader"

// toStatus returns err as a gRPC status error: a status error as it is, a sentinel by the
// table, anything else as Internal.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	for _, s := range statusOf {
		if errors.Is(err, s.err) {
			return status.Error(s.code, humanize(err, s))
		}
	}
	return status.Error(codes.Internal, err.Error())
}

// humanize replaces, in err's text, the sentinel's text by the table's words.
func humanize(err error, s struct {
	err  error
	code codes.Code
	text string
}) string {
	msg := err.Error()
	if strings.Contains(msg, s.err.Error()) {
		return strings.Replace(msg, s.err.Error(), s.text, 1)
	}
	return s.text + ": " + msg
}

// isNotLeader says the status is a forwarded call refused by a node that is not the leader:
// the call did nothing, and may go to the new leader.
func isNotLeader(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unavailable && strings.HasPrefix(st.Message(), notLeaderText)
}
