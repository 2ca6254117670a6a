package shard

import (
	"bufio"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// Staged files are checked with a CRC-32C (Castagnoli, hardware accelerated), computed once
// while a shard writes them and verified once while finalize reads them back. It catches what
// can go wrong between the two (a file cut short by a crash, a disk error, an attempt's
// directory confused with another's) at a small fraction of SHA-256's cost; the staged bytes
// are private to the job, so a checksum against accidents is what they need, not a digest
// against forgery.
//
// Staged files are not fsynced either: staging is re-creatable. A crash before finalize
// re-runs the shard, and a staged file that lost bytes in a crash is refused by finalize's
// size or checksum check instead of being published. Durability is paid once, when finalize
// syncs the outputs it publishes.

// crc32c extends crc with p. MakeTable returns the package's one Castagnoli table, which
// crc32.Update recognises to use the CPU's CRC32 instructions.
func crc32c(crc uint32, p []byte) uint32 {
	return crc32.Update(crc, crc32.MakeTable(crc32.Castagnoli), p)
}

// stagedFile writes one staged file, checksumming and counting what it writes. A row stream
// started by stageRows is held in a MemStage's chunks (inMem, f nil) until the MemStage has no
// chunk left for it; it then moves to its file.
type stagedFile struct {
	root, name string // name is relative to root
	f          *os.File
	bw         *bufio.Writer
	crc        uint32
	n          int64
	mem        *MemStage
	chunks     [][]byte // the stream's bytes while inMem: full chunks, then the last
	inMem      bool
}

// Write buffer sizes of the staged files: rows come in megabytes, rejects seldom.
const (
	rowsBuffer    = 256 << 10
	rejectsBuffer = 16 << 10
)

// createStaged creates the staged file root/name, and its directory, written through a
// buffer of size bytes.
func createStaged(root, name string, size int) (*stagedFile, error) {
	path := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	return &stagedFile{root: root, name: name, f: f, bw: bufio.NewWriterSize(f, size)}, nil
}

// stageRows starts the row stream root/name: in mem's chunks while mem has one for it, else in
// its file (see createStaged). A nil mem stages on disk.
func stageRows(root, name string, mem *MemStage) (*stagedFile, error) {
	if c := mem.take(); c != nil {
		return &stagedFile{root: root, name: name, mem: mem, chunks: [][]byte{c}, inMem: true}, nil
	}
	f, err := createStaged(root, name, rowsBuffer)
	if f != nil {
		f.mem = mem // counted as spilled when closed
	}
	return f, err
}

// toFile moves a stream held in memory to its file: the bytes it holds are written (and
// checksummed) first, and its chunks go back to the MemStage.
func (s *stagedFile) toFile() error {
	f, err := createStaged(s.root, s.name, rowsBuffer)
	if err != nil {
		return err
	}
	for _, c := range s.chunks {
		if _, err := f.Write(c); err != nil {
			f.abort()
			return err
		}
	}
	s.mem.drop(s.chunks)
	s.chunks, s.inMem = nil, false
	s.f, s.bw, s.crc = f.f, f.bw, f.crc
	return nil
}

func (s *stagedFile) Write(p []byte) (int, error) {
	s.crc = crc32c(s.crc, p)
	n, err := s.bw.Write(p)
	s.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("staging %s: %w", s.name, err)
	}
	return n, nil
}

