package table

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/tokenmill/tokenmill/internal/hugepage"
)

// Allocator is the arrow allocator of a writer that builds one record batch after
// another: the buffers a written batch releases serve the next batch. memory.GoAllocator
// leaves them to the garbage collector, so each batch took fresh memory: 16 MB for 1000 rows
// of 2048 int64, 413 MB of allocations for a 40 MB corpus written at three lengths, each page
// of it faulted in on first touch. Recycled buffers are cleared before reuse, as fresh ones
// are zero. A writer's allocator keeps at most maxFree buffers, of at least minRecycled bytes
// each: the small ones (offsets, validity bitmaps of a few rows) are cheap to allocate, and
// kept, they would fill the list and push out the large ones.
type Allocator struct {
	mu    sync.Mutex
	free  [][]byte
	base  memory.GoAllocator
	fresh int64 // bytes of the large buffers allocated anew (for tests)
}

const (
	maxFree     = 8
	minRecycled = 64 << 10
)

var _ memory.Allocator = (*Allocator)(nil)

// Allocate returns a zeroed buffer of size bytes, recycled when a free one is at least that
// large and at most twice as large.
func (a *Allocator) Allocate(size int) []byte {
	if size < minRecycled {
		return a.base.Allocate(size)
	}
	a.mu.Lock()
	for i, b := range a.free {
		if c := cap(b); c >= size && c <= 2*size+64 {
			a.free[i] = a.free[len(a.free)-1]
			a.free = a.free[:len(a.free)-1]
			a.mu.Unlock()
			b = b[:size]
			clear(b)
			return b
		}
	}
	a.mu.Unlock()
	return a.alloc(size)
}

// Take returns a buffer of size bytes for the caller to overwrite whole: a free one of at least
// that size, not cleared, or a new one.
func (a *Allocator) Take(size int) []byte {
	if size < minRecycled {
		return make([]byte, size)
	}
	a.mu.Lock()
	for i, b := range a.free {
		if cap(b) >= size {
			a.free[i] = a.free[len(a.free)-1]
			a.free = a.free[:len(a.free)-1]
			a.mu.Unlock()
			return b[:size]
		}
	}
	a.mu.Unlock()
	return a.alloc(size)
}

// alloc returns a new zeroed buffer of size bytes (at least minRecycled) with an eighth more
// room, so that the next request, often a little larger (the next record batch of a stream,
// whose size varies with its documents), can take it back.
func (a *Allocator) alloc(size int) []byte {
	c := size + size/8
	a.mu.Lock()
	a.fresh += int64(c)
	a.mu.Unlock()
	if c >= hugepage.MinBytes {
		// A batch's values are written at once: 4096 faults for 16 MB, eight on huge pages.
		// Make aligns the buffer to a huge page (more than the 64 bytes arrow wants) and
		// advises it whole before anything touches it.
		return hugepage.Make[byte](c)[:size]
	}
	return a.base.Allocate(c)[:size] // 64-byte aligned, as arrow wants
}

// Reallocate grows or shrinks b to size bytes, keeping its contents.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Free takes b back for a later Allocate; when the list is full, b replaces its oldest
// buffer.
func (a *Allocator) Free(b []byte) {
	if cap(b) < minRecycled {
		return
	}
	a.mu.Lock()
	if len(a.free) == maxFree {
		copy(a.free, a.free[1:])
		a.free = a.free[:maxFree-1]
	}
	a.free = append(a.free, b[:0])
	a.mu.Unlock()
}

// Fresh returns how many bytes of large buffers the allocator allocated anew rather than
// recycled.
func (a *Allocator) Fresh() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fresh
}
