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

// stagedFile writes one staged file, checksumming and counting what it writes.
type stagedFile struct {
	root, name string // name is relative to root
	f          *os.File
	bw         *bufio.Writer
	crc        uint32
	n          int64
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
// (a buffer's worth at a time: a long document allocates nothing).
func (s *stagedFile) writeIDs(ids []uint32) error {
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
func (s *stagedFile) close() (FileRef, error) {
	err := s.bw.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileRef{}, fmt.Errorf("staging %s: %w", s.name, err)
	}
	return FileRef{Name: s.name, Bytes: s.n, CRC32C: s.crc}, nil
}

func (s *stagedFile) abort() { s.f.Close() }

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
