package worker

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/tokenmill/tokenmill/tokenizer"
)

// tokenizers keeps the last few tokenizers loaded, so that the shards of a job share one
// and a worker loads it once per job rather than once per shard. A tokenizer is known by
// the job's tokenizer string (a built-in name or a path), and for a file also by its size
// and modification time, so that a file replaced between jobs is loaded again. Loads run
// once per key, whoever asks; a failed load is not kept.
//
// Concurrency: safe for concurrent use.
type tokenizers struct {
	max int

	mu      sync.Mutex
	entries map[string]*tokEntry
	order   []string // keys, least recently used first
}

type tokEntry struct {
	ready chan struct{} // closed when the load ended
	tk    *tokenizer.Tokenizer
	err   error
}

func newTokenizers(max int) *tokenizers {
	return &tokenizers{max: max, entries: map[string]*tokEntry{}}
}

// get returns the tokenizer named by nameOrPath, loading it if no entry holds it; it waits
// for a load under way, or until ctx ends.
func (c *tokenizers) get(ctx context.Context, nameOrPath string) (*tokenizer.Tokenizer, error) {
	key := nameOrPath
	if fi, err := os.Stat(nameOrPath); err == nil {
		key = fmt.Sprintf("%s\x00%d\x00%d", nameOrPath, fi.Size(), fi.ModTime().UnixNano())
	}
	c.mu.Lock()
	e := c.entries[key]
	load := e == nil
	if load {
		e = &tokEntry{ready: make(chan struct{})}
		c.entries[key] = e
	}
	c.touchLocked(key)
	c.mu.Unlock()
	if load {
		e.tk, e.err = tokenizer.Load(nameOrPath)
		if e.err != nil {
			e.err = fmt.Errorf("tokenizer: %w", e.err)
		}
		close(e.ready)
		c.mu.Lock()
		if e.err != nil && c.entries[key] == e {
			c.removeLocked(key)
		}
		c.evictLocked()
		c.mu.Unlock()
	}
	select {
	case <-e.ready:
		return e.tk, e.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// touchLocked makes key the most recently used. c.mu is held.
func (c *tokenizers) touchLocked(key string) {
	if i := slices.Index(c.order, key); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.order = append(c.order, key)
}

func (c *tokenizers) removeLocked(key string) {
	delete(c.entries, key)
	if i := slices.Index(c.order, key); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
}

// evictLocked drops the least recently used loaded entries beyond max (an entry still
// loading stays). c.mu is held.
func (c *tokenizers) evictLocked() {
	for i := 0; len(c.entries) > c.max && i < len(c.order); {
		key := c.order[i]
		select {
		case <-c.entries[key].ready:
			c.removeLocked(key)
		default:
			i++
		}
	}
}

// len returns the number of tokenizers held or loading.
func (c *tokenizers) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
