package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tokenmill/tokenmill/internal/members"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errNoCoordinator is returned when gossip shows no coordinator alive.
var errNoCoordinator = errors.New("worker: no coordinator known (gossip shows none alive)")

// errCoordinatorGone ends a call to a coordinator that gossip stopped showing alive while
// the call was in flight.
var errCoordinatorGone = errors.New("worker: gossip no longer shows the coordinator alive")

// aliveCheck is how often a call in flight checks that gossip still shows its coordinator
// alive (see whileAlive).
const aliveCheck = 100 * time.Millisecond

// coordinators finds the coordinators by gossip (role coordinator, their gRPC addresses)
// and calls the WorkerService on them: any coordinator serves, since followers forward to
// the leader. A call goes first to the coordinator that answered last, and on an error that
// may be another coordinator's to give (unavailable, timed out) to the next one. A call in
// flight to a coordinator that gossip declares dead goes to the next one at once: a
// coordinator that vanished from the network (a killed container's address drops every
// packet) would otherwise hold it for the whole RPC timeout, longer than the lease TTL.
type coordinators struct {
	gossip  *members.Agent
	dial    []grpc.DialOption
	timeout time.Duration

	mu     sync.Mutex
	conns  map[string]*grpc.ClientConn
	last   string // the address that answered last
	closed bool
}

func newCoordinators(g *members.Agent, timeout time.Duration, dial []grpc.DialOption) *coordinators {
	return &coordinators{gossip: g, dial: dial, timeout: timeout, conns: map[string]*grpc.ClientConn{}}
}

// addrs returns the gRPC addresses of the alive coordinators, the one that answered last
// first, the others in gossip's (name) order.
func (c *coordinators) addrs() []string {
	var out []string
	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	for _, m := range c.gossip.Alive(members.RoleCoordinator) {
		if m.Meta.GRPCAddr == "" {
			continue
		}
		if m.Meta.GRPCAddr == last {
			out = append([]string{last}, out...)
		} else {
			out = append(out, m.Meta.GRPCAddr)
		}
	}
	return out
}

func (c *coordinators) conn(addr string) (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("worker: stopped")
	}
	if cc := c.conns[addr]; cc != nil {
		return cc, nil
	}
	cc, err := grpc.NewClient(addr, c.dial...)
	if err != nil {
		return nil, fmt.Errorf("worker: connect to coordinator %s: %w", addr, err)
	}
	c.conns[addr] = cc
	return cc, nil
}

// call calls fn on the coordinators in turn, each call bounded by the RPC timeout, until one
// answers or refuses for good (see refused); it returns the last error when none did.
func (c *coordinators) call(ctx context.Context, fn func(context.Context, pb.WorkerServiceClient) error) error {
	return c.try(ctx, c.timeout, fn)
}

// callStream is call for a stream, which ctx alone bounds.
func (c *coordinators) callStream(ctx context.Context, fn func(context.Context, pb.WorkerServiceClient) error) error {
	return c.try(ctx, 0, fn)
}

func (c *coordinators) try(ctx context.Context, timeout time.Duration, fn func(context.Context, pb.WorkerServiceClient) error) error {
	addrs := c.addrs()
	if len(addrs) == 0 {
		return errNoCoordinator
	}
	var last error
	for _, addr := range addrs {
		if err := ctx.Err(); err != nil {
			return err
		}
		cc, err := c.conn(addr)
		if err != nil {
			return err
		}
		cctx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			cctx, cancel = context.WithTimeout(ctx, timeout)
		}
		cctx, stop := c.whileAlive(cctx, addr)
		err = fn(cctx, pb.NewWorkerServiceClient(cc))
		gone := errors.Is(context.Cause(cctx), errCoordinatorGone)
		stop()
		cancel()
		if err == nil || refused(err) {
			c.mu.Lock()
			c.last = addr
			c.mu.Unlock()
			return err
		}
		if gone && ctx.Err() == nil {
			err = errCoordinatorGone
		}
		last = fmt.Errorf("coordinator %s: %w", addr, err)
	}
	return last
}

// whileAlive returns a context of ctx that is canceled, with cause errCoordinatorGone, as
// soon as gossip shows no coordinator alive at the gRPC address addr.
func (c *coordinators) whileAlive(ctx context.Context, addr string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := time.NewTicker(aliveCheck)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if !c.alive(addr) {
				cancel(errCoordinatorGone)
				return
			}
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}

// alive says gossip shows a coordinator alive at the gRPC address addr.
func (c *coordinators) alive(addr string) bool {
	for _, m := range c.gossip.Alive(members.RoleCoordinator) {
		if m.Meta.GRPCAddr == addr {
			return true
		}
	}
	return false
}

// callUntil repeats call, pausing retry between rounds, until a coordinator answers or
// refuses, or ctx ends (then it returns the last error and ctx's).
func (c *coordinators) callUntil(ctx context.Context, retry time.Duration, fn func(context.Context, pb.WorkerServiceClient) error) error {
	for {
		err := c.call(ctx, fn)
		if err == nil || refused(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, context.Cause(ctx))
		case <-time.After(retry):
		}
	}
}

// refused says the coordinators answered the call with a refusal that asking again, or
// asking another, cannot change: the lease is not current, the task already has its
// result, the job or task is unknown or over, or the request is invalid.
func refused(err error) bool {
	st, ok := status.FromError(err)
	if !ok {
		return false
	}
	switch st.Code() {
	case codes.FailedPrecondition, codes.AlreadyExists, codes.NotFound, codes.InvalidArgument:
		return true
	}
	return false
}

// close closes the connections; later calls fail.
func (c *coordinators) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, cc := range c.conns {
		cc.Close()
	}
	c.conns = nil
}
