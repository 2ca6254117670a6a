package tokenizer

// state is the scratch space of one encoding call: reused buffers and the piece cache. States
// come from the Tokenizer's sync.Pool, so a goroutine that encodes many documents keeps its
// warm cache while no lock is ever taken.
type state struct {
	ids    []uint32
	vals   []uint64
	spans  []span
	pieces []string
	cache  pieceCache
}

func newState() *state {
	return &state{
		ids:   make([]uint32, 0, 256),
		vals:  make([]uint64, 0, 256),
		cache: pieceCache{m: make(map[string]cacheRef, 1024)},
	}
}

// maxCachedPiece bounds the length of the pieces worth memoising: longer ones are rare and
// would bloat the cache.
const maxCachedPiece = 64

// maxCacheEntries bounds the cache; when it is full it is emptied and refilled, which keeps the
// frequent pieces (they come back at once) and bounds memory at a few megabytes per state.
const maxCacheEntries = 1 << 16

// pieceCache memoises the ids of whole pieces; the ids live in one arena so that an entry costs
// one map slot and no separate allocation besides its key.
type pieceCache struct {
	m     map[string]cacheRef
	arena []uint32
}

type cacheRef struct {
	off uint32
	n   uint32
}

func (c *pieceCache) get(piece string) ([]uint32, bool) {
	r, ok := c.m[piece]
	if !ok {
		return nil, false
	}
	return c.arena[r.off : r.off+r.n : r.off+r.n], true
}

func (c *pieceCache) put(piece string, ids []uint32) {
	if len(c.m) >= maxCacheEntries {
		clear(c.m)
		c.arena = c.arena[:0]
	}
	c.m[piece] = cacheRef{uint32(len(c.arena)), uint32(len(ids))}
	c.arena = append(c.arena, ids...)
}
