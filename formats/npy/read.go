package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tokenmill/tokenmill/formats"
)

// Header is the parsed preamble of a NumPy .npy file (format 1.0, 2.0 or 3.0).
type Header struct {
	Version      [2]byte // major, minor
	Descr        string  // the dtype string as written, e.g. "<i8"
	FortranOrder bool
	Shape        []int64 // empty for a 0-d array
	DataOffset   int64   // where the raw data starts
}

// Elements is the product of the shape (1 for a 0-d array).
func (h Header) Elements() int64 {
	n := int64(1)
	for _, d := range h.Shape {
		n *= d
	}
	return n
}

// maxNpyHeader is NumPy's own limit on the header dict (numpy/lib/format.py
// _MAX_HEADER_SIZE); a longer one is refused rather than read into memory.
const maxNpyHeader = 10000

// ReadHeader reads the magic, version and header dict from r, checking the
// keys as np.load does: exactly descr, fortran_order and shape, shape a tuple
// of non-negative integers. Structured dtypes (a list as descr) are refused.
func ReadHeader(r io.Reader) (Header, error) {
	var h Header
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return h, fmt.Errorf("not a .npy file: %w", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return h, errors.New("not a .npy file (no \\x93NUMPY magic)")
	}
	h.Version = [2]byte{pre[6], pre[7]}
	var hlen int64
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, fmt.Errorf("truncated .npy header: %w", err)
		}
		hlen, h.DataOffset = int64(binary.LittleEndian.Uint16(b[:])), 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, fmt.Errorf("truncated .npy header: %w", err)
		}
		hlen, h.DataOffset = int64(binary.LittleEndian.Uint32(b[:])), 12
	default:
		return h, fmt.Errorf("unsupported .npy format version %d.%d", pre[6], pre[7])
	}
	if hlen > maxNpyHeader {
		return h, fmt.Errorf(".npy header of %d bytes is longer than NumPy's limit of %d", hlen, maxNpyHeader)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return h, fmt.Errorf("truncated .npy header: %w", err)
	}
	h.DataOffset += hlen
	if err := parseNpyDict(string(buf), &h); err != nil {
		return h, fmt.Errorf("bad .npy header %q: %w", strings.TrimSpace(string(buf)), err)
	}
	return h, nil
}

// parseNpyDict parses the Python dict literal of the header. It accepts what
// np.save writes and the small variations of hand-written headers (double
// quotes, no trailing comma, Python 2 "L" suffixes), nothing more.
func parseNpyDict(s string, h *Header) error {
	p := pyLit{s: s}
	if !p.eat('{') {
		return errors.New("not a dict")
	}
	seen := map[string]bool{}
	for !p.eat('}') {
		key, err := p.str()
		if err != nil {
			return err
		}
		if seen[key] {
			return fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		if !p.eat(':') {
			return fmt.Errorf("no ':' after %q", key)
		}
		switch key {
		case "descr":
			if h.Descr, err = p.str(); err != nil {
				return fmt.Errorf("descr: %w (structured dtypes are not supported)", err)
			}
		case "fortran_order":
			if h.FortranOrder, err = p.boolean(); err != nil {
				return err
			}
		case "shape":
			if h.Shape, err = p.tuple(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected key %q", key)
		}
		if !p.eat(',') {
			if !p.eat('}') {
				return errors.New("expected ',' or '}'")
			}
			break
		}
	}
	if len(seen) != 3 {
		return errors.New("want exactly the keys descr, fortran_order and shape")
	}
	if strings.TrimSpace(p.s[p.i:]) != "" {
		return errors.New("text after the dict")
	}
	return nil
}

// pyLit scans the few Python literals a .npy header holds.
type pyLit struct {
	s string
	i int
}

func (p *pyLit) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyLit) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyLit) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || p.s[p.i] != '\'' && p.s[p.i] != '"' {
		return "", errors.New("expected a string")
	}
	q := p.s[p.i]
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *pyLit) boolean() (bool, error) {
	p.skip()
	for _, w := range []string{"True", "False"} {
		if strings.HasPrefix(p.s[p.i:], w) {
			p.i += len(w)
			return w == "True", nil
		}
	}
	return false, errors.New("fortran_order: expected True or False")
}

func (p *pyLit) tuple() ([]int64, error) {
	if !p.eat('(') {
		return nil, errors.New("shape: expected a tuple")
	}
	shape := []int64{}
	for !p.eat(')') {
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("shape: expected a non-negative integer at %q", p.s[p.i:])
		}
		p.i = j
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		shape = append(shape, n)
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, errors.New("shape: expected ',' or ')'")
			}
			break
		}
	}
	return shape, nil
}

