package shard

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unsafe"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/atomicfile"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/pack"
)

// Assembler builds a job's outputs while its shards still run. A result handed to Add is
// appended to the output files (built in a temporary sibling of the output directory) as soon
// as every shard before it in plan order has been appended, one goroutine per split and
// length. So the copy of staged rows into the outputs, and the disk's write-out of them, run
// beside the shards instead of after them, and the staged rows are deleted as soon as they
// are copied. Finish appends what is left, packs the shards' tails, writes the rejects and the
// manifest and publishes. The outputs are the same bytes whatever order the results arrive
// in: only the plan order is ever appended.
//
// Finalize is NewAssembler and Finish for a caller that has every result at once.
type Assembler struct {
	spec   *job.Spec
	env    FinalizeEnv
	tmp    string
	dtName string
	sem    chan struct{} // bounds the buckets copying at once

	mu      sync.Mutex
	cond    *sync.Cond
	results []*Result // by shard index; nil until added
	stopped bool      // Abort, a failed bucket or a cancelled context: the goroutines return
	err     error     // the first bucket error
	leased  int       // the shard index holding the Lease, or -1
	// staged counts, per staged stream file, the buckets that have yet to copy their rows
	// from it; the last one removes it.
	staged  map[string]int
	buckets []*bucketAssembly
	wg      sync.WaitGroup
	stopCtx func() bool
	done    bool // Finish or Abort ran
}

// bucketAssembly is one split and length being assembled. next and busy are guarded by the
// Assembler's mutex; the other fields belong to its goroutine until the Assembler's WaitGroup
// says it returned (out also to the shard holding the Lease).
type bucketAssembly struct {
	split string
	l     int
	out   *bucketWriter
	info  BucketInfo
	next  int        // shards appended
	busy  bool       // copying the staged rows of shard next
	tails [][]uint32 // of the appended shards, in order
	times FinalizeTimings
	// chunks are the row chunks of the leases, kept from one lease to the next (there is
	// at most one lease at a time).
	chunks *chunkStack
}

// NewAssembler checks the output directory (CheckOutput: refused when it overlaps an input,
// when it is not a previous output, and when it exists unless env.Overwrite), resolves the
// job's dtype, creates the temporary output directory and its files, and starts one goroutine
// per split and length waiting for results. shards is the plan's shard count. The caller
// must call Finish or Abort. Its errors, and the Assembler's, name the output directory
// where they concern the temporary one.
func NewAssembler(ctx context.Context, spec *job.Spec, shards int, env FinalizeEnv) (a *Assembler, err error) {
	defer func() { err = namedOutput(err, env.OutDir, env.tempID(spec.Name)) }()
	maxID := uint32(max(env.Tokenizer.VocabSize()-1, 0))
	if spec.Remainder == job.RemainderPad {
		pad, err := padID(spec, env.Tokenizer)
		if err != nil {
			return nil, err
		}
		maxID = max(maxID, pad)
	}
	dt, err := spec.Output.DType.Resolve(maxID)
	if err != nil {
		return nil, err // Resolve's errors name the key
	}
	fdt, err := formats.ParseDType(string(dt))
	if err != nil {
		return nil, err
	}
	if err := CheckOutput(spec, env.OutDir, env.Inputs, env.Overwrite); err != nil {
		return nil, err
	}
	a = &Assembler{spec: spec, env: env, dtName: string(dt), results: make([]*Result, shards), leased: -1, staged: map[string]int{},
		sem: make(chan struct{}, max(env.Workers, 1)), tmp: tempSibling(env.OutDir, "tmp", env.tempID(spec.Name))}
	a.cond = sync.NewCond(&a.mu)
	if err := os.RemoveAll(a.tmp); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(a.tmp, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.Abort()
		}
	}()
	for _, split := range Splits() {
		for _, l := range spec.SequenceLengths {
			hfName, npyName := OutputNames(spec, split, l)
			out, err := newBucketWriter(spec, a.tmp, hfName, npyName, fdt, l)
			if err != nil {
				return nil, err
			}
			a.buckets = append(a.buckets, &bucketAssembly{split: split, l: l, out: out,
				info:   BucketInfo{Split: split, SeqLen: l, Paths: out.paths},
				chunks: leaseChunks()})
		}
	}
	a.stopCtx = context.AfterFunc(ctx, func() { a.stop(ctx.Err()) })
	for _, b := range a.buckets {
		a.wg.Add(1)
		go a.run(b)
	}
	return a, nil
}

