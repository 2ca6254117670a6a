package shard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/input"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/pack"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// checkEvery is how many records pass between context checks and progress updates.
const checkEvery = 256

// Execute runs the pipeline of one shard (read, validate, tokenize, split, pack) and writes
// its partial outputs under env.StagingDir/<shard>/<attempt>/, replacing what an earlier run
// of the same attempt left there. Bad records are rejected into the shard's rejects.jsonl;
// an unreadable or corrupt input fails the shard with an error naming the file and position,
// and removes the attempt's directory.
func Execute(ctx context.Context, spec Spec, env Env) (res Result, err error) {
	fr, err := NewFraming(env.Job, env.Tokenizer)
	if err != nil {
		return Result{}, err
	}
	maxRecord := recordLimit(env.Job)
	res = Result{Shard: spec.ID, Index: spec.Index, Attempt: env.Attempt,
		Dir: attemptDir(spec.ID, env.Attempt), Bytes: PlannedBytes(spec)}
	// The attempt's directory is made when the shard first stages a file (see createStaged):
	// a shard under a lease with no rejects stages nothing and makes no directory.
	dir := filepath.Join(env.StagingDir, res.Dir)
	if err := os.RemoveAll(dir); err != nil {
		return Result{}, fmt.Errorf("shard %s: %w", spec.ID, err)
	}
	var lease *Lease
	if env.Lease != nil {
		lease = env.Lease(spec.Index)
	}
	path := spec.Path // the file being read, for the error
	var w *shardWriter
	defer func() {
		if err != nil {
			// Rows written under a lease are in the outputs: the assembly cannot go on.
			if w != nil {
				lease = w.lease // taken while the shard ran, perhaps
			}
			lease.fail(err)
			os.RemoveAll(dir)
			err = namedErr(path, err)
		}
	}()
	var ask func() *Lease
	if env.Lease != nil {
		ask = func() *Lease { return env.Lease(spec.Index) }
	}
	w, err = newShardWriter(env.StagingDir, res.Dir, env.Job.SequenceLengths, lease, env.MemStage, ask)
	if err != nil {
		return Result{}, err
	}
	defer w.abort()
	p := newPipeline(env, fr, w, maxRecord, &res)
	// The parts of a shard (its range or file; the files of a KindFiles shard) go through
	// one pipeline: a batch of documents for the helpers may span small files.
	for _, part := range spec.Parts() {
		path = part.Path
		rp, err := p.readPart(ctx, part)
		if err != nil {
			return Result{}, err
		}
		res.Parts = append(res.Parts, rp)
	}
	if err := p.flush(); err != nil {
		return Result{}, err
	}
	t := time.Now()
	if err := w.finish(&res); err != nil {
		return Result{}, err
	}
	res.Timings.Write += time.Since(t).Seconds()
	p.credit(res.Bytes)
	if env.Progress != nil {
		env.Progress.Shards.Add(1)
	}
	return res, nil
}

// readPart reads one part of the shard through the pipeline, and digests it.
func (p *pipeline) readPart(ctx context.Context, part Spec) (Part, error) {
	rd, err := openShard(part, p.maxRecord, p.env.Scratch.readBuffers())
	if err != nil {
		return Part{}, err
	}
	defer rd.Close()
	p.start(part, rd)
	if err := p.run(ctx, rd); err != nil {
		return Part{}, err
	}
	rp := Part{Source: part.Path, FirstLine: firstLineOf(part), Lines: linesRead(rd)}
	if rp.Input, err = digestInput(part, rd); err != nil {
		return Part{}, err
	}
	p.base += p.partBytes
	return rp, nil
}

// openShard opens the reader of a shard's part of its file.
func openShard(spec Spec, maxRecord int64, bufs *formats.Buffers) (formats.Reader, error) {
	f, err := formats.ParseFormat(string(spec.Format))
	if err != nil {
		return nil, err
	}
	opt := formats.Options{Format: f, Field: spec.TextField, MaxRecord: maxRecord, Buffers: bufs}
	switch spec.Kind {
	case KindBytes:
		opt.Range = shardRange(spec, 0)
	case KindRowGroups:
		opt.RowGroups = &formats.RowGroups{Start: spec.RowGroupStart, End: spec.RowGroupEnd}
	}
	if spec.Format == job.FormatHF {
		return hf.OpenFile(spec.Path, opt)
	}
	if spec.Format == job.FormatAuto {
		opt.Format = formats.FormatAuto
	}
	return input.Open(spec.Path, opt)
}

// pipeline is the state of one running shard.
type pipeline struct {
	env       Env
	fr        Framing
	w         *shardWriter
	maxRecord int64
	res       *Result
	credited  int64 // bytes reported to Progress
	// spec is the part being read, input its reader's place in its file when the reader can
	// tell (compressed bytes for .gz and .zst), so that progress moves during a long part,
	// and base the planned bytes of the parts before it.
	spec      Spec
	partBytes int64 // PlannedBytes(spec)
	input     formats.InputCounter
	base      int64
	// cur gathers documents while helpers are about (see TokenizePool); pending are the
	// batches handed to helpers or waiting for an earlier one, in order, and pendingText the
	// bytes of their texts. A batch still with a helper when the shard fails is left to it
	// and never reused.
	cur         *docBatch
	pending     []*docBatch
	pendingText int
}

