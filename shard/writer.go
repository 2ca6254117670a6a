package shard

import (
	"path/filepath"

	"github.com/tokenmill/tokenmill/pack"
)

// shardWriter holds a shard's staged outputs: per split, the token stream of its documents
// (none under a lease, whose rows go straight to the outputs; in a MemStage while it has
// room), the rejects (a file only once
// there is one: Result.Rejects is the zero FileRef without), and one packer per split. A
// split's rows of every length are consecutive slices of its stream (packing is by
// concatenation), so the stream is staged once, whatever the number of lengths, and the
// assembly cuts each length's rows from it.
type shardWriter struct {
	root    string
	dir     string // the attempt's directory, relative to root
	lengths []int
	streams [2]*stagedFile // [split]; nil under a lease
	lease   *Lease
	// ask asks for the lease again (Env.Lease with the shard's index) while the shard stages
	// in memory; nil once it may not or need not.
	ask     func() *Lease
	adds    int // documents added while ask is set
	packers [2]*pack.Packer
	rejects *stagedFile
	done    bool
}

// askEvery is how many documents a shard staging in memory adds between two requests for the
// lease.
const askEvery = 64

// newShardWriter returns the writer of one shard attempt staging under root/dir, or writing
// its rows under lease; a staged row stream is held in mem while it has room (nil: on disk).
// A shard that stages in memory calls ask (when not nil) every askEvery documents and when it
// finishes, and once granted the lease it moves the rows it staged into the outputs and writes
// the rest there too: the rows of a shard that started beside the one before it wait in
// memory only until that one is done.
func newShardWriter(root, dir string, lengths []int, lease *Lease, mem *MemStage, ask func() *Lease) (w *shardWriter, err error) {
	sw := &shardWriter{root: root, dir: dir, lengths: lengths, lease: lease}
	if lease == nil && mem != nil {
		sw.ask = ask
	}
	w = sw
	defer func() {
		if err != nil {
			sw.abort() // w is nil by then
		}
	}()
	for s, split := range Splits() {
		// Staging, the packer only counts the rows and keeps the tails: the rows are in the
		// stream.
		emit := func(length int, row []uint32) error {
			if sw.lease == nil {
				return nil
			}
			return sw.lease.write(s, sw.index(length), row)
		}
		if lease == nil {
			if w.streams[s], err = stageRows(root, filepath.Join(dir, stagedName(split)), mem); err != nil {
				return nil, err
			}
		}
		p, err := pack.NewPacker(lengths, emit)
		if err != nil {
			return nil, err
		}
		w.packers[s] = p
	}
	return w, nil
}

// reject appends one line to the shard's rejects.jsonl, which the first reject creates.
func (w *shardWriter) reject(line []byte) error {
	if w.rejects == nil {
		f, err := createStaged(w.root, filepath.Join(w.dir, "rejects.jsonl"), rejectsBuffer)
		if err != nil {
			return err
		}
		w.rejects = f
	}
	_, err := w.rejects.Write(line)
	return err
}

// add appends one document's ids to split s (0 train, 1 val): to its stream when staging, and
// to its packer.
func (w *shardWriter) add(s int, ids []uint32) error {
	if w.ask != nil {
		if w.adds++; w.adds%askEvery == 0 {
			if err := w.takeLease(); err != nil {
				return err
			}
		}
	}
	if f := w.streams[s]; f != nil {
		if err := f.writeIDs(ids); err != nil {
			return err
		}
	}
	return w.packers[s].Add(ids)
}

func (w *shardWriter) index(length int) int {
	for i, l := range w.lengths {
		if l == length {
			return i
		}
	}
	panic("shard: packer emitted an unknown length")
}

// takeLease asks for the lease while every staged stream is held in memory. Granted, the full
// rows staged so far go to the outputs through it, in order, and the streams are given back;
// the packers then emit the shard's next rows to the lease. A stream that moved to its file
// keeps the shard staging to its end.
func (w *shardWriter) takeLease() error {
	for _, f := range w.streams {
		if f == nil || !f.inMem {
			w.ask = nil
			return nil
		}
	}
	l := w.ask()
	if l == nil {
		return nil
	}
	w.lease, w.ask = l, nil
	for s, f := range w.streams {
		for i, length := range w.lengths {
			if err := f.rows(length, w.packers[s].Rows(length), func(row []byte) { l.writeLE(s, i, row) }); err != nil {
				return err
			}
		}
		f.abort()
		w.streams[s] = nil
	}
	return nil
}

// finish closes the staged files and fills the result's buckets and rejects.
func (w *shardWriter) finish(res *Result) error {
	if w.ask != nil {
		if err := w.takeLease(); err != nil {
			return err
		}
	}
	if err := w.lease.close(); err != nil {
		return err
	}
	for s, split := range Splits() {
		var stream FileRef
		if f := w.streams[s]; f != nil {
			ref, err := f.close()
			if err != nil {
				return err
			}
			stream = ref
		}
		for _, l := range w.lengths {
			res.Buckets = append(res.Buckets, Bucket{Split: split, SeqLen: l, Rows: w.packers[s].Rows(l),
				Tail: w.packers[s].Tail(l), Direct: w.lease != nil, File: stream})
		}
	}
	if w.rejects != nil {
		ref, err := w.rejects.close()
		if err != nil {
			return err
		}
		res.Rejects = ref
	}
	for _, f := range w.streams {
		if f != nil {
			f.keep()
		}
	}
	w.done = true
	return nil
}

// abort closes whatever is still open; the caller removes the directory.
func (w *shardWriter) abort() {
	if w.done {
		return
	}
	w.done = true
	for _, f := range w.streams {
		if f != nil {
			f.abort()
		}
	}
	if w.rejects != nil {
		w.rejects.abort()
	}
}
