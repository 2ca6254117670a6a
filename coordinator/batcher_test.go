package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
)

// TestBatcher_Coalesces: concurrent requests go into one entry (here: the window waits
// until max items arrived), each request gets its own items' errors in order, and an
// entry's failure reaches every request in it.
func TestBatcher_Coalesces(t *testing.T) {
	var mu sync.Mutex
	var entries [][]int
	b := newBatcher(6, time.Minute, func(items []int) (*fsm.Result, error) {
		mu.Lock()
		entries = append(entries, items)
		n := len(entries)
		mu.Unlock()
		if items[0] < 0 {
			return nil, errors.New("raft down")
		}
		errs := make([]error, len(items))
		for i, v := range items {
			if v%2 == 1 {
				errs[i] = fmt.Errorf("odd %d", v)
			}
		}
		return &fsm.Result{Index: uint64(n), Errs: errs}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.run(ctx)
	}()

	var wg sync.WaitGroup
	results := make([]batchResult, 3)
	for i := range 3 {
		wg.Go(func() { results[i] = b.submit(ctx, []int{10 * (i + 1), 10*(i+1) + 1}) })
	}
	wg.Wait()
	if len(entries) != 1 || len(entries[0]) != 6 {
		t.Fatalf("entries = %v, want the three requests in one", entries)
	}
	for i, r := range results {
		if r.err != nil || r.index != 1 || len(r.errs) != 2 || r.errs[0] != nil ||
			r.errs[1] == nil || r.errs[1].Error() != fmt.Sprintf("odd %d", 10*(i+1)+1) {
			t.Fatalf("request %d = %+v", i, r)
		}
	}
	if r := b.submit(ctx, []int{-1, -1, -1, -1, -1, -1}); r.err == nil || r.err.Error() != "raft down" {
		t.Fatalf("failed entry = %+v", r)
	}
	cancel()
	<-done
	if r := b.submit(ctx, []int{2}); !errors.Is(r.err, context.Canceled) {
		t.Fatalf("submit after the batcher stopped = %+v", r)
	}
}

// TestBatcher_CallerGoneAfterHandOff: a request whose context ends while its entry is being
// applied (a worker killed in the middle of its heartbeat) gets the entry's outcome, not the
// context's error: the caller must learn what was applied.
func TestBatcher_CallerGoneAfterHandOff(t *testing.T) {
	applying, release := make(chan struct{}), make(chan struct{})
	b := newBatcher(8, 0, func(items []int) (*fsm.Result, error) {
		close(applying)
		<-release
		return &fsm.Result{Index: 7, Errs: make([]error, len(items))}, nil
	})
	life, stop := context.WithCancel(context.Background())
	defer stop()
	go b.run(life)

	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan batchResult, 1)
	go func() { got <- b.submit(ctx, []int{1, 2}) }()
	<-applying
	cancel()
	close(release)
	if r := <-got; r.err != nil || r.index != 7 || len(r.errs) != 2 {
		t.Fatalf("submit whose context ended during the apply = %+v, want the entry's outcome (index 7, 2 items)", r)
	}
}
