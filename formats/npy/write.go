package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/atomicfile"
)

// npyHeader returns the .npy v1.0 preamble exactly as np.save writes it
// (numpy/lib/format.py _write_array_header): the dict with sorted keys,
// 21 - len(repr(shape[0])) spaces of growth room, then space padding and
// '\n' to a multiple of 64 bytes. Its length does not depend on shape[0].
func header(d formats.DType, shape []int64) []byte {
	var sb strings.Builder
	sb.WriteString("{'descr': '" + d.NumPyDescr() + "', 'fortran_order': False, 'shape': (")
	for i, n := range shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.FormatInt(n, 10))
	}
	if len(shape) == 1 {
		sb.WriteByte(',')
	}
	sb.WriteString("), }")
	if len(shape) > 0 {
		sb.WriteString(strings.Repeat(" ", max(0, 21-len(strconv.FormatInt(shape[0], 10)))))
	}
	hlen := sb.Len() + 1
	pad := 64 - (10+hlen)%64
	b := make([]byte, 0, 10+hlen+pad)
	b = append(b, "\x93NUMPY\x01\x00"...)
	b = binary.LittleEndian.AppendUint16(b, uint16(hlen+pad))
	b = append(b, sb.String()...)
	b = append(b, strings.Repeat(" ", pad)...)
	return append(b, '\n')
}

// Writer streams a NumPy array of shape (rows, cols), or (n,) when cols
// is 0, without knowing the row count in advance: the header is written
// with room for any count and rewritten on Close. The file appears at its
// path only when Close succeeds.
type Writer struct {
	path, tmp string
	f         *os.File
	out       *atomicfile.Writer
	bw        *bufio.Writer
	dtype     formats.DType
	cols      int
	n         int64 // rows written (elements when cols is 0)
	buf       []byte
	hdrLen    int
	err       error
}

// Create starts writing path. cols > 0 makes a 2-D array whose rows must
// all have cols elements; cols == 0 makes a 1-D array of all rows' elements.
func Create(path string, dtype formats.DType, cols int) (*Writer, error) {
	if !dtype.Valid() || cols < 0 {
		return nil, fmt.Errorf("npy.Create %s: bad dtype %v or cols %d", path, dtype, cols)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	out := atomicfile.NewWriter(f)
	w := &Writer{path: path, tmp: tmp, f: f, out: out, bw: bufio.NewWriterSize(out, atomicfile.FrontBuffer), dtype: dtype, cols: cols}
	h := header(dtype, w.shape())
	w.hdrLen = len(h)
	if _, err := w.bw.Write(h); err != nil {
		w.Abort()
		return nil, fmt.Errorf("%s: %w", tmp, err)
	}
	return w, nil
}

func (w *Writer) shape() []int64 {
	if w.cols == 0 {
		return []int64{w.n}
	}
	return []int64{w.n, int64(w.cols)}
}

// Rows returns the number of rows (elements for a 1-D array) written.
func (w *Writer) Rows() int64 { return w.n }

// Offset is the file offset of the next byte written. A uint32 writer hands the bytes of a
// large WriteUint32LE to the file with no copy when, from the file's next 4 KiB boundary on,
// they lie at an address aligned to 4 KiB (see atomicfile.Writer.Write): a caller that fills
// its buffers from address Offset modulo 4 KiB of an aligned block gets that.
func (w *Writer) Offset() int64 { return w.out.Offset() + int64(w.bw.Buffered()) }

// WriteRow appends one row.
func (w *Writer) WriteRow(row []int32) error {
	return writeRow(w, row)
}

// WriteRow64 appends one row of int64 values.
func (w *Writer) WriteRow64(row []int64) error {
	return writeRow(w, row)
}

func writeRow[T int32 | int64](w *Writer, row []T) error {
	if w.err != nil {
		return w.err
	}
	if w.cols > 0 && len(row) != w.cols {
		return fmt.Errorf("%s: row of %d values, want %d", w.path, len(row), w.cols)
	}
	// The range check first, then one conversion loop per element size (not a call per
	// element): finalize writes every token through here.
	lo, hi := w.dtype.Range()
	for _, v := range row {
		if int64(v) < lo || int64(v) > hi {
			_, err := w.dtype.AppendElem(nil, int64(v))
			return fmt.Errorf("%w (row %d of %s)", err, w.n, w.path)
		}
	}
	w.buf = appendElems(w.buf[:0], w.dtype, row)
	if _, err := w.bw.Write(w.buf); err != nil {
		w.err = fmt.Errorf("%s: %w", w.tmp, err)
		return w.err
	}
	if w.cols > 0 {
		w.n++
	} else {
		w.n += int64(len(row))
	}
	return nil
}

// WriteUint32LE appends whole rows given as little-endian uint32 values, the form in which a
// job stages its token rows. For the dtype uint32 the bytes are the .npy data already and go
// to the file as they are (a large b bypasses the write buffer): no conversion, no copy. For
// other dtypes each row is converted with WriteRow64's range check.
func (w *Writer) WriteUint32LE(b []byte) error {
	if w.err != nil {
		return w.err
	}
	rowBytes := 4 * max(w.cols, 1)
	if len(b)%rowBytes != 0 {
		return fmt.Errorf("%s: %d bytes are not whole rows of %d uint32 values", w.path, len(b), rowBytes/4)
	}
	if w.dtype != formats.Uint32 {
		row := make([]int64, rowBytes/4)
		for ; len(b) > 0; b = b[rowBytes:] {
			for i := range row {
				row[i] = int64(binary.LittleEndian.Uint32(b[4*i:]))
			}
			if err := writeRow(w, row); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if len(b) >= w.bw.Available() {
		if err = w.bw.Flush(); err == nil {
			_, err = w.out.Write(b)
		}
	} else {
		_, err = w.bw.Write(b)
	}
	if err != nil {
		w.err = fmt.Errorf("%s: %w", w.tmp, err)
		return w.err
	}
	if w.cols > 0 {
		w.n += int64(len(b) / rowBytes)
	} else {
		w.n += int64(len(b) / 4)
	}
	return nil
}

// appendElems appends row little-endian in dtype d; the values are known to fit.
func appendElems[T int32 | int64](b []byte, d formats.DType, row []T) []byte {
	switch d.Size() {
	case 8:
		for _, v := range row {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	case 4:
		for _, v := range row {
			b = binary.LittleEndian.AppendUint32(b, uint32(v))
		}
	default:
		for _, v := range row {
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		}
	}
	return b
}

// Close writes the final header, syncs and renames the file into place.
func (w *Writer) Close() error {
	if w.f == nil {
		return errors.New("npy: Writer closed twice")
	}
	err := w.err
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		err = w.out.Finish()
	}
	if err == nil {
		h := header(w.dtype, w.shape())
		if len(h) != w.hdrLen {
			err = fmt.Errorf("header length changed from %d to %d", w.hdrLen, len(h))
		} else {
			_, err = w.f.WriteAt(h, 0)
		}
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err == nil {
		err = atomicfile.Publish(w.tmp, w.path)
	}
	if err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("writing %s: %w", w.path, err)
	}
	return nil
}

// Abort discards the output.
func (w *Writer) Abort() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	os.Remove(w.tmp)
}