// writeIDs writes ids as little-endian uint32, encoding them straight into the write buffer
// (a buffer's worth at a time: a long document allocates nothing), or into its chunks while
// it is held in memory.
func (s *stagedFile) writeIDs(ids []uint32) error {
	for s.inMem && len(ids) > 0 {
		c := s.chunks[len(s.chunks)-1]
		if len(c) == cap(c) {
			if c = s.mem.take(); c == nil {
				if err := s.toFile(); err != nil {
					return err
				}
				break
			}
			s.chunks = append(s.chunks, c)
		}
		n := min(len(ids), (cap(c)-len(c))/4)
		s.chunks[len(s.chunks)-1] = appendUint32LE(c, ids[:n])
		s.n += 4 * int64(n)
		ids = ids[n:]
	}
	for len(ids) > 0 {
		if s.bw.Available() < 4 {
			if err := s.bw.Flush(); err != nil {
				return fmt.Errorf("staging %s: %w", s.name, err)
			}
		}
		n := min(len(ids), s.bw.Available()/4)
		if _, err := s.Write(appendUint32LE(s.bw.AvailableBuffer(), ids[:n])); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// close flushes and closes the file (without syncing: see above) and returns its reference.
// A stream held in memory has no file and no CRC-32C; keep hands it to its MemStage.
func (s *stagedFile) close() (FileRef, error) {
	if s.inMem {
		return FileRef{Name: s.name, Bytes: s.n}, nil
	}
	if s.mem != nil {
		s.mem.spill(s.n)
	}
	err := s.bw.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileRef{}, fmt.Errorf("staging %s: %w", s.name, err)
	}
	return FileRef{Name: s.name, Bytes: s.n, CRC32C: s.crc}, nil
}

// rows hands the first n rows of length ids of a stream held in memory to fn, in order, as
// little-endian bytes: where they lie, or through a buffer for a row cut by the end of a chunk.
func (s *stagedFile) rows(length int, n int64, fn func(row []byte)) error {
	rowBytes := int64(4 * length)
	if !s.inMem || n*rowBytes > s.n {
		return fmt.Errorf("staging %s: %d rows of %d ids are not in memory", s.name, n, length)
	}
	size := int64(cap(s.chunks[0])) // every chunk's
	var buf []byte
	for off := int64(0); off < n*rowBytes; off += rowBytes {
		c, at := s.chunks[off/size], off%size
		if at+rowBytes <= size {
			fn(c[at : at+rowBytes])
			continue
		}
		buf = buf[:0]
		for rest, o := rowBytes, off; rest > 0; {
			c, at := s.chunks[o/size], o%size
			k := min(rest, size-at)
			buf = append(buf, c[at:at+k]...)
			rest, o = rest-k, o+k
		}
		fn(buf)
	}
	return nil
}

// keep hands a closed stream held in memory to its MemStage, where the Assembler finds it by
// name; it does nothing for a stream in its file.
func (s *stagedFile) keep() {
	if s.inMem {
		if s.n == 0 {
			s.mem.drop(s.chunks)
			s.chunks = nil
		}
		s.mem.keep(s.name, s.chunks, s.n)
		s.chunks, s.inMem = nil, false
	}
}

// abort closes the file, or gives the chunks of a stream held in memory back.
func (s *stagedFile) abort() {
	if s.inMem {
		s.mem.drop(s.chunks)
		s.chunks, s.inMem = nil, false
		return
	}
	s.f.Close()
}

// openStaged opens a staged file for reading and checks its size against ref; the caller
// checks the checksum with a checkingReader.
func openStaged(root string, ref FileRef) (*os.File, error) {
	f, err := os.Open(filepath.Join(root, ref.Name))
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != ref.Bytes {
		err = fmt.Errorf("staging: %s holds %d bytes, the shard result says %d", ref.Name, fi.Size(), ref.Bytes)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkingReader computes the CRC-32C of what is read through it, so finalize can check a
// staged file while streaming it.
type checkingReader struct {
	r   io.Reader
	crc uint32
}

func newCheckingReader(r io.Reader) *checkingReader { return &checkingReader{r: r} }

func (c *checkingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc = crc32c(c.crc, p[:n])
	return n, err
}

func (c *checkingReader) check(ref FileRef) error {
	if c.crc != ref.CRC32C {
		return fmt.Errorf("staging: %s has CRC-32C %08x, the shard result says %08x", ref.Name, c.crc, ref.CRC32C)
	}
	return nil
}