// start makes part, read by rd, the part the pipeline reads next.
func (p *pipeline) start(part Spec, rd formats.Reader) {
	p.spec, p.partBytes = part, PlannedBytes(part)
	p.input, _ = rd.(formats.InputCounter)
}

// newPipeline returns the pipeline of one shard, writing into w.
func newPipeline(env Env, fr Framing, w *shardWriter, maxRecord int64, res *Result) *pipeline {
	return &pipeline{env: env, fr: fr, w: w, maxRecord: maxRecord, res: res}
}

func (p *pipeline) run(ctx context.Context, rd formats.Reader) error {
	var text, buf, rejects []byte
	var ids []uint32
	if sc := p.env.Scratch; sc != nil {
		buf, rejects, ids = sc.text, sc.rejects, sc.ids
		defer func() { sc.keep(buf, rejects, ids) }()
	}
	field := p.spec.TextField
	// Stage times: one clock reading between stages, summed in nanoseconds. A batch's
	// tokenizing is timed by whoever does it (docBatch.tok) and counted when it is packed.
	var read, tok, write time.Duration
	defer func() {
		p.res.Timings.Read += read.Seconds()
		p.res.Timings.Tokenize += tok.Seconds()
		p.res.Timings.Write += write.Seconds()
	}()
	t0 := time.Now()
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		p.res.Documents.Read++
		var reason string
		text, buf, reason = checkRecord(&rec, field, p.maxRecord, buf)
		if reason != "" {
			p.res.Documents.Rejected++
			if rejects, err = appendReject(rejects[:0], &rec, reason); err != nil {
				return err
			}
			if err := p.w.reject(rejects); err != nil {
				return err
			}
			p.progress(&rec, 1, 0)
			continue
		}
		if p.cur != nil || len(p.pending) > 0 || p.env.Pool.waiting() {
			if p.cur == nil {
				p.cur = p.batch()
			}
			p.cur.add(text, p.isVal(text))
			p.cur.credit = p.doneBytes(&rec)
			if len(p.cur.text) < p.env.Pool.batch {
				continue
			}
			t1 := time.Now()
			read += t1.Sub(t0)
			p.dispatch(p.cur)
			p.cur = nil
			if err := p.collect(false, &write); err != nil {
				return err
			}
			// Tokenizing here is timed by the batch, packing by collect; collect's waiting
			// for a helper is nobody's stage.
			t0 = time.Now()
			continue
		}
		t1 := time.Now()
		read += t1.Sub(t0)
		ids = p.fr.Encode(ids[:0], text)
		t2 := time.Now()
		tok += t2.Sub(t1)
		if err := p.place(text, p.isVal(text), ids); err != nil {
			return err
		}
		p.progress(&rec, 0, int64(len(ids)))
		t0 = time.Now()
		write += t0.Sub(t2)
	}
	read += time.Since(t0)
	return nil
}

// flush tokenizes and packs the documents still in batches, once the last part is read.
func (p *pipeline) flush() error {
	if p.cur != nil {
		p.dispatch(p.cur)
		p.cur = nil
	}
	var write time.Duration
	err := p.collect(true, &write)
	p.res.Timings.Write += write.Seconds()
	return err
}

// isVal reports whether the document of text goes to the validation split.
func (p *pipeline) isVal(text []byte) bool {
	return pack.IsVal(text, p.env.Job.Seed, p.env.Job.ValFraction)
}

// place packs one tokenized document into its split, val (isVal) or train.
func (p *pipeline) place(text []byte, val bool, ids []uint32) error {
	split := 0
	if val {
		split = 1
		p.res.Tokens.Val += int64(len(ids))
	} else {
		p.res.Tokens.Train += int64(len(ids))
	}
	if err := p.w.add(split, ids); err != nil {
		return err
	}
	p.res.Documents.Written++
	p.res.Documents.TextBytes += int64(len(text))
	return nil
}

// batch returns an empty batch, one the pool kept when it has one.
func (p *pipeline) batch() *docBatch {
	b := p.env.Pool.take()
	b.fr = p.fr
	b.reset()
	// The text's room for a whole batch at once (the last document may overrun it): grown by
	// doubling, a batch's text would touch twice its size in fresh memory.
	if n := p.env.Pool.batch + p.env.Pool.batch/4; cap(b.text) < n {
		b.text = make([]byte, 0, n)
	}
	return b
}

// recycle gives b back to the pool for the next batch of any shard.
func (p *pipeline) recycle(b *docBatch) {
	p.env.Pool.keep(b)
}

// dispatch hands b to an idle helper, or tokenizes it here when none is free, and queues it
// for packing.
func (p *pipeline) dispatch(b *docBatch) {
	if p.env.Pool.offer(b) {
		b.helped = true
	} else {
		b.tokenize()
	}
	p.pending = append(p.pending, b)
	p.pendingText += len(b.text)
}

