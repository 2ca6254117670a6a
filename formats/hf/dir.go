package hf

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/cespare/xxhash/v2"

	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/internal/atomicfile"
)

// hfDirWriter is the file handling Writer and TableWriter share: the temporary sibling
// directory, the Arrow IPC data files and their rotation past MaxFileBytes, the running
// XXH64 of the data bytes (the fingerprint), state.json and dataset_info.json, and the publishing rename.
// The writers embed it and supply the record batches.
type hfDirWriter struct {
	dir, tmp string
	opt      Options
	schema   *arrow.Schema
	inBatch  int
	rows     int64

	files []string // temporary data file names, in order
	f     *os.File
	out   *atomicfile. // f's writer
		Writer
	cw  countWriter
	bw  *bufio.Writer
	iw  *ipc.Writer
	sum *xxhash.Digest
	err error
	// alloc serves the record batches' buffers, recycled from one batch to the next.
	alloc *table.Allocator
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newHFDirWriter refuses an existing dir unless opt.Overwrite and makes a fresh temporary
// sibling to build it in; fn names the caller in the error.
func newHFDirWriter(fn, dir string, opt Options, schema *arrow.Schema) (hfDirWriter, error) {
	if _, err := os.Stat(dir); err == nil && !opt.Overwrite {
		return hfDirWriter{}, fmt.Errorf("%s: %s exists", fn, dir)
	}
	tmp := filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return hfDirWriter{}, err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return hfDirWriter{}, err
	}
	return hfDirWriter{dir: dir, tmp: tmp, opt: opt, schema: schema, sum: xxhash.New(), alloc: new(table.Allocator)}, nil
}

func (w *hfDirWriter) fail(err error) error {
	if w.err == nil {
		w.err = fmt.Errorf("writing %s: %w", w.dir, err)
	}
	return w.err
}

// openFile starts the next data file.
func (w *hfDirWriter) openFile() error {
	name := filepath.Join(w.tmp, fmt.Sprintf("part-%05d.arrow", len(w.files)))
	f, err := os.Create(name)
	if err != nil {
		return w.fail(err)
	}
	w.files = append(w.files, name)
	w.f = f
	w.out = atomicfile.NewWriter(f)
	w.cw = countWriter{w: io.MultiWriter(w.out, w.sum)}
	w.bw = bufio.NewWriterSize(&w.cw, atomicfile.FrontBuffer)
	w.iw = ipc.NewWriter(w.bw, ipc.WithSchema(w.schema), ipc.WithAllocator(w.alloc))
	return nil
}

// closeFile ends the current data file (end-of-stream marker, flush, sync).
func (w *hfDirWriter) closeFile() error {
	err := w.iw.Close()
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		err = w.out.Finish()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f, w.iw, w.out = nil, nil, nil
	if err != nil {
		return w.fail(err)
	}
	return nil
}

// writeBatch writes the record batch that build makes of the pending rows (after opening a
// data file if none is open, so that a failed open leaves the rows unbuilt) and rolls over
// to a new file past MaxFileBytes.
func (w *hfDirWriter) writeBatch(build func() arrow.RecordBatch) error {
	if w.f == nil {
		if err := w.openFile(); err != nil {
			return err
		}
	}
	rec := build()
	defer rec.Release()
	w.inBatch = 0
	if err := w.iw.Write(rec); err != nil {
		return w.fail(err)
	}
	if err := w.bw.Flush(); err != nil {
		return w.fail(err)
	}
	if w.cw.n >= w.opt.MaxFileBytes {
		return w.closeFile()
	}
	return nil
}

// closeAll writes the last batch with flush (an empty dataset still gets one data file with
// the schema), ends the data file, writes the metadata files with the given features and
// publishes the directory. It returns the first error; the caller cleans up.
func (w *hfDirWriter) closeAll(flush func() error, features string) error {
	if w.err == nil && (w.inBatch > 0 || len(w.files) == 0) {
		flush()
	}
	if w.err == nil && w.f != nil {
		w.closeFile()
	}
	if w.err == nil {
		w.finish(features)
	}
	return w.err
}

func (w *hfDirWriter) finish(features string) {
	names := make([]string, len(w.files))
	for i, f := range w.files {
		names[i] = hfDataName(i, len(w.files))
		if err := os.Rename(f, filepath.Join(w.tmp, names[i])); err != nil {
			w.fail(err)
			return
		}
	}
	fp := w.opt.Fingerprint
	if fp == "" {
		fp = fmt.Sprintf("%016x", w.sum.Sum64())
	}
	state, err := hfStateJSON(names, fp, w.opt.Split)
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(w.tmp, "state.json"), state)
	}
	var info []byte
	if err == nil {
		info, err = marshalPy(hfDatasetInfo{Features: []byte(features)})
	}
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(w.tmp, "dataset_info.json"), info)
	}
	if err == nil {
		err = publishDir(w.tmp, w.dir, w.opt.Overwrite)
	}
	if err != nil {
		w.fail(err)
	}
}

// abort closes the open data file, if any, and removes the temporary directory.
func (w *hfDirWriter) abort() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	os.RemoveAll(w.tmp)
}
