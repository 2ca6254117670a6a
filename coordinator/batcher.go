package coordinator

import (
	"context"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
)

// batcher puts the items of concurrent requests (grants, commits, failures) into few raft
// entries: a request waits while the previous entry is applied, and the next entry carries
// every request that arrived meanwhile, up to max items, after waiting up to window for
// more. A request's items stay together and in order.
type batcher[T any] struct {
	in     chan *batchCall[T]
	max    int
	window time.Duration
	// flush applies the items as one entry.
	flush func(items []T) (*fsm.Result, error)
}

type batchCall[T any] struct {
	items []T
	done  chan batchResult
}

// batchResult is a request's part of an applied entry: the entry's index, one error per
// item of the request, or the error of the whole entry.
type batchResult struct {
	index uint64
	errs  []error
	err   error
}

func newBatcher[T any](max int, window time.Duration, flush func([]T) (*fsm.Result, error)) *batcher[T] {
	return &batcher[T]{in: make(chan *batchCall[T]), max: max, window: window, flush: flush}
}

// submit queues items and returns their part of the entry that carried them. ctx bounds
// only the wait for the batcher to take the items: once taken they go into an entry, and
// submit returns that entry's outcome even if ctx ends meanwhile (flush is bounded by the
// apply timeout). A caller whose ctx ended (a worker killed in the middle of its heartbeat)
// thus still learns what was applied: a grant it was not told of would be a lease in the
// state that the scheduler does not know, which nothing would ever expire.
func (b *batcher[T]) submit(ctx context.Context, items []T) batchResult {
	c := &batchCall[T]{items: items, done: make(chan batchResult, 1)}
	select {
	case b.in <- c:
	case <-ctx.Done():
		return batchResult{err: ctx.Err()}
	}
	return <-c.done
}

// run takes requests until ctx ends.
func (b *batcher[T]) run(ctx context.Context) {
	for {
		var first *batchCall[T]
		select {
		case first = <-b.in:
		case <-ctx.Done():
			return
		}
		calls := b.gather(ctx, first)
		var items []T
		for _, c := range calls {
			items = append(items, c.items...)
		}
		res, err := b.flush(items)
		at := 0
		for _, c := range calls {
			r := batchResult{err: err}
			if err == nil {
				r.index = res.Index
				r.errs = res.Errs[at : at+len(c.items)]
			}
			at += len(c.items)
			c.done <- r
		}
	}
}

// gather collects the requests that join first: those already waiting, then those that
// arrive within the window, until max items.
func (b *batcher[T]) gather(ctx context.Context, first *batchCall[T]) []*batchCall[T] {
	calls := []*batchCall[T]{first}
	n := len(first.items)
	var deadline <-chan time.Time
	if b.window > 0 {
		t := time.NewTimer(b.window)
		defer t.Stop()
		deadline = t.C
	}
	for n < b.max {
		select {
		case c := <-b.in:
			calls = append(calls, c)
			n += len(c.items)
			continue
		default:
		}
		if deadline == nil {
			break
		}
		select {
		case c := <-b.in:
			calls = append(calls, c)
			n += len(c.items)
			continue
		case <-deadline:
		case <-ctx.Done():
		}
		break
	}
	return calls
}
