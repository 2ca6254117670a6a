package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/tokenmill/tokenmill/internal/auth"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// forwardedKey marks a call that a coordinator forwarded to the leader, with the
// forwarder's id: the receiver answers it itself or refuses it (ErrNotLeader), and never
// forwards it again, so that calls cannot loop between nodes that disagree on the leader.
const forwardedKey = "tokenmill-forwarded-by"

// withForwarded marks an outgoing call as forwarded by the node id, and carries the
// caller's identity (auth.Forward): its token, and the role this node found for it.
func withForwarded(ctx context.Context, id string) context.Context {
	return metadata.AppendToOutgoingContext(auth.Forward(ctx, ctx), forwardedKey, id)
}

func isForwarded(ctx context.Context) bool {
	md, ok := metadata.FromIncomingContext(ctx)
	return ok && len(md.Get(forwardedKey)) > 0
}

// connPool keeps one client connection per coordinator address.
type connPool struct {
	// dial are the options of every connection (TLS or plain TCP; see auth.DialOptions).
	dial   []grpc.DialOption
	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	closed bool
}

func (p *connPool) get(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrShutdown
	}
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	dial := p.dial
	if len(dial) == 0 {
		dial = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	c, err := grpc.NewClient(addr, dial...)
	if err != nil {
		return nil, fmt.Errorf("coordinator: connect to %s: %w", addr, err)
	}
	if p.conns == nil {
		p.conns = map[string]*grpc.ClientConn{}
	}
	p.conns[addr] = c
	return c, nil
}

func (p *connPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// leaderAddr returns the gRPC address of the leader, or self true when this node leads.
func (n *Node) leaderAddr() (addr string, self bool, err error) {
	if n.raft.State() == raft.Leader {
		return "", true, nil
	}
	_, id := n.raft.LeaderWithID()
	if id == "" || string(id) == n.cfg.ID {
		return "", false, ErrNoLeader
	}
	for _, m := range n.gossip.Members() {
		if m.Name == string(id) && m.Meta.GRPCAddr != "" {
			return m.Meta.GRPCAddr, false, nil
		}
	}
	return "", false, fmt.Errorf("%w: the leader %s is not among the gossip members yet", ErrNoLeader, id)
}

// leaderCheck is how often a forwarded call in flight checks that its leader still leads
// (see whileLeader).
const leaderCheck = 50 * time.Millisecond

// whileLeader returns a context of ctx that is canceled, with cause ErrLeaderGone, as soon
// as this node no longer knows addr as the leader's gRPC address: raft elected another
// leader, or lost the leader (a follower gives it up after HeartbeatTimeout without its
// heartbeats). A call forwarded to a leader that vanished from the network (a killed
// container's address drops every packet) would otherwise wait for its caller's deadline:
// a worker's heartbeat, for its RPC timeout, past the new leader's lease grace.
func (n *Node) whileLeader(ctx context.Context, addr string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(leaderCheck)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if now, self, err := n.leaderAddr(); err != nil || self || now != addr {
				_, id := n.raft.LeaderWithID()
				cancel(fmt.Errorf("%w: the leader at %s no longer leads (this node now knows %q as the leader)", ErrLeaderGone, addr, id))
				return
			}
		}
	}()
	return ctx, func() {
		close(stop)
		cancel(context.Canceled)
	}
}

// leaderGone returns ErrLeaderGone, with its cause, for a call that failed because
// whileLeader canceled ctx; err otherwise.
func leaderGone(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrLeaderGone) {
		return cause
	}
	return err
}

// mayRetry says a failed attempt may be made again: always when it certainly did nothing
// (this node or the forwarded-to node was not the leader, none is elected), and for
// idempotent calls also when it failed in a way that leaves its effect unknown.
func mayRetry(err error, idempotent bool) bool {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, ErrNotLeader), errors.Is(err, ErrNoLeader), isNotLeader(err):
		return true
	case !idempotent:
		return false
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress), errors.Is(err, ErrLeaderGone):
		return true
	}
	return status.Code(err) == codes.Unavailable
}

