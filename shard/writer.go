package shard

import (
	"path/filepath"

	"github.com/tokenmill/tokenmill/pack"
)

// shardWriter holds a shard's staged outputs: per split, the token stream of its documents
// (none under a lease, whose rows go straight to the outputs), the rejects (a file only once
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
	packers [2]*pack.Packer
	rejects *stagedFile
	done    bool
}

func newShardWriter(root, dir string, lengths []int, lease *Lease) (w *shardWriter, err error) {
	sw := &shardWriter{root: root, dir: dir, lengths: lengths, lease: lease}
	w = sw
	defer func() {
		if err != nil {
			sw.abort() // w is nil by then
		}
	}()
	for s, split := range Splits() {
		emit := func(length int, row []uint32) error {
			return lease.write(s, w.index(length), row)
		}
		if lease == nil {
			if w.streams[s], err = createStaged(root, filepath.Join(dir, stagedName(split)), rowsBuffer); err != nil {
				return nil, err
			}
			// The packer only counts the rows and keeps the tails: the rows are in the stream.
			emit = func(int, []uint32) error { return nil }
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

// finish closes the staged files and fills the result's buckets and rejects.
func (w *shardWriter) finish(res *Result) error {
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
