package shard

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
)

// stagedFile writes one staged file, hashing and counting what it writes.
type stagedFile struct {
	root, name string // name is relative to root
	f          *os.File
	bw         *bufio.Writer
	sum        hash.Hash
	n          int64
	buf        []byte
}

func createStaged(root, name string) (*stagedFile, error) {
	f, err := os.Create(filepath.Join(root, name))
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	s := &stagedFile{root: root, name: name, f: f, sum: sha256.New()}
	s.bw = bufio.NewWriterSize(io.MultiWriter(f, s.sum), 256<<10)
	return s, nil
}

func (s *stagedFile) Write(p []byte) (int, error) {
	n, err := s.bw.Write(p)
	s.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("staging %s: %w", s.name, err)
	}
	return n, nil
}

// writeIDs writes ids as little-endian uint32.
func (s *stagedFile) writeIDs(ids []uint32) error {
	s.buf = s.buf[:0]
	for _, id := range ids {
		s.buf = binary.LittleEndian.AppendUint32(s.buf, id)
	}
	_, err := s.Write(s.buf)
	return err
}

// close flushes, syncs and closes the file and returns its reference.
func (s *stagedFile) close() (FileRef, error) {
	err := s.bw.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return FileRef{}, fmt.Errorf("staging %s: %w", s.name, err)
	}
	return FileRef{Name: s.name, Bytes: s.n, SHA256: hex.EncodeToString(s.sum.Sum(nil))}, nil
}

func (s *stagedFile) abort() { s.f.Close() }

// openStaged opens a staged file for reading and checks its size against ref; the caller
// checks the hash with verifyingReader.
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

// hashingReader hashes what is read through it, so finalize can check a staged file's
// SHA-256 while streaming it.
type hashingReader struct {
	r   io.Reader
	sum hash.Hash
}

func newHashingReader(r io.Reader) *hashingReader {
	return &hashingReader{r: r, sum: sha256.New()}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.sum.Write(p[:n])
	return n, err
}

func (h *hashingReader) check(ref FileRef) error {
	if got := hex.EncodeToString(h.sum.Sum(nil)); got != ref.SHA256 {
		return fmt.Errorf("staging: %s has sha256 %s, the shard result says %s", ref.Name, got, ref.SHA256)
	}
	return nil
}
