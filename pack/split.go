package pack

import (
	"crypto/sha256"
	"encoding/binary"
)

// IsVal reports whether a document goes to the validation split. It hashes the seed (8 bytes,
// little-endian) followed by the document's bytes with SHA-256, reads the first 8 bytes of the
// digest as a big-endian integer u and returns true iff u/2^64 < valFraction, computed exactly
// on the top 53 bits. So: valFraction 0 never, 1 always; the decision depends on nothing but
// the bytes and the seed (stable across processes, machines, versions and shard plans), equal
// documents always land in the same split (no exact-duplicate leaks from train to validation),
// and changing the seed reshuffles the split.
//
// Callers should pass the document text as extracted from its record (the bytes that get
// tokenized), so the same text read from JSONL or Parquet is split the same way.
//
// SHA-256 (not hash/maphash, which is seeded per process, nor FNV, whose top bits mix poorly on
// short inputs) costs about a nanosecond per byte, small next to tokenization.
func IsVal(docBytes []byte, seed uint64, valFraction float64) bool {
	if !(valFraction > 0) { // also NaN
		return false
	}
	if valFraction >= 1 {
		return true
	}
	h := sha256.New()
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	h.Write(s[:])
	h.Write(docBytes)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	u := binary.BigEndian.Uint64(sum[:8]) >> 11
	return float64(u) < valFraction*(1<<53)
}
