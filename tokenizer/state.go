package tokenizer

import (
	"runtime"
	"strings"
	"sync"
)

// state is the scratch space of one encoding call: reused buffers and the piece cache. States
// come from the Tokenizer's statePool, so the cache stays warm across calls.
type state struct {
	hot    hotCache
	ids    []uint32
	vals   []uint64
	bounds []int32
	spans  []span
	pieces []string
	cache  pieceCache
	// buckets is mergeBuckets' scratch space, kept between calls (it is sized by the rank range).
	buckets rankBuckets
}

func newState() *state {
	return &state{
		ids:   make([]uint32, 0, 256),
		vals:  make([]uint64, 0, 256),
		cache: newPieceCache(),
	}
}

// maxCachedPiece bounds the length of the pieces worth memoising: longer ones are rare and
// would bloat the cache.
const maxCachedPiece = 64

// maxCacheEntries bounds the cache; when it is full it is emptied and refilled, which keeps the
// frequent pieces (they come back at once) and bounds memory at about twenty megabytes per state.
const maxCacheEntries = 1 << 18

// pieceCache memoises the ids of whole pieces that are not themselves tokens. Short pieces are
// keyed in a shortTable, longer ones in a map (with copied keys: the text may be a caller's
// reused buffer); the ids live in one arena.
type pieceCache struct {
	short *shortTable
	long  map[string]cacheRef
	refs  []cacheRef
	arena []uint32
}

type cacheRef struct {
	off uint32
	n   uint32
}

func newPieceCache() pieceCache {
	return pieceCache{short: newShortTable(maxCacheEntries), long: make(map[string]cacheRef)}
}

func (c *pieceCache) ids(ref uint32) []uint32 {
	r := c.refs[ref]
	return c.arena[r.off : r.off+r.n : r.off+r.n]
}

func (c *pieceCache) get(piece string) ([]uint32, bool) {
	if len(piece) <= maxShortKey {
		ref, ok := c.short.get(piece)
		if !ok {
			return nil, false
		}
		return c.ids(ref), true
	}
	r, ok := c.long[piece]
	if !ok {
		return nil, false
	}
	return c.arena[r.off : r.off+r.n : r.off+r.n], true
}

func (c *pieceCache) full() bool { return len(c.refs) >= maxCacheEntries }

func (c *pieceCache) reset() {
	c.short.reset()
	clear(c.long)
	c.refs, c.arena = c.refs[:0], c.arena[:0]
}

// put stores the ids of piece and returns its reference; the caller resets a full cache first.
func (c *pieceCache) put(piece string, ids []uint32) uint32 {
	ref := uint32(len(c.refs))
	r := cacheRef{uint32(len(c.arena)), uint32(len(ids))}
	c.arena = append(c.arena, ids...)
	c.refs = append(c.refs, r)
	if len(piece) <= maxShortKey {
		c.short.put(piece, ref)
	} else {
		c.long[strings.Clone(piece)] = r
	}
	return ref
}

// statePool keeps encoder states between calls. Unlike a sync.Pool it is not emptied by the
// garbage collector, so the warm caches survive in allocation-heavy programs; it keeps at most
// a few states per core.
type statePool struct {
	mu   sync.Mutex
	free []*state
}

func (p *statePool) get() *state {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		st := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return st
	}
	p.mu.Unlock()
	return newState()
}

func (p *statePool) put(st *state) {
	p.mu.Lock()
	if len(p.free) < 2*runtime.GOMAXPROCS(0) {
		p.free = append(p.free, st)
	}
	p.mu.Unlock()
}
