package tokenizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/tokenmill/tokenmill/internal/atomicfile"
)

// The load cache: building a tokenizer.json's model from its JSON (reading 130,000 to 200,000
// vocab entries and 280,000 to 450,000 merges, each merge three lookups by string) takes most of
// the load of a big file, every time a process starts. What that yields, the vocabulary by id
// and the merges as ids (hfVocab), is written once to the user's cache directory
// ($XDG_CACHE_HOME/tokenmill, else ~/.cache/tokenmill on Linux; os.UserCacheDir), in a file
// named by the SHA-256 of the tokenizer.json's bytes and the format's version, with the rest of
// the document (the JSON without its vocab and merges). A later load of the same bytes reads it
// instead and builds the model's tables from it, the same code as from the JSON (hfModel); the
// tables themselves are not cached, so their layout can change without touching this format,
// except a byte-level model's table of cuts (chunk.go), kept as the built-ins embed theirs (a
// cuts file, versioned by its own magic): a tokenizer from the cache then cuts from its first
// long non-ASCII piece without building the table (milliseconds, which a shard of a few hundred
// kilobytes of Chinese felt).
//
// A cache file is checked before use (magic, format version, the source's SHA-256, length and
// a CRC-32C of the payload) and its contents are bounds-checked as they are read; one that
// fails is ignored and rewritten. It is written to a temporary file and renamed into place
// (internal/atomicfile), so concurrent loads never see half a file. When the directory cannot
// be written, loading works as without a cache. A vocabulary whose ids have several spellings
// is not cached (the cache keeps one spelling per id). hfCacheVersion must change with the
// format or with what newHFVocab computes (the merges' ids, the document kept), never with the
// model's tables. Cache files are not removed: one per distinct tokenizer.json (8 MB for
// GPT-OSS's), plus the temporary file of a write that was killed.
//
// The format (little-endian):
//
//	magic    8 bytes, hfCacheMagic
//	version  uint32, hfCacheVersion; then 4 bytes of zeros
//	source   32 bytes: the SHA-256 of the tokenizer.json
//	length   uint64: the payload's length
//	crc      uint32: CRC-32C (Castagnoli) of the payload; then 4 bytes of zeros
//	payload  uint32 r, r bytes: the document without vocab and merges (both null)
//	         uint32 n, n uint32: the length of each token's spelling by id (0: unused id),
//	         then the spellings concatenated
//	         uint32 m, 3m uint32: per merge in rank order, the left, right and merged ids
//	         uint32 c, c bytes: the cuts file of the model's table of cuts (0: none)
//	         uint32 w, w uint64: the bitset of the tokens that merge back to themselves, by id
//	         (0: not known)
//	         uint32 o: hfVocab.ordered, whether the merges are tiktoken's rule in order (0: not
//	         known, 1: no, 2: yes)
const (
	hfCacheMagic   = "tmhfvoc\x00"
	hfCacheVersion = 3
	hfCacheHeader  = 64
)

// hfCache is a directory of load-cache files; a nil *hfCache caches nothing.
type hfCache struct {
	dir string
}

// userCache returns the cache in the user's cache directory, nil when there is none.
func userCache() *hfCache {
	d, err := os.UserCacheDir()
	if err != nil {
		return nil
	}
	return &hfCache{dir: filepath.Join(d, "tokenmill")}
}

func (c *hfCache) path(sum [32]byte) string {
	return filepath.Join(c.dir, fmt.Sprintf("hf-%x.v%d", sum, hfCacheVersion))
}

// get returns the cached document and vocabulary of the tokenizer.json whose SHA-256 is sum.
func (c *hfCache) get(sum [32]byte) (rest []byte, v *hfVocab, ok bool) {
	if c == nil {
		return nil, nil, false
	}
	path := c.path(sum)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, false
	}
	rest, v, err = decodeHFCache(data, sum)
	if err != nil {
		slog.Debug("tokenizer: load cache file ignored", "path", path, "err", err)
		return nil, nil, false
	}
	return rest, v, true
}

// put writes the cache file of the tokenizer.json whose SHA-256 is sum. Failing to is not an
// error of the load: it is logged at debug level.
func (c *hfCache) put(sum [32]byte, rest []byte, v *hfVocab) {
	if c == nil || !v.unique {
		return
	}
	if err := c.write(sum, encodeHFCache(sum, rest, v)); err != nil {
		slog.Debug("tokenizer: load cache not written", "dir", c.dir, "err", err)
	}
}