// npyDType maps a little-endian integer descr to the token element type.
func npyDType(descr string) (formats.DType, bool) {
	if len(descr) > 1 && descr[0] == '=' {
		descr = "<" + descr[1:] // native order: little-endian on every platform we build for
	}
	for d := formats.Int64; d <= formats.Uint16; d++ {
		if d.NumPyDescr() == descr {
			return d, true
		}
	}
	return 0, false
}

// Reader reads the rows of a .npy token array: a C-order array of int64,
// int32, uint32 or uint16 (the element types tokenmill writes). Row i of an
// array of shape (n, a, b, ...) is its a*b*... elements; a 1-D array has n
// rows of one element, so a flat token stream is read with Elements.
type Reader struct {
	path   string
	f      *os.File
	hdr    Header
	dtype  formats.DType
	rowLen int64
	buf    []byte
}

// Open opens a .npy file and checks that the file holds all the data its
// header announces (np.load fails on a shorter file; extra bytes are ignored,
// as np.load does). Errors name the file.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := newNpyReader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func newNpyReader(path string, f *os.File) (*Reader, error) {
	hdr, err := ReadHeader(bufio.NewReaderSize(f, 4096))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	d, ok := npyDType(hdr.Descr)
	if !ok {
		return nil, fmt.Errorf("%s: dtype %q is not a token type (want <i8, <i4, <u4 or <u2)", path, hdr.Descr)
	}
	if hdr.FortranOrder && len(hdr.Shape) > 1 {
		return nil, fmt.Errorf("%s: Fortran-order arrays are not supported", path)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := &Reader{path: path, f: f, hdr: hdr, dtype: d, rowLen: 1}
	for _, n := range hdr.Shape[min(1, len(hdr.Shape)):] {
		r.rowLen *= n
	}
	if want := hdr.DataOffset + hdr.Elements()*int64(d.Size()); fi.Size() < want {
		return nil, fmt.Errorf("%s: truncated: shape %v of %s needs %d bytes, the file has %d",
			path, hdr.Shape, hdr.Descr, want, fi.Size())
	}
	return r, nil
}

// Header returns the parsed header.
func (r *Reader) Header() Header { return r.hdr }

// DType returns the element type.
func (r *Reader) DType() formats.DType { return r.dtype }

// Rows returns shape[0] (1 for a 0-d array).
func (r *Reader) Rows() int64 {
	if len(r.hdr.Shape) == 0 {
		return 1
	}
	return r.hdr.Shape[0]
}

// RowLen returns the number of elements of one row.
func (r *Reader) RowLen() int64 { return r.rowLen }

// Row returns row i, appended to dst[:0].
func (r *Reader) Row(i int64, dst []int64) ([]int64, error) {
	if i < 0 || i >= r.Rows() {
		return dst[:0], fmt.Errorf("%s: row %d out of range [0, %d)", r.path, i, r.Rows())
	}
	return r.Elements(i*r.rowLen, r.rowLen, dst)
}

// Elements returns n elements starting at element start of the flattened
// array, appended to dst[:0].
func (r *Reader) Elements(start, n int64, dst []int64) ([]int64, error) {
	dst = dst[:0]
	if start < 0 || n < 0 || start+n > r.hdr.Elements() {
		return dst, fmt.Errorf("%s: elements [%d, %d) out of range [0, %d)", r.path, start, start+n, r.hdr.Elements())
	}
	size := int64(r.dtype.Size())
	if int64(cap(r.buf)) < n*size {
		r.buf = make([]byte, n*size)
	}
	b := r.buf[:n*size]
	if _, err := r.f.ReadAt(b, r.hdr.DataOffset+start*size); err != nil {
		return dst, fmt.Errorf("%s: %w", r.path, err)
	}
	for k := int64(0); k < n; k++ {
		e := b[k*size:]
		switch r.dtype {
		case formats.Int64:
			dst = append(dst, int64(binary.LittleEndian.Uint64(e)))
		case formats.Int32:
			dst = append(dst, int64(int32(binary.LittleEndian.Uint32(e))))
		case formats.Uint32:
			dst = append(dst, int64(binary.LittleEndian.Uint32(e)))
		case formats.Uint16:
			dst = append(dst, int64(binary.LittleEndian.Uint16(e)))
		}
	}
	return dst, nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }
