package shard

import (
	"encoding/binary"
	"path/filepath"
	"slices"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/npy"
	"github.com/tokenmill/tokenmill/job"
)

// bucketWriter writes the rows of one split and length to the job's output formats.
type bucketWriter struct {
	paths []string
	npy   *npy.Writer
	hf    *hf.Writer
	row   []int64
}

func newBucketWriter(spec *job.Spec, tmp, hfName, npyName string, dt formats.DType, l int) (w *bucketWriter, err error) {
	w = &bucketWriter{row: make([]int64, l)}
	defer func() {
		if err != nil {
			w.abort()
		}
	}()
	if slices.Contains(spec.Output.Formats, job.OutputHF) {
		if w.hf, err = hf.Create(filepath.Join(tmp, hfName), hf.Options{DType: dt}); err != nil {
			return nil, err
		}
		w.paths = append(w.paths, hfName)
	}
	if slices.Contains(spec.Output.Formats, job.OutputNPY) {
		if w.npy, err = npy.Create(filepath.Join(tmp, npyName), dt, l); err != nil {
			return nil, err
		}
		w.paths = append(w.paths, npyName)
	}
	return w, nil
}

// write appends one row to every output.
func (w *bucketWriter) write(row []uint32) error {
	w.row = w.row[:len(row)]
	for i, id := range row {
		w.row[i] = int64(id)
	}
	if w.npy != nil {
		if err := w.npy.WriteRow64(w.row); err != nil {
			return err
		}
	}
	if w.hf != nil {
		if err := w.hf.WriteRow64(w.row); err != nil {
			return err
		}
	}
	return nil
}

// writeStaged appends whole staged rows (little-endian uint32, len(w.row) ids each) to every
// output: the .npy takes the bytes as they are when its dtype is uint32.
func (w *bucketWriter) writeStaged(b []byte) error {
	if w.npy != nil {
		if err := w.npy.WriteUint32LE(b); err != nil {
			return err
		}
	}
	if w.hf == nil {
		return nil
	}
	row := w.row[:cap(w.row)]
	for ; len(b) > 0; b = b[4*len(row):] {
		for i := range row {
			row[i] = int64(binary.LittleEndian.Uint32(b[4*i:]))
		}
		if err := w.hf.WriteRow64(row); err != nil {
			return err
		}
	}
	return nil
}

func (w *bucketWriter) close() error {
	npy, hf := w.npy, w.hf
	w.npy, w.hf = nil, nil
	var err error
	if npy != nil {
		err = npy.Close()
	}
	if hf != nil {
		if err != nil {
			hf.Abort()
		} else {
			err = hf.Close()
		}
	}
	return err
}

func (w *bucketWriter) abort() {
	if w.npy != nil {
		w.npy.Abort()
		w.npy = nil
	}
	if w.hf != nil {
		w.hf.Abort()
		w.hf = nil
	}
}
