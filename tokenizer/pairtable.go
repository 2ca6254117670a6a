package tokenizer

// pairTable maps a pair of adjacent token ids to the merge that joins them: its rank (the
// priority: lower merges first) and the id of the merged token. It is an open-addressing hash
// table with linear probing over uint64 keys, built once and read-only afterwards; it is the
// innermost lookup of the merge loop, where it is about twice as fast as a Go map.
type pairTable struct {
	keys  []uint64 // left<<32 | right, plus one; 0 marks an empty slot
	vals  []uint64 // rank<<32 | id
	mask  uint64
	count int
}

func newPairTable(n int) *pairTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &pairTable{keys: make([]uint64, size), vals: make([]uint64, size), mask: uint64(size - 1)}
}

func pairKey(left, right uint32) uint64 { return uint64(left)<<32 | uint64(right) }

func (p *pairTable) slot(k uint64) uint64 { return (k * 0x9E3779B97F4A7C15) >> 20 & p.mask }

// put records the merge of a pair; a later put for the same pair replaces the earlier one, as
// Hugging Face's merge map does with duplicate merges.
func (p *pairTable) put(left, right, rank, id uint32) {
	if 2*(p.count+1) > len(p.keys) {
		p.grow()
	}
	k := pairKey(left, right) + 1
	for i := p.slot(k); ; i = (i + 1) & p.mask {
		switch p.keys[i] {
		case 0:
			p.keys[i], p.vals[i] = k, uint64(rank)<<32|uint64(id)
			p.count++
			return
		case k:
			p.vals[i] = uint64(rank)<<32 | uint64(id)
			return
		}
	}
}

func (p *pairTable) grow() {
	old := *p
	*p = *newPairTable(2 * old.count)
	for i, k := range old.keys {
		if k != 0 {
			v := old.vals[i]
			p.put(uint32((k-1)>>32), uint32(k-1), uint32(v>>32), uint32(v))
		}
	}
}

// get returns rank<<32|id of the merge of (left, right), or noMerge.
func (p *pairTable) get(left, right uint32) uint64 {
	k := pairKey(left, right) + 1
	for i := p.slot(k); ; i = (i + 1) & p.mask {
		switch p.keys[i] {
		case k:
			return p.vals[i]
		case 0:
			return noMerge
		}
	}
}

// noMerge sorts after every real merge.
const noMerge = ^uint64(0)
