package tokenizer

import "slices"

// hugePiece is the length from which mergeBuckets replaces mergeTree: a tree over millions of
// candidates no longer fits in cache, while rank buckets are read and written in order.
const hugePiece = 1 << 16

// rankBuckets is the reusable scratch space of mergeBuckets: one list of candidate positions per
// merge rank, and the ranks touched, to clear them afterwards.
type rankBuckets struct {
	lists   [][]int32
	off     []int32 // how far each list has been consumed
	dirty   []bool  // a list got an entry out of position order
	touched []uint32
}

func (rb *rankBuckets) add(r uint32, pos int32) {
	if int(r) >= len(rb.lists) {
		n := max(int(r)+1, 2*len(rb.lists))
		rb.lists = append(rb.lists, make([][]int32, n-len(rb.lists))...)
		rb.off = append(rb.off, make([]int32, n-len(rb.off))...)
		rb.dirty = append(rb.dirty, make([]bool, n-len(rb.dirty))...)
	}
	l := rb.lists[r]
	if len(l) == 0 && rb.off[r] == 0 {
		rb.touched = append(rb.touched, r)
	}
	if len(l) > int(rb.off[r]) && l[len(l)-1] > pos {
		rb.dirty[r] = true
	}
	rb.lists[r] = append(l, pos)
}

func (rb *rankBuckets) reset() {
	for _, r := range rb.touched {
		rb.lists[r] = rb.lists[r][:0]
		rb.off[r] = 0
		rb.dirty[r] = false
	}
	rb.touched = rb.touched[:0]
}

// mergeBuckets computes the same merges as mergeSmall and mergeTree — lowest rank first,
// leftmost among equal ranks — with a bucket queue over ranks. Candidates of the rank being
// processed that a merge creates lie left of every candidate still queued at that rank, so they
// go on a stack that is always served first; candidates of other ranks are appended to their
// buckets, which are sorted when they are reached if they got out of order.
func (m *bpe) mergeBuckets(piece string, ids []uint32, st *state) []uint32 {
	n := len(ids)
	rb := &st.buckets
	defer rb.reset()
	prev := make([]int32, n)
	next := make([]int32, n)
	cur := ^uint32(0)
	for i := range n {
		prev[i], next[i] = int32(i-1), int32(i+1)
	}
	next[n-1] = -1
	for i := range n - 1 {
		if v := m.adjacent(piece, ids, next, int32(i), int32(i+1)); v != noMerge {
			r := uint32(v >> 32)
			rb.add(r, int32(i))
			cur = min(cur, r)
		}
	}
	const dead = -2
	var stack []int32
	var fresh [2]struct {
		r   uint32
		pos int32
	}
	for cur != ^uint32(0) {
		var pos int32
		if len(stack) > 0 {
			pos = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		} else {
			l, off := rb.lists[cur], rb.off[cur]
			if int(off) >= len(l) {
				cur = rb.nextRank(cur)
				continue
			}
			if rb.dirty[cur] {
				slices.Sort(l[off:])
				rb.dirty[cur] = false
			}
			pos = l[off]
			rb.off[cur] = off + 1
		}
		if prev[pos] == dead || next[pos] < 0 {
			continue
		}
		j := next[pos]
		v := m.adjacent(piece, ids, next, pos, j)
		if v == noMerge || uint32(v>>32) != cur {
			continue
		}
		ids[pos] = uint32(v)
		prev[j] = dead
		next[pos] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = pos
		}
		nf := 0
		if q := next[pos]; q >= 0 {
			if v := m.adjacent(piece, ids, next, pos, q); v != noMerge {
				fresh[nf].r, fresh[nf].pos = uint32(v>>32), pos
				nf++
			}
		}
		if p := prev[pos]; p >= 0 {
			if v := m.adjacent(piece, ids, next, p, pos); v != noMerge {
				fresh[nf].r, fresh[nf].pos = uint32(v>>32), p
				nf++
			}
		}
		lower := false
		for _, f := range fresh[:nf] {
			lower = lower || f.r < cur
		}
		if lower {
			// A merge made a pair of lower rank than the current one (vocabularies need not be
			// monotone): put the current rank's pending stack back in front of its bucket and
			// go down to the lower rank.
			rb.requeue(cur, stack)
			stack = stack[:0]
			for _, f := range fresh[:nf] {
				rb.add(f.r, f.pos)
				cur = min(cur, f.r)
			}
			continue
		}
		// fresh holds the right candidate first, then the left one: pushed in that order the
		// leftmost ends on top of the stack.
		for _, f := range fresh[:nf] {
			if f.r == cur {
				stack = append(stack, f.pos)
			} else {
				rb.add(f.r, f.pos)
			}
		}
	}
	out := ids[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, ids[i])
	}
	return out
}

// nextRank returns the lowest rank above r whose bucket still holds candidates, or ^0. Ranks
// are scanned in order, so a pass over a piece costs one sweep of the rank range.
func (rb *rankBuckets) nextRank(r uint32) uint32 {
	for t := int(r) + 1; t < len(rb.lists); t++ {
		if int(rb.off[t]) < len(rb.lists[t]) {
			return uint32(t)
		}
	}
	return ^uint32(0)
}

// requeue puts stack (positions, leftmost on top) back in front of the unread part of bucket r.
func (rb *rankBuckets) requeue(r uint32, stack []int32) {
	if len(stack) == 0 {
		return
	}
	l, off := rb.lists[r], int(rb.off[r])
	rest := slices.Clone(l[off:])
	l = l[:0]
	for i := len(stack) - 1; i >= 0; i-- {
		l = append(l, stack[i])
	}
	rb.lists[r] = append(l, rest...)
	rb.off[r] = 0
}