// Add hands over a successful shard's result; it returns at once. The error is the first
// failure of the assembly so far (a staged file that fails its check, a full disk), so that
// the caller can stop the job early; nil means no failure yet.
func (a *Assembler) Add(r Result) error {
	if err := checkResult(a.spec, &r); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Index < 0 || r.Index >= len(a.results) {
		return fmt.Errorf("finalize: shard %s has index %d, the plan has %d shards", r.Shard, r.Index, len(a.results))
	}
	if prev := a.results[r.Index]; prev != nil {
		if prev.Shard == r.Shard && prev.Attempt == r.Attempt {
			return a.err
		}
		return fmt.Errorf("finalize: shard index %d reported twice (%s attempt %d, then %s attempt %d)",
			r.Index, prev.Shard, prev.Attempt, r.Shard, r.Attempt)
	}
	if r.direct() != (a.leased == r.Index) {
		return fmt.Errorf("finalize: shard %s: its rows are direct=%v, but it %s the lease",
			r.Shard, r.direct(), map[bool]string{true: "held", false: "did not hold"}[a.leased == r.Index])
	}
	a.results[r.Index] = &r
	for _, b := range r.Buckets {
		if !b.Direct {
			a.staged[b.File.Name]++
		}
	}
	if a.leased == r.Index {
		a.leased = -1
	}
	a.cond.Broadcast()
	return a.err
}

// Lease is the right of one shard to write its full rows straight into the outputs, granted
// by Assembler.Lease when every shard before it is already in them: its rows are then next in
// every output, and staging them would only copy them twice more (write, read back). With one
// worker every shard runs under a lease; with more, the shard that runs first in plan order
// whenever the others before it are done. The outputs are the same bytes either way.
//
// The rows go to the outputs through one goroutine per split and length, in chunks of whole
// rows (at most leaseQueue chunks waiting per output), so that converting and writing them,
// often several bytes per input byte, runs beside the shard's tokenizing, as the copy of
// staged rows does.
type Lease struct {
	a      *Assembler
	index  int
	sinks  []*leaseSink // one per bucket, in the Assembler's order
	closed bool
}

// leaseSink feeds one output's rows to its writing goroutine.
type leaseSink struct {
	b    *bucketAssembly
	base []byte        // the chunk that buf is in
	buf  []byte        // rows being gathered
	ch   chan rowChunk // full chunks, to the writer
	free *chunkStack   // written chunks, back for reuse (by this lease and the next ones)
	done chan error    // the writer's first error, when ch is closed and drained
	// off is the .npy output's file offset of buf's first byte, or of the next chunk's when
	// buf is nil; -1 without a .npy output.
	off int64
}

// rowChunk is a chunk of rows: data, the rows, lie in base, the chunk taken from the
// chunkStack.
type rowChunk struct{ base, data []byte }

const (
	leaseChunk = 1 << 20 // bytes of rows handed to a writer at once (whole rows; at least one)
	leaseQueue = 4       // chunks waiting per writer
)

// leaseChunks returns the row chunks of one output's leases: as many as can be in flight
// (queued, being written, being filled), cut from one block aligned for direct writes, on
// ordinary pages: a page costs its fault only once rows are written to it, and the leases
// of a validation split, a hundredth of the rows, touch a few of them.
func leaseChunks() *chunkStack {
	const n = leaseQueue + 2
	slab := atomicfile.AlignedBytes(n * leaseChunk)
	s := &chunkStack{max: n}
	for i := n - 1; i >= 0; i-- { // chunk 0 on top
		s.free = append(s.free, slab[i*leaseChunk:i*leaseChunk:(i+1)*leaseChunk])
	}
	return s
}

// chunkStack holds an output's row chunks for reuse, last in first out: the chunk written last
// is taken next, so the leases cycle through as few chunks as they keep in flight and the rest
// of the block is never touched. Memory touched for the first time costs a page fault and the
// kernel's zeroing of the page: taken in turn (first in first out), every chunk of every output
// was touched, the validation split's too, a few percent of a one-length run's CPU.
type chunkStack struct {
	mu   sync.Mutex
	free [][]byte
	max  int
}

