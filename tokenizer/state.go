package tokenizer

import (
	"runtime"
	"strings"
	"sync"

	"github.com/tokenmill/tokenmill/internal/hugepage"
)

// state is the scratch space of one encoding call: reused buffers and the piece cache. States
// come from the Tokenizer's statePool, so the cache stays warm across calls.
type state struct {
	hot    hotCache
	ids    []uint32
	vals   []uint64
	bounds []int32
	cuts   []int32 // encodeSplit's chunk boundaries
	norm   []byte  // spEncoder's word with its leading "▁"
	// spHot is spEncoder's direct-mapped cache of frequent words in front of the piece cache,
	// copies of its slots (made on first use: other models do not use it).
	spHot   []memoSlot
	spWords spWords    // spEncoder's words under way
	sink    uint32     // spWords.drain's early loads end here, so that they are made
	spm     *spScratch // the scratch space of a SentencePiece model's fast path (spmMerge)
	// splitting is set while encodeSplit encodes the chunks of a piece, which have no cuts.
	splitting bool
	// mergeTree's scratch space, kept between calls (at most about 2 MB: it serves pieces
	// below 64 KiB).
	tree, pend []uint64
	prev, next []int32
	spans      []span
	pieces     []string
	cache      pieceCache
	// buckets is mergeBuckets' scratch space, kept between calls (it is sized by the rank range).
	buckets rankBuckets
}

// appendHotIDs appends the ids of a hot-cache value v of a piece of several tokens: for kind 0
// from the piece cache, for kinds 2 and 3 from v itself (the callers append a single token,
// kind 1, themselves).
func (st *state) appendHotIDs(dst []uint32, v uint64) []uint32 {
	if v&hotKind == 0 {
		return st.cache.appendIDs(dst, uint32(v>>hotPayload))
	}
	dst = append(dst, uint32(v>>hotPayload&hotIDMask), uint32(v>>(hotPayload+hotIDBits)&hotIDMask))
	if v&hotKind == 3<<5 {
		dst = append(dst, uint32(v>>(hotPayload+2*hotIDBits)))
	}
	return dst
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

// pieceCache memoises the ids of whole pieces that are not themselves tokens. Pieces of up to
// 16 bytes are kept in an open-addressing table of memoSlots, which hold the packed key and the
// ids side by side: the cache is far larger than the CPU caches, and a lookup that misses them
// then costs one memory access, where a table of references into an array of ids cost three.
// Longer pieces are kept in a map (with copied keys: the text may be a caller's reused buffer).
// Ids that do not fit in a slot, and those of long pieces, live in one arena.
type pieceCache struct {
	slots []memoSlot
	mask  uint64
	shift uint
	short int // pieces in slots
	long  map[string]cacheRef
	arena []uint32
}

// memoSlot is one short piece of the cache: 32 bytes, two to a cache line.
type memoSlot struct {
	lo, hi uint64 // the key, as packKey packs it
	meta   uint32 // key length | number of ids<<8; 0 marks an empty slot
	ids    [memoInline]uint32
}

// memoInline is the number of ids a memoSlot holds itself; with more, ids[0] is their offset in
// the arena. Pieces of up to 16 bytes seldom take more than three tokens.
const memoInline = 3

type cacheRef struct {
	off uint32
	n   uint32
}

func newPieceCache() pieceCache {
	bits := uint(4)
	for 1<<bits < 2*maxCacheEntries {
		bits++
	}
	return pieceCache{
		slots: hugepage.Make[memoSlot](1 << bits),
		mask:  1<<bits - 1,
		shift: 64 - bits,
		long:  make(map[string]cacheRef, longCacheHint),
		// Room for the ids of a full cache (a megabyte on 40 MB of source code) from the
		// start: growing it by doubling copied it and faulted in fresh pages at every step.
		// Untouched capacity costs address space only.
		arena: hugepage.Make[uint32](arenaCap)[:0],
	}
}

// arenaCap is the arena's first capacity, in ids.
const arenaCap = 1 << 20

// home returns the first slot the short piece packed as (lo, hi) with length n may be in.
func (c *pieceCache) home(lo, hi uint64, n int) uint64 {
	return ((lo ^ (hi * 0xC2B2AE3D27D4EB4F) ^ uint64(n)) * 0x9E3779B97F4A7C15) >> c.shift
}

// lookup returns the slot of the short piece packed as (lo, hi) with length n.
func (c *pieceCache) lookup(lo, hi uint64, n int) (uint32, bool) {
	for i := ((lo ^ (hi * 0xC2B2AE3D27D4EB4F) ^ uint64(n)) * 0x9E3779B97F4A7C15) >> c.shift; ; i = (i + 1) & c.mask {
		e := &c.slots[i]
		if e.meta&0xFF == uint32(n) && e.lo == lo && e.hi == hi {
			return uint32(i), true
		}
		if e.meta == 0 {
			return 0, false
		}
	}
}

// appendIDs appends the ids of the short piece in slot i.
func (c *pieceCache) appendIDs(dst []uint32, i uint32) []uint32 {
	e := &c.slots[i]
	k := e.meta >> 8
	if k <= memoInline {
		return append(dst, e.ids[:k]...)
	}
	return append(dst, c.arena[e.ids[0]:e.ids[0]+k]...)
}

// putShort stores the ids of a short piece that is not in the cache and returns its slot; the
// caller resets a full cache first.
func (c *pieceCache) putShort(lo, hi uint64, n int, ids []uint32) uint32 {
	e := memoSlot{lo: lo, hi: hi, meta: uint32(n) | uint32(len(ids))<<8}
	if len(ids) <= memoInline {
		copy(e.ids[:], ids)
	} else {
		e.ids[0] = uint32(len(c.arena))
		c.arena = append(c.arena, ids...)
	}
	i := ((lo ^ (hi * 0xC2B2AE3D27D4EB4F) ^ uint64(n)) * 0x9E3779B97F4A7C15) >> c.shift
	for c.slots[i].meta != 0 {
		i = (i + 1) & c.mask
	}
	c.slots[i] = e
	c.short++
	return uint32(i)
}

// getLong returns the ids of a piece longer than 16 bytes.
func (c *pieceCache) getLong(piece string) ([]uint32, bool) {
	r, ok := c.long[piece]
	if !ok {
		return nil, false
	}
	return c.arena[r.off : r.off+r.n : r.off+r.n], true
}

// putLong stores the ids of a piece longer than 16 bytes; the caller resets a full cache first.
func (c *pieceCache) putLong(piece string, ids []uint32) {
	c.long[strings.Clone(piece)] = cacheRef{uint32(len(c.arena)), uint32(len(ids))}
	c.arena = append(c.arena, ids...)
}

func (c *pieceCache) full() bool { return c.short+len(c.long) >= maxCacheEntries }

func (c *pieceCache) reset() {
	clear(c.slots)
	clear(c.long)
	c.short, c.arena = 0, c.arena[:0]
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

// longCacheHint is the long pieces' map's first capacity: 40 MB of source code leave about
// 20 thousand, and growing the map to them one split at a time was 4% of a cold pass.
const longCacheHint = 1 << 15