func (c *hfCache) write(sum [32]byte, data []byte) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(c.dir, ".hf-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	err = atomicfile.WriteFile(tmp, data)
	if err == nil {
		err = atomicfile.Publish(tmp, c.path(sum))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func encodeHFCache(sum [32]byte, rest []byte, v *hfVocab) []byte {
	size := hfCacheHeader + 4 + len(rest) + 4 + 4*len(v.spelled) + v.bytes() + 4 + 4*len(v.merges) + 4 + len(v.cuts) +
		4 + 8*len(v.selfMerges) + 4
	b := make([]byte, hfCacheHeader, size)
	copy(b, hfCacheMagic)
	binary.LittleEndian.PutUint32(b[8:], hfCacheVersion)
	copy(b[16:48], sum[:])
	b = binary.LittleEndian.AppendUint32(b, uint32(len(rest)))
	b = append(b, rest...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v.spelled)))
	for _, s := range v.spelled {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	}
	for _, s := range v.spelled {
		b = append(b, s...)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v.merges)/3))
	for _, x := range v.merges {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v.cuts)))
	b = append(b, v.cuts...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v.selfMerges)))
	for _, w := range v.selfMerges {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(v.ordered))
	payload := b[hfCacheHeader:]
	binary.LittleEndian.PutUint64(b[48:], uint64(len(payload)))
	binary.LittleEndian.PutUint32(b[56:], crc32Checksum(payload))
	return b
}

var errHFCache = errors.New("not a load cache file of this version for this tokenizer.json")

// decodeHFCache reads a cache file made by encodeHFCache for the tokenizer.json whose SHA-256
// is sum.
func decodeHFCache(data []byte, sum [32]byte) (rest []byte, v *hfVocab, err error) {
	if len(data) < hfCacheHeader || string(data[:8]) != hfCacheMagic ||
		binary.LittleEndian.Uint32(data[8:]) != hfCacheVersion || string(data[16:48]) != string(sum[:]) {
		return nil, nil, errHFCache
	}
	payload := data[hfCacheHeader:]
	if binary.LittleEndian.Uint64(data[48:]) != uint64(len(payload)) {
		return nil, nil, fmt.Errorf("%w: length %d, header says %d", errHFCache, len(payload), binary.LittleEndian.Uint64(data[48:]))
	}
	if crc32Checksum(payload) != binary.LittleEndian.Uint32(data[56:]) {
		return nil, nil, fmt.Errorf("%w: checksum mismatch", errHFCache)
	}
	r := cacheReader{b: payload}
	rest = r.bytes(int(r.u32()))
	n := int(r.u32())
	lengths := r.bytes(4 * n)
	total := 0
	for i := range n {
		total += int(binary.LittleEndian.Uint32(lengths[4*i:]))
	}
	text := r.bytes(total)
	m := int(r.u32())
	merges := r.bytes(12 * m)
	cuts := r.bytes(int(r.u32()))
	self := r.bytes(8 * int(r.u32()))
	ordered := r.u32()
	if r.bad || len(r.b) != 0 || len(self) != 0 && len(self) != 8*((n+63)/64) || ordered > orderedYes {
		return nil, nil, fmt.Errorf("%w: malformed payload", errHFCache)
	}
	all := string(text) // one copy; the spellings share it
	v = &hfVocab{spelled: make([]string, n), merges: make([]uint32, 3*m), unique: true, cuts: string(cuts),
		ordered: uint8(ordered)}
	if len(self) > 0 {
		v.selfMerges = make([]uint64, len(self)/8)
		for i := range v.selfMerges {
			v.selfMerges[i] = binary.LittleEndian.Uint64(self[8*i:])
		}
	}
	at := 0
	for i := range n {
		l := int(binary.LittleEndian.Uint32(lengths[4*i:]))
		v.spelled[i] = all[at : at+l]
		at += l
	}
	for i := range v.merges {
		x := binary.LittleEndian.Uint32(merges[4*i:])
		if int(x) >= n {
			return nil, nil, fmt.Errorf("%w: merge id %d out of range", errHFCache, x)
		}
		v.merges[i] = x
	}
	return rest, v, nil
}

// cacheReader reads a payload front to back; bad is set once a read runs past its end.
type cacheReader struct {
	b   []byte
	bad bool
}

func (r *cacheReader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) || r.bad {
		r.bad = true
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *cacheReader) u32() uint32 {
	b := r.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

// splitModelCached is splitModel, or the cache's document and vocabulary (*v) when it holds
// those of a file with raw's SHA-256 sum.
func splitModelCached(raw []byte, sum [32]byte, cache *hfCache, v **hfVocab) (rest, vocab, merges []byte, ok bool) {
	if rest, cv, ok := cache.get(sum); ok {
		*v = cv
		return rest, nil, nil, true
	}
	return splitModel(raw)
}

// crc32Checksum is the payload checksum of the cache format.
func crc32Checksum(b []byte) uint32 { return crc32.Checksum(b, crcTable) }
