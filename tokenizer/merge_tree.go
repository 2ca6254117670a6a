package tokenizer

// mergeTree merges a piece of medium length with a doubly linked list of symbols and a
// tournament tree (a segment tree of minima) over the candidate pair at each symbol: a leaf
// holds rank<<32 | position, so the root is the lowest rank and, among equal ranks, the leftmost
// pair, which is the merge order of tiktoken and Hugging Face. Unlike a heap it never holds
// stale entries, and for a piece of a few kilobytes the whole tree fits in the L1/L2 cache, so
// a merge costs the two rank lookups it needs plus two short walks up the tree.
func (m *bpe) mergeTree(piece string, ids []uint32, st *state) []uint32 {
	n := len(ids)
	size := 1
	for size < n {
		size <<= 1
	}
	tree := growUint64(&st.tree, 2*size)
	pend := growUint64(&st.pend, n)
	prev := growInt32(&st.prev, n)
	next := growInt32(&st.next, n)
	for i := range tree {
		tree[i] = noMerge
	}
	for i := range n {
		prev[i], next[i] = int32(i-1), int32(i+1)
	}
	next[n-1] = -1
	// set stores the candidate pair at symbol i (v = rank<<32 | merged id, or noMerge).
	set := func(i int32, v uint64) {
		pend[i] = v
		key := noMerge
		if v != noMerge {
			key = v&^0xFFFFFFFF | uint64(i)
		}
		x := size + int(i)
		tree[x] = key
		for x > 1 {
			x >>= 1
			tree[x] = min(tree[2*x], tree[2*x+1])
		}
	}
	for i := range n - 1 {
		pend[i] = m.adjacent(piece, ids, next, int32(i), int32(i+1))
		if pend[i] != noMerge {
			tree[size+i] = pend[i]&^0xFFFFFFFF | uint64(i)
		}
	}
	for x := size - 1; x >= 1; x-- {
		tree[x] = min(tree[2*x], tree[2*x+1])
	}
	for tree[1] != noMerge {
		i := int32(uint32(tree[1]))
		j := next[i]
		ids[i] = uint32(pend[i])
		set(j, noMerge)
		next[i] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = i
		}
		if next[i] >= 0 {
			set(i, m.adjacent(piece, ids, next, i, next[i]))
		} else {
			set(i, noMerge)
		}
		if p := prev[i]; p >= 0 {
			set(p, m.adjacent(piece, ids, next, p, i))
		}
	}
	out := ids[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, ids[i])
	}
	return out
}

func growUint64(buf *[]uint64, n int) []uint64 {
	if cap(*buf) < n {
		*buf = make([]uint64, n)
	}
	return (*buf)[:n]
}

func growInt32(buf *[]int32, n int) []int32 {
	if cap(*buf) < n {
		*buf = make([]int32, n)
	}
	return (*buf)[:n]
}