// get returns a chunk to fill (empty), or nil when there is none.
func (s *chunkStack) get() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.free)
	if n == 0 {
		return nil
	}
	b := s.free[n-1]
	s.free = s.free[:n-1]
	return b[:0]
}

// put gives a written chunk back; beyond max chunks it is dropped.
func (s *chunkStack) put(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) < s.max {
		s.free = append(s.free, b[:0])
	}
}

// Lease grants shard index the Lease when every shard before it is in the outputs (or holds
// rows already written there) and no other shard holds it; otherwise it returns nil and the
// shard stages its rows. The shard must end the lease with close before its Result goes to
// Add, or with fail, which stops the assembly (its rows may be partly written).
func (a *Assembler) Lease(index int) *Lease {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped || a.leased >= 0 || index < 0 || index >= len(a.results) || a.results[index] != nil {
		return nil
	}
	for _, b := range a.buckets {
		if b.busy {
			return nil
		}
		for j := b.next; j < index; j++ {
			if r := a.results[j]; r == nil || !r.direct() {
				return nil
			}
		}
	}
	a.leased = index
	l := &Lease{a: a, index: index}
	for _, b := range a.buckets {
		k := &leaseSink{b: b, ch: make(chan rowChunk, leaseQueue), free: b.chunks, done: make(chan error, 1), off: -1}
		if b.out.npy != nil {
			k.off = b.out.npy.Offset() // nothing else writes to b.out while the lease is held
		}
		go k.drain()
		l.sinks = append(l.sinks, k)
	}
	return l
}

// direct reports whether the result's rows went straight to the outputs.
func (r *Result) direct() bool {
	return len(r.Buckets) > 0 && r.Buckets[0].Direct
}

// drain writes the chunks to the output until ch is closed; after an error it only discards
// them, and reports the error on done.
func (k *leaseSink) drain() {
	var err error
	for c := range k.ch {
		if err == nil {
			err = k.b.out.writeStaged(c.data)
		}
		k.free.put(c.base)
	}
	k.done <- err
}

// write appends one full row of split s (0 train, 1 val) and length index i to the outputs.
func (l *Lease) write(s, i int, row []uint32) error {
	k := l.sink(s, i, 4*len(row))
	k.buf = appendUint32LE(k.buf, row)
	return nil
}

// writeLE is write for a row as little-endian bytes.
func (l *Lease) writeLE(s, i int, row []byte) {
	k := l.sink(s, i, len(row))
	k.buf = append(k.buf, row...)
}

// sink returns the sink of split s and length index i with room for n more bytes in its
// buffer. A chunk is filled from its offset of the .npy output's file offset modulo 4 KiB on,
// so that the .npy writer hands its whole 4 KiB blocks to the file where they lie, with no
// copy (npy.Writer.Offset).
func (l *Lease) sink(s, i, n int) *leaseSink {
	k := l.sinks[s*len(l.a.spec.SequenceLengths)+i]
	if len(k.buf) > 0 && len(k.buf)+n > cap(k.buf) {
		k.flush()
	}
	if k.buf == nil {
		at := 0
		if k.off >= 0 {
			at = int(k.off % 4096)
		}
		if k.base = k.free.get(); k.base != nil && at+n <= cap(k.base) {
			k.buf = k.base[at:at]
		} else {
			if k.base != nil {
				k.free.put(k.base)
			}
			k.base = make([]byte, 0, max(leaseChunk, n))
			k.buf = k.base
		}
	}
	return k
}

// appendUint32LE appends ids as little-endian uint32: on a little-endian machine the bytes of
// the slice as they are (one copy), elsewhere id by id.
func appendUint32LE(dst []byte, ids []uint32) []byte {
	if len(ids) > 0 && hostLittleEndian() {
		return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(&ids[0])), 4*len(ids))...)
	}
	for _, id := range ids {
		dst = binary.LittleEndian.AppendUint32(dst, id)
	}
	return dst
}

