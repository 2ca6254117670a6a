package formats

import "os"

// writebackChunk is how many bytes an output file accumulates before its writer asks the
// kernel to start writing them to disk.
const writebackChunk = 8 << 20

// writebackFile is an output file that starts the disk write-out of its pages as they are
// produced (sync_file_range with SYNC_FILE_RANGE_WRITE on Linux; nothing elsewhere) instead of
// leaving them all to the fsync that publishes it. The outputs of a job are several bytes per
// input byte and are written at the end of a run: without early write-out the disk idles
// while they are produced and the final fsync then waits for all of them. With it, the disk
// works while finalize still converts rows, and the fsync waits for the last chunk only.
// Write-out is advisory: errors surface in the fsync.
type writebackFile struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // bytes whose write-out was started
}

func (w *writebackFile) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackChunk {
		startWriteback(w.f, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}
