package tokenizer

import (
	"encoding/binary"
	"unsafe"

	"github.com/tokenmill/tokenmill/internal/hugepage"
)

// maxShortKey is the longest string shortTable holds: 16 bytes cover nearly every token and
// nearly every piece of real text.
const maxShortKey = 16

// shortTable maps strings of 1 to 16 bytes to uint32 values. A key is packed into two uint64
// words (overlapping loads; the length disambiguates), so a lookup is a multiply, one or two
// probes and two integer compares: no string hashing and no byte comparison loop. It is the
// whole-piece vocabulary lookup of the encoder, the most frequent operation by far.
type shortTable struct {
	slots []shortSlot
	mask  uint64
	shift uint
	count int
}

type shortSlot struct {
	lo, hi uint64
	n      uint32 // key length; 0 marks an empty slot
	val    uint32
}

func newShortTable(n int) *shortTable {
	bits := uint(4)
	for 1<<bits < 2*n {
		bits++
	}
	return &shortTable{slots: hugepage.Make[shortSlot](1 << bits), mask: 1<<bits - 1, shift: 64 - bits}
}

// prefault writes to every page of a new table, in order, before it is filled. Fresh from the
// OS, a page costs a page fault on first touch; filling probes a slot (a read: the kernel maps
// the shared zero page) before it writes it (a second fault), at random. Writing first takes
// one fault per page, in order.
func (t *shortTable) prefault() {
	const perPage = 4096 / int(unsafe.Sizeof(shortSlot{}))
	for i := 0; i < len(t.slots); i += perPage {
		t.slots[i].n = 0
	}
}

// packKey packs s (1 <= len(s) <= 16) into two words; equal lengths and words mean equal keys.
func packKey(s string) (lo, hi uint64) {
	n := len(s)
	b := unsafe.Slice(unsafe.StringData(s), n)
	switch {
	case n >= 8:
		return binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32, 0
	default:
		return uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16, 0
	}
}

func (t *shortTable) home(lo, hi uint64, n int) uint64 {
	return ((lo ^ (hi * 0xC2B2AE3D27D4EB4F) ^ uint64(n)) * 0x9E3779B97F4A7C15) >> t.shift
}

// get returns the value stored for s; len(s) must be in [1, 16].
func (t *shortTable) get(s string) (uint32, bool) {
	lo, hi := packKey(s)
	return t.getPacked(lo, hi, len(s))
}

// getPacked is get for a key already packed by packKey.
func (t *shortTable) getPacked(lo, hi uint64, length int) (uint32, bool) {
	n := uint32(length)
	for i := t.home(lo, hi, length); ; i = (i + 1) & t.mask {
		e := &t.slots[i]
		if e.n == n && e.lo == lo && e.hi == hi {
			return e.val, true
		}
		if e.n == 0 {
			return 0, false
		}
	}
}

// putPacked stores val for the key packed by packKey from a string of length in [1, 16],
// replacing an earlier value. The table must not be more than half full; callers size it or
// reset it.
func (t *shortTable) putPacked(lo, hi uint64, length int, val uint32) {
	n := uint32(length)
	for i := t.home(lo, hi, length); ; i = (i + 1) & t.mask {
		e := &t.slots[i]
		if e.n == 0 {
			*e = shortSlot{lo, hi, n, val}
			t.count++
			return
		}
		if e.n == n && e.lo == lo && e.hi == hi {
			e.val = val
			return
		}
	}
}

func (t *shortTable) reset() {
	clear(t.slots)
	t.count = 0
}

// hotCache is a small direct-mapped cache of frequent pieces, per encoder state: their single
// token, or their few ids, or where the piece cache holds them. Token frequencies are Zipfian: a
// few thousand tokens and pieces make most of any text, and keeping them in 768 KB that stay in
// the core's L2 cache avoids a memory access into the big tables for most pieces.
type hotCache [hotSize]hotSlot

// hotSlot is one piece of the hot cache: its key as packKey packs it, and v, its length (the
// low five bits, hotLen; 0 marks an empty slot) | its kind<<5 | its payload<<hotPayload. Kind 1
// is a piece that is a single token, the payload its id; kind 2 and 3 a piece of that many ids,
// each hotIDBits wide in the payload; kind 0 a piece whose ids are in slot payload of the piece
// cache.
type hotSlot struct {
	lo, hi uint64
	v      uint64
}

const (
	hotBits    = 15
	hotSize    = 1 << hotBits
	hotLen     = 31 // the key length's bits
	hotPayload = 7
	hotIDBits  = 19
	hotIDMask  = 1<<hotIDBits - 1
	hotKind    = 3 << 5
	hotToken   = 1 << 5 // the kind of a single token
)

// hotTokenValue is the value of a piece that is the token id.
func hotTokenValue(id uint32) uint64 { return hotToken | uint64(id)<<hotPayload }

// hotRefValue is the value of a piece whose ids are in slot i of the piece cache.
func hotRefValue(i uint32) uint64 { return uint64(i) << hotPayload }

// hotIDsValue is the value of a piece of two or three ids below 1<<hotIDBits, else that of
// slot i of the piece cache.
func hotIDsValue(ids []uint32, i uint32) uint64 {
	if len(ids) < 2 || len(ids) > 3 {
		return hotRefValue(i)
	}
	v := uint64(len(ids)) << 5
	for k, id := range ids {
		if id > hotIDMask {
			return hotRefValue(i)
		}
		v |= uint64(id) << (hotPayload + k*hotIDBits)
	}
	return v
}

func hotHash(lo, hi uint64, n int) uint64 {
	return ((lo ^ (hi * 0xC2B2AE3D27D4EB4F) ^ uint64(n)) * 0x9E3779B97F4A7C15) >> (64 - hotBits)
}

// get returns the value of the piece packed as (lo, hi) with length n, whose hash is h.
func (c *hotCache) get(h, lo, hi uint64, n int) (uint64, bool) {
	e := &c[h]
	if e.v&hotLen == uint64(n) && e.lo == lo && e.hi == hi {
		return e.v, true
	}
	return 0, false
}

func (c *hotCache) put(h, lo, hi uint64, n int, v uint64) {
	c[h] = hotSlot{lo, hi, v | uint64(n)}
}

func (c *hotCache) reset() { clear(c[:]) }