// hostLittleEndian reports whether the machine stores integers least significant byte first.
func hostLittleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// flush hands the gathered rows to the writer.
func (k *leaseSink) flush() {
	if len(k.buf) > 0 {
		k.ch <- rowChunk{base: k.base, data: k.buf}
		if k.off >= 0 {
			k.off += int64(len(k.buf))
		}
		k.base, k.buf = nil, nil
	}
}

// close writes what is gathered, waits for the writers and returns their first error. The
// shard's rows are then all in the outputs (or the assembly failed).
func (l *Lease) close() error {
	if l == nil || l.closed {
		return nil
	}
	l.closed = true
	var errs []error
	for _, k := range l.sinks {
		k.flush()
		close(k.ch)
	}
	for _, k := range l.sinks {
		if err := <-k.done; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// fail ends the lease and stops the assembly with the leased shard's error; nil-safe.
func (l *Lease) fail(err error) {
	if l != nil {
		l.close()
		l.a.stop(fmt.Errorf("shard index %d failed while writing into the outputs: %w", l.index, err))
	}
}

// checkResult checks that a result has every bucket of the job.
func checkResult(spec *job.Spec, r *Result) error {
	for _, split := range Splits() {
		for _, l := range spec.SequenceLengths {
			if r.Bucket(split, l) == nil {
				return fmt.Errorf("finalize: shard %s has no %s bucket of length %d", r.Shard, split, l)
			}
		}
	}
	return nil
}

// stop makes the bucket goroutines return, recording err as the assembly's failure if it is
// the first.
func (a *Assembler) stop(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err == nil {
		a.err = namedOutput(err, a.env.OutDir, a.env.tempID(a.spec.Name))
	}
	a.stopped = true
	a.cond.Broadcast()
}

// run appends the shards' rows of one bucket in plan order, as the results arrive.
func (a *Assembler) run(b *bucketAssembly) {
	defer a.wg.Done()
	var buf []byte
	for {
		a.mu.Lock()
		for !a.stopped && b.next < len(a.results) && a.results[b.next] == nil {
			a.cond.Wait()
		}
		if a.stopped || b.next == len(a.results) {
			a.mu.Unlock()
			return
		}
		r := a.results[b.next]
		sb := r.Bucket(b.split, b.l)
		if sb.Direct { // the shard wrote its rows under a lease
			b.info.Sequences += sb.Rows
			b.tails = append(b.tails, sb.Tail)
			b.next++
			a.mu.Unlock()
			continue
		}
		b.busy = true
		a.mu.Unlock()

		a.sem <- struct{}{}
		start := time.Now()
		var read time.Duration
		var err error
		buf, err = copyStagedRows(a.env.StagingDir, a.env.MemStage, sb, b.out, buf, &read)
		<-a.sem
		b.times.ReadStaging += read.Seconds()
		b.times.WriteOutputs += (time.Since(start) - read).Seconds()
		if err != nil {
			a.stop(fmt.Errorf("finalize: shard %s: %w", r.Shard, err))
			return
		}
		b.info.Sequences += sb.Rows
		b.tails = append(b.tails, sb.Tail)
		a.mu.Lock()
		if a.staged[sb.File.Name]--; a.staged[sb.File.Name] == 0 && !a.env.KeepStaged {
			// The split's rows of every length are in the outputs now; the staged stream
			// only takes disk space.
			delete(a.staged, sb.File.Name)
			if !a.env.MemStage.release(sb.File.Name) {
				os.Remove(filepath.Join(a.env.StagingDir, sb.File.Name))
			}
		}
		b.busy = false
		b.next++
		a.mu.Unlock()
	}
}

// Finish assembles what Add has not, packs the tails, writes rejects.jsonl, run.json and
// manifest.json and publishes the output directory, then removes the staging area. results
// must hold one Result per shard of the plan (any order); those already added must be the
// same attempts. The job fails, and nothing is published, when more than
// max_reject_fraction of the records read were rejected, or when no train bucket holds a row.
// Finish ends the Assembler, whatever it returns.
func (a *Assembler) Finish(ctx context.Context, results []Result) (m *Manifest, err error) {
	defer func() {
		err = namedOutput(err, a.env.OutDir, a.env.tempID(a.spec.Name))
		if err != nil {
			a.Abort()
		}
	}()
	rs, err := orderResults(a.spec, results)
	if err != nil {
		return nil, err
	}
	if len(rs) != len(a.results) {
		return nil, fmt.Errorf("finalize: %d shard results for a plan of %d shards", len(rs), len(a.results))
	}
	for _, r := range rs {
		if err := a.Add(r); err != nil {
			return nil, err
		}
	}
	m, err = newManifest(a.spec, rs, a.env)
	if err != nil {
		return nil, err
	}
	m.DType = a.dtName
	shifts, err := resultLineShifts(rs)
	if err != nil {
		return nil, err
	}
	if err := checkRejects(a.spec, m, rs, shifts, a.env.StagingDir); err != nil {
		return nil, err
	}
	a.wg.Wait()
	a.stopCtx()
	if err := a.failure(ctx); err != nil {
		return nil, err
	}
	if m.Buckets, err = a.closeBuckets(m); err != nil {
		return nil, err
	}
	if err := checkTrainRows(a.spec, m); err != nil {
		return nil, err
	}
	if a.env.Warnings != nil {
		*a.env.Warnings = Warnings(a.spec, m)
	}
	if err := concatRejects(rs, shifts, a.env.StagingDir, filepath.Join(a.tmp, m.Rejects.Path)); err != nil {
		return nil, err
	}
	if err := writeMetaAndPublish(a.tmp, a.spec, a.env, m); err != nil {
		return nil, err
	}
	a.done = true
	if a.env.StagingDir != "" {
		os.RemoveAll(a.env.StagingDir)
		removeIfEmpty(filepath.Dir(a.env.StagingDir))
	}
	return m, nil
}

// failure is the assembly's first error, or the context's.
func (a *Assembler) failure(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	return ctx.Err()
}

// closeBuckets packs each bucket's tails, checks its token count and closes (syncs) its
// files, up to env.Workers buckets at once, and returns their manifest entries in output
// order (train then val, each in the job's length order).
func (a *Assembler) closeBuckets(m *Manifest) ([]BucketInfo, error) {
	infos := make([]BucketInfo, len(a.buckets))
	errs := make([]error, len(a.buckets))
	var wg sync.WaitGroup
	for i, b := range a.buckets {
		wg.Add(1)
		a.sem <- struct{}{}
		go func() {
			defer func() { <-a.sem; wg.Done() }()
			start := time.Now()
			infos[i], errs[i] = a.closeBucket(b, m)
			b.times.WriteOutputs += time.Since(start).Seconds()
		}()
	}
	wg.Wait()
	if t := a.env.Timings; t != nil {
		for _, b := range a.buckets {
			t.ReadStaging += b.times.ReadStaging
			t.WriteOutputs += b.times.WriteOutputs
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return infos, nil
}

func (a *Assembler) closeBucket(b *bucketAssembly, m *Manifest) (BucketInfo, error) {
	rem := pack.Drop
	var pad uint32
	if a.spec.Remainder == job.RemainderPad {
		rem, pad = pack.Pad, *m.PadID
	}
	info := b.info
	st, err := pack.PackTails(b.l, b.tails, rem, pad, b.out.write)
	if err != nil {
		return info, err
	}
	info.Sequences += st.Rows
	info.DroppedTailTokens, info.PaddedTailTokens = st.DroppedTailTokens, st.PaddedTailTokens
	info.Tokens = info.Sequences*int64(b.l) - info.PaddedTailTokens + info.DroppedTailTokens
	want := m.Tokens.Train
	if b.split == SplitVal {
		want = m.Tokens.Val
	}
	if info.Tokens != want {
		return info, fmt.Errorf("finalize: %s_%d holds %d tokens, the shards counted %d", b.split, b.l, info.Tokens, want)
	}
	return info, b.out.close()
}

// Abort stops the assembly and removes its temporary output directory; the staging area is
// the caller's. It may be called more than once, and after Finish (then it does nothing).
func (a *Assembler) Abort() {
	if a.done {
		return
	}
	a.done = true
	a.stop(errors.New("finalize: aborted"))
	a.wg.Wait()
	if a.stopCtx != nil {
		a.stopCtx()
	}
	for _, b := range a.buckets {
		b.out.abort()
	}
	os.RemoveAll(a.tmp)
}
