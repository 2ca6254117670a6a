package shard

import (
	"sync"
	"sync/atomic"
	"time"
)

// TokenizePool is a pool of idle workers (helpers) that tokenize batches of documents of the
// shards still running. A worker with no shard left to start calls Serve and joins the pool; a
// running shard that sees an idle helper reads its documents in batches (BatchBytes of text)
// and offers each batch to the pool, tokenizing it itself when no helper is free. Tokenizing
// is a pure function of a document, and the shard packs the batches in their order, so the
// outputs are the same bytes with or without the pool. Reading, validating and packing stay
// with the shard's own goroutine. See DESIGN.md for why.
//
// A TokenizePool is shared by the workers of one process (a runner or a cluster worker); the
// zero value is not usable: see NewTokenizePool. Its methods are safe for concurrent use.
type TokenizePool struct {
	jobs chan *docBatch // unbuffered: a send succeeds only into a waiting helper
	idle atomic.Int32   // helpers waiting in Serve
	// pending bounds the batches a shard has in flight (handed over, or done and waiting
	// for an earlier one): the memory of a shard is that many batches at most.
	pending int
	batch   int // the text of a batch, in bytes

	mu sync.Mutex
	// free are the packed batches, kept with their buffers for the next batches of any
	// shard of the process: the shards of a run take turns on the workers, and a batch's
	// memory is faulted in once per run instead of once per worker.
	free []*docBatch
}

// NewTokenizePool returns the pool of a process whose shards run on workers goroutines, for
// batches of batchBytes of text (0: BatchBytes; tests make them small to hand over many).
func NewTokenizePool(workers, batchBytes int) *TokenizePool {
	if batchBytes <= 0 {
		batchBytes = BatchBytes
	}
	return &TokenizePool{jobs: make(chan *docBatch), pending: min(max(workers, 1)+2, maxPending), batch: batchBytes}
}

// take returns a batch that the pool kept, or a new one.
func (p *TokenizePool) take() *docBatch {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b
	}
	return newDocBatch()
}

// keep takes b back for the next batch, unless its buffers grew past keepBytes (a batch of
// one huge document). A batch is kept only once its shard packed it, so at most the
// batches in flight at once are kept.
func (p *TokenizePool) keep(b *docBatch) {
	if b.size() > keepBytes {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, b)
}

// maxPending caps the batches in flight per shard on machines with many cores: one shard's
// reading feeds only a few helpers (see DESIGN.md), so more batches would only hold memory.
const maxPending = 16

// Serve tokenizes the batches that running shards hand over, until stop is closed. A worker
// calls it once no shard is left for it to start; the runner closes stop when every shard
// has finished, which cannot happen while a batch is out, since its shard waits for it.
func (p *TokenizePool) Serve(stop <-chan struct{}) {
	for {
		p.idle.Add(1)
		select {
		case b := <-p.jobs:
			p.idle.Add(-1)
			b.tokenize()
			b.done <- struct{}{}
		case <-stop:
			p.idle.Add(-1)
			return
		}
	}
}

// full reports whether a shard with n batches in flight, holding text bytes of text, must
// wait for the oldest before it goes on: p.pending batches, or as many batches' worth of text
// (a batch holds at least one document, and documents of tens of megabytes must not fill the
// queue unchecked).
func (p *TokenizePool) full(n, text int) bool {
	return n >= p.pending || text >= p.pending*p.batch
}

// waiting reports whether a helper is idle; nil-safe.
func (p *TokenizePool) waiting() bool {
	return p != nil && p.idle.Load() > 0
}

// offer hands b to an idle helper and reports whether one took it; nil-safe.
func (p *TokenizePool) offer(b *docBatch) bool {
	if p == nil {
		return false
	}
	select {
	case p.jobs <- b:
		return true
	default:
		return false
	}
}

// BatchBytes is the text of one batch: large enough that handing it over (a channel send and
// receive) costs nothing beside tokenizing it, small enough that the last batches of a shard
// leave no helper waiting long.
const BatchBytes = 1 << 20

// docBatch is a run of consecutive good documents of one shard, tokenized together, by a
// helper or by the shard itself.
type docBatch struct {
	fr   Framing
	text []byte // the documents' texts, back to back
	ends []int  // the end of each document in text
	// val says which documents go to the validation split, decided as they are added, while
	// their text is in the cache: packing reads the batch after a helper had it.
	val    []bool
	ids    []uint32 // the documents' framed ids, back to back (once tokenized)
	idEnds []int    // the end of each document's ids in ids
	// credit is the input bytes done once the batch is packed (Progress.Bytes), or -1.
	credit int64
	tok    time.Duration // the time its tokenizing took
	helped bool          // tokenized by a helper, which signals done
	done   chan struct{} // one value when a helper has tokenized it
}

func newDocBatch() *docBatch {
	return &docBatch{done: make(chan struct{}, 1)}
}

// reset empties b for reuse, keeping its buffers.
func (b *docBatch) reset() {
	b.text, b.ends, b.val, b.ids, b.idEnds = b.text[:0], b.ends[:0], b.val[:0], b.ids[:0], b.idEnds[:0]
	b.credit, b.tok, b.helped = -1, 0, false
}

// add appends one document, of the validation split when val is set.
func (b *docBatch) add(text []byte, val bool) {
	b.text = append(b.text, text...)
	b.ends = append(b.ends, len(b.text))
	b.val = append(b.val, val)
}

// tokenize encodes every document of b. The ids get the room that Framing.Encode asks for
// every document (a token per two bytes, two for framing) at once, so that they grow only
// past it; a new buffer is made for the text the batch has room for (and a document per 64
// bytes), so that a reused batch keeps it whatever its next documents.
func (b *docBatch) tokenize() {
	t := time.Now()
	if need := len(b.text)/2 + 2*len(b.ends); cap(b.ids) < need {
		b.ids = make([]uint32, 0, max(need, cap(b.text)/2+cap(b.text)/32))
	}
	b.ids = b.ids[:0]
	start := 0
	for _, end := range b.ends {
		b.ids = b.fr.Encode(b.ids, b.text[start:end])
		b.idEnds = append(b.idEnds, len(b.ids))
		start = end
	}
	b.tok = time.Since(t)
}

// doc returns the text and ids of document i (after tokenize).
func (b *docBatch) doc(i int) (text []byte, ids []uint32) {
	ts, is := 0, 0
	if i > 0 {
		ts, is = b.ends[i-1], b.idEnds[i-1]
	}
	return b.text[ts:b.ends[i]], b.ids[is:b.idEnds[i]]
}

// size is the memory b holds, in bytes.
func (b *docBatch) size() int {
	return cap(b.text) + 4*cap(b.ids) + 8*(cap(b.ends)+cap(b.idEnds)) + cap(b.val)
}