// collect packs the queued batches that are tokenized, in order: those at the head of the
// queue, or all of them when wait is set, or when the queue is full (TokenizePool.full:
// waiting for a helper). Batches are queued only with a TokenizePool. The packing time is
// added to write.
func (p *pipeline) collect(wait bool, write *time.Duration) error {
	for len(p.pending) > 0 {
		b := p.pending[0]
		if b.helped {
			if wait || p.env.Pool.full(len(p.pending), p.pendingText) {
				<-b.done
			} else {
				select {
				case <-b.done:
				default:
					return nil
				}
			}
		}
		t := time.Now()
		var tokens int64
		for i := range b.ends {
			text, ids := b.doc(i)
			if err := p.place(text, b.val[i], ids); err != nil {
				return err
			}
			tokens += int64(len(ids))
		}
		p.res.Timings.Tokenize += b.tok.Seconds()
		if b.helped {
			p.res.Timings.Helped += b.tok.Seconds()
		}
		if pr := p.env.Progress; pr != nil {
			pr.Documents.Add(int64(len(b.ends)))
			pr.Tokens.Add(tokens)
		}
		if b.credit >= 0 {
			p.credit(b.credit)
		}
		p.pending = p.pending[1:]
		p.pendingText -= len(b.text)
		p.recycle(b)
		*write += time.Since(t)
	}
	return nil
}

// progress updates the live counters.
func (p *pipeline) progress(rec *formats.Record, rejected, tokens int64) {
	pr := p.env.Progress
	if pr == nil {
		return
	}
	pr.Documents.Add(1)
	pr.Rejected.Add(rejected)
	pr.Tokens.Add(tokens)
	if done := p.doneBytes(rec); done >= 0 {
		p.credit(done)
	}
}

// doneBytes is how far into the shard's input rec ends, in the bytes Progress counts, or -1
// when the reader cannot tell.
func (p *pipeline) doneBytes(rec *formats.Record) int64 {
	switch {
	case p.spec.Kind == KindBytes:
		if rec.Offset >= p.spec.ByteStart {
			return p.base + min(rec.Offset-p.spec.ByteStart, p.partBytes)
		}
	case p.input != nil && p.spec.Kind == KindFile:
		return p.base + min(p.input.InputBytes(), p.partBytes)
	}
	return -1
}

// credit raises the bytes reported for this shard to done.
func (p *pipeline) credit(done int64) {
	if p.env.Progress != nil && done > p.credited {
		p.env.Progress.Bytes.Add(done - p.credited)
		p.credited = done
	}
}

// Framing adds the job's BOS and EOS around a document's ids.
type Framing struct {
	tk       *tokenizer.Tokenizer
	bos, eos *uint32
}

// NewFraming checks the job's bos/eos against the tokenizer. Documents are encoded without the
// tokenizer's post-processor, so its own BOS is never added: BOS comes from bos: true only, and
// can never appear twice. A tokenizer without the requested token is refused.
func NewFraming(spec *job.Spec, tk *tokenizer.Tokenizer) (Framing, error) {
	fr := Framing{tk: tk}
	if spec.BOS {
		id, ok := tk.BOS()
		if !ok {
			return fr, fmt.Errorf("bos: tokenizer %s has no begin-of-text token", tk.Name())
		}
		fr.bos = &id
	}
	if spec.EOS {
		id, ok := tk.EOS()
		if !ok {
			return fr, fmt.Errorf("eos: tokenizer %s has no end-of-text token", tk.Name())
		}
		fr.eos = &id
	}
	return fr, nil
}

// Warnings returns what a user should know about the framing: a tokenizer whose
// post-processor adds BOS while the job does not ask for it.
func (fr Framing) Warnings(spec *job.Spec) []string {
	prefix, _ := fr.tk.PostProcessorAdds()
	if len(prefix) > 0 && !spec.BOS {
		return []string{fmt.Sprintf("tokenizer %s's post-processor adds %v before each sequence, "+
			"but the job has bos: false, so documents get no BOS (set bos: true to add it once)", fr.tk.Name(), prefix)}
	}
	return nil
}

// Encode appends the framed ids of text to dst.
func (fr Framing) Encode(dst []uint32, text []byte) []uint32 {
	// Room for a token per two bytes (text averages one per three to five) at once: growing
	// by doubling would allocate twice the final size for the longest documents. Past a
	// megabyte of ids, a rare document grows the buffer as it needs.
	dst = slices.Grow(dst, min(len(text)/2+2, 1<<18))
	if fr.bos != nil {
		dst = append(dst, *fr.bos)
	}
	dst = fr.tk.AppendBytes(dst, text, tokenizer.Options{})
	if fr.eos != nil {
		dst = append(dst, *fr.eos)
	}
	return dst
}

// recordLimit is the job's max_record_bytes; formats.DefaultMaxRecord for a spec without one
// (built in code rather than from DefaultSpec).
func recordLimit(spec *job.Spec) int64 {
	if spec.MaxRecordBytes <= 0 {
		return formats.DefaultMaxRecord
	}
	return int64(spec.MaxRecordBytes)
}
