package shard

import (
	"path/filepath"

	"github.com/tokenmill/tokenmill/pack"
)

// shardWriter holds a shard's staged outputs: one row file per split and length (none under a
// lease, whose rows go straight to the outputs), the rejects, and one packer per split.
type shardWriter struct {
	root    string
	lengths []int
	rows    [2][]*stagedFile // [split][length index]; nil under a lease
	lease   *Lease
	packers [2]*pack.Packer
	rejects *stagedFile
	done    bool
}

func newShardWriter(root, dir string, lengths []int, lease *Lease) (w *shardWriter, err error) {
	w = &shardWriter{root: root, lengths: lengths, lease: lease}
	defer func() {
		if err != nil {
			w.abort()
		}
	}()
	for s, split := range Splits() {
		emit := func(length int, row []uint32) error {
			return lease.write(s, w.index(length), row)
		}
		if lease == nil {
			for _, l := range lengths {
				f, err := createStaged(root, filepath.Join(dir, stagedName(split, l)), rowsBuffer)
				if err != nil {
					return nil, err
				}
				w.rows[s] = append(w.rows[s], f)
			}
			files := w.rows[s]
			emit = func(length int, row []uint32) error {
				return files[w.index(length)].writeIDs(row)
			}
		}
		p, err := pack.NewPacker(lengths, emit)
		if err != nil {
			return nil, err
		}
		w.packers[s] = p
	}
	if w.rejects, err = createStaged(root, filepath.Join(dir, "rejects.jsonl"), rejectsBuffer); err != nil {
		return nil, err
	}
	return w, nil
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
		for i, l := range w.lengths {
			b := Bucket{Split: split, SeqLen: l, Rows: w.packers[s].Rows(l), Tail: w.packers[s].Tail(l),
				Direct: w.lease != nil}
			if w.lease == nil {
				ref, err := w.rows[s][i].close()
				if err != nil {
					return err
				}
				b.File = ref
			}
			res.Buckets = append(res.Buckets, b)
		}
	}
	ref, err := w.rejects.close()
	if err != nil {
		return err
	}
	res.Rejects = ref
	w.done = true
	return nil
}

// abort closes whatever is still open; the caller removes the directory.
func (w *shardWriter) abort() {
	if w.done {
		return
	}
	w.done = true
	for _, fs := range w.rows {
		for _, f := range fs {
			f.abort()
		}
	}
	if w.rejects != nil {
		w.rejects.abort()
	}
}
