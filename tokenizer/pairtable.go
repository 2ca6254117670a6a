package tokenizer

import "github.com/tokenmill/tokenmill/internal/hugepage"

// pairTable maps a pair of adjacent token ids to the merge that joins them: its rank (the
// priority: lower merges first) and the id of the merged token. It is an open-addressing hash
// table with linear probing over uint64 keys, built once and read-only afterwards; it is the
// innermost lookup of the merge loop, where it is about twice as fast as a Go map.
type pairTable struct {
	slots []pairSlot
	mask  uint64
	count int
}

// pairSlot keeps a key beside its value, so that a lookup costs one cache miss, not two.
type pairSlot struct {
	key uint64 // left<<32 | right, plus one; 0 marks an empty slot
	val uint64 // rank<<32 | id
}

func newPairTable(n int) *pairTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &pairTable{slots: hugepage.Make[pairSlot](size), mask: uint64(size - 1)}
}

func pairKey(left, right uint32) uint64 { return uint64(left)<<32 | uint64(right) }

func (p *pairTable) slot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> 20 & p.mask }

// put records the merge of a pair; a later put for the same pair replaces the earlier one, as
// Hugging Face's merge map does with duplicate merges.
func (p *pairTable) put(left, right, rank, id uint32) {
	if 2*(p.count+1) > len(p.slots) {
		p.grow()
	}
	k := pairKey(left, right) + 1
	for i := p.slot(k); ; i = (i + 1) & p.mask {
		s := &p.slots[i]
		switch s.key {
		case 0:
			*s = pairSlot{k, uint64(rank)<<32 | uint64(id)}
			p.count++
			return
		case k:
			s.val = uint64(rank)<<32 | uint64(id)
			return
		}
	}
}

func (p *pairTable) grow() {
	old := *p
	*p = *newPairTable(2 * old.count)
	for _, s := range old.slots {
		if s.key != 0 {
			p.put(uint32((s.key-1)>>32), uint32(s.key-1), uint32(s.val>>32), uint32(s.val))
		}
	}
}

// get returns rank<<32|id of the merge of (left, right), or noMerge.
func (p *pairTable) get(left, right uint32) uint64 {
	k := pairKey(left, right) + 1
	for i := p.slot(k); ; i = (i + 1) & p.mask {
		s := &p.slots[i]
		switch s.key {
		case k:
			return s.val
		case 0:
			return noMerge
		}
	}
}

// noMerge sorts after every real merge.
const noMerge = ^uint64(0)

// lowPairs is a dense table of the merges of every pair of ids below 256 (the single bytes, in
// byte-level vocabularies): the first merges of every piece, looked up in 512 KB that stay in
// cache instead of the big table.
type lowPairs [256 * 256]uint64

func newLowPairs(get func(l, r uint32) uint64) *lowPairs {
	lp := new(lowPairs)
	for l := range uint32(256) {
		for r := range uint32(256) {
			lp[l<<8|r] = get(l, r)
		}
	}
	return lp
}

// newPairTableOf builds the table of merges given as (left, right, merged) id triples in rank
// order (rank = index), with what put would store one by one: a later duplicate of a pair
// replaces the earlier. It puts them in the order of their home slots (a stable counting sort
// on the slot's high bits keeps duplicates in rank order), so that filling a table much larger
// than the CPU caches walks it front to back instead of at random.
func newPairTableOf(merges []uint32) *pairTable {
	n := len(merges) / 3
	p := newPairTable(n)
	const bucketBits = 14
	shift := uint(0)
	for p.mask>>shift >= 1<<bucketBits {
		shift++
	}
	var counts [1<<bucketBits + 1]int32
	homes := make([]uint32, n)
	for i := range n {
		h := uint32(p.slot(pairKey(merges[3*i], merges[3*i+1])+1) >> shift)
		homes[i] = h
		counts[h+1]++
	}
	for b := 1; b < len(counts); b++ {
		counts[b] += counts[b-1]
	}
	// The entries themselves are moved into order (writes at random, which do not stall),
	// so that the table is then filled by reading them in order.
	sorted := make([]pairSlot, n)
	for i, h := range homes {
		sorted[counts[h]] = pairSlot{pairKey(merges[3*i], merges[3*i+1]), uint64(i)<<32 | uint64(merges[3*i+2])}
		counts[h]++
	}
	for _, e := range sorted {
		p.put(uint32(e.key>>32), uint32(e.key), uint32(e.val>>32), uint32(e.val))
	}
	return p
}