// forward runs a call on the leader: here, with local, when this node leads, else on the
// leader's gRPC server with call. While no leader is known, or the call reached a node that
// no longer leads, it waits and tries again, up to ForwardTimeout. A call that was itself
// forwarded is never forwarded again. idempotent calls are also tried again when an
// attempt's outcome is unknown (leadership lost during the call). The whole call is bounded
// by ForwardTimeout plus ApplyTimeout, or the caller's deadline if shorter.
func forward[C, Q, R any](ctx context.Context, n *Node, req Q, idempotent bool,
	local func(context.Context, Q) (R, error),
	newClient func(grpc.ClientConnInterface) C,
	call func(C, context.Context, Q, ...grpc.CallOption) (R, error)) (R, error) {
	var zero R
	ctx, cancel := context.WithTimeout(ctx, n.cfg.ForwardTimeout+n.cfg.ApplyTimeout)
	defer cancel()
	return retryLeader(ctx, n, idempotent, func(ctx context.Context, addr string, self bool) (R, bool, error) {
		if self {
			r, err := local(ctx, req)
			return r, false, err
		}
		cc, err := n.conns.get(addr)
		if err != nil {
			return zero, false, err
		}
		ctx, cancel := n.whileLeader(ctx, addr)
		defer cancel()
		r, err := call(newClient(cc), withForwarded(ctx, n.cfg.ID), req)
		return r, false, leaderGone(ctx, err)
	})
}

// forwardStream is forward for a server stream: it relays the leader's messages to out. A
// resumable stream (each message a whole state, like Watch's) that breaks because the
// leader went away is opened again on the next leader; another stream ends with Aborted if
// it breaks after sending.
func forwardStream[C, Q, M any](ctx context.Context, n *Node, req Q, resumable bool, out grpc.ServerStreamingServer[M],
	local func(context.Context, Q, func(*M) error) error,
	newClient func(grpc.ClientConnInterface) C,
	call func(C, context.Context, Q, ...grpc.CallOption) (grpc.ServerStreamingClient[M], error)) error {
	_, err := retryLeader(ctx, n, resumable, func(ctx context.Context, addr string, self bool) (struct{}, bool, error) {
		if self {
			return struct{}{}, false, local(ctx, req, out.Send)
		}
		cc, err := n.conns.get(addr)
		if err != nil {
			return struct{}{}, false, err
		}
		ctx, cancel := n.whileLeader(ctx, addr)
		defer cancel()
		in, err := call(newClient(cc), withForwarded(ctx, n.cfg.ID), req)
		if err != nil {
			return struct{}{}, false, leaderGone(ctx, err)
		}
		sent := false
		for {
			m, err := in.Recv()
			if err == io.EOF {
				return struct{}{}, sent, nil
			}
			if err != nil {
				err = leaderGone(ctx, err)
				if sent && !resumable {
					err = status.Errorf(codes.Aborted, "the stream from the leader broke: %v", status.Convert(err).Message())
				}
				return struct{}{}, sent, err
			}
			if err := out.Send(m); err != nil {
				return struct{}{}, sent, status.FromContextError(err).Err()
			}
			sent = true
		}
	})
	return err
}

// retryLeader calls attempt with the leader's address (or self) until it succeeds, fails
// for good (see mayRetry), ctx ends, or no attempt has made progress for ForwardTimeout (an
// attempt that returns progress true restarts that wait).
func retryLeader[R any](ctx context.Context, n *Node, idempotent bool,
	attempt func(ctx context.Context, addr string, self bool) (R, bool, error)) (R, error) {
	forwarded := isForwarded(ctx)
	backoff := 10 * time.Millisecond
	giveUp := time.Now().Add(n.cfg.ForwardTimeout)
	for {
		var r R
		var progress bool
		addr, self, err := n.leaderAddr()
		switch {
		case err == nil && (self || !forwarded):
			r, progress, err = attempt(ctx, addr, self)
		case err == nil:
			err = ErrNotLeader
		}
		if err == nil || !mayRetry(err, idempotent) || ctx.Err() != nil {
			return r, toStatus(err)
		}
		if forwarded && mayRetry(err, false) {
			return r, toStatus(ErrNotLeader) // certainly not done here: the forwarder retries
		}
		if progress {
			giveUp = time.Now().Add(n.cfg.ForwardTimeout)
			backoff = 10 * time.Millisecond
		}
		wait := min(backoff, time.Until(giveUp))
		if wait <= 0 {
			if errors.Is(err, ErrNoLeader) || isNotLeader(err) || errors.Is(err, raft.ErrNotLeader) {
				err = fmt.Errorf("%w (waited %v)", ErrNoLeader, n.cfg.ForwardTimeout)
			}
			return r, toStatus(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return r, toStatus(ctx.Err())
		case <-n.ctx.Done():
			t.Stop()
			return r, toStatus(ErrShutdown)
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}
