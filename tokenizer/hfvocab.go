package tokenizer

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// hfVocab is the vocabulary and the merges of a tokenizer.json's BPE model by id: what its
// JSON costs most to turn into, and what the load cache keeps (hfcache.go). The model's tables
// are built from it in either case (hfModel).
type hfVocab struct {
	spelled []string          // id -> token as spelled in the file; "" for an unused id
	merges  []uint32          // per merge, in rank order: left id, right id, merged id
	byID    map[string]uint32 // spelling -> id as the file's vocab gives it; nil from the cache
	// unique: every id has one spelling and no spelling is empty, so spelled is the whole
	// vocab. Only such a vocabulary is cached.
	unique bool
	// cuts is the model's table of cuts as a cuts file (encodeCuts), for a byte-level model
	// that splits long pieces; "" when it has none or it is not known yet.
	cuts string
	// selfMerges is the bitset of splitter.selfMerges for a model that verifies its chunks
	// (ignore_merges); nil when it has none or it is not known yet.
	selfMerges []uint64
	// ordered tells whether the merges are tiktoken's rule in order (mergesOrdered), for a
	// byte-level model: orderedUnknown until it has been worked out.
	ordered uint8
}

// The values of hfVocab.ordered.
const (
	orderedUnknown = iota
	orderedNo
	orderedYes
)

// newHFVocab converts the parsed vocab and merges of a tokenizer.json.
func newHFVocab(mf *hfModelFields) (*hfVocab, error) {
	n := 0
	for _, id := range mf.Vocab {
		n = max(n, int(id)+1)
	}
	v := &hfVocab{spelled: make([]string, n), byID: mf.Vocab, unique: true}
	for s, id := range mf.Vocab {
		if v.spelled[id] != "" || s == "" {
			v.unique = false
		}
		v.spelled[id] = s
	}
	merges, err := parseMerges(mf.Merges)
	if err != nil {
		return nil, err
	}
	v.merges = make([]uint32, 0, 3*len(merges))
	prefix := ""
	if mf.ContinuingSubwordPrefix != nil {
		prefix = *mf.ContinuingSubwordPrefix
	}
	var join []byte
	for rank, mg := range merges {
		a, ok := mf.Vocab[mg[0]]
		if !ok {
			return nil, fmt.Errorf("model: merge %d: %q is not in the vocab", rank, mg[0])
		}
		b, ok := mf.Vocab[mg[1]]
		if !ok {
			return nil, fmt.Errorf("model: merge %d: %q is not in the vocab", rank, mg[1])
		}
		right := mg[1]
		if len(prefix) <= len(right) {
			right = right[len(prefix):]
		}
		join = append(append(join[:0], mg[0]...), right...)
		joined, ok := mf.Vocab[string(join)] // no string is made for the lookup
		if !ok {
			return nil, fmt.Errorf("model: merge %d: %q is not in the vocab", rank, join)
		}
		v.merges = append(v.merges, a, b, joined)
	}
	return v, nil
}

// id returns the id of the token spelled s. Without the file's map (a cached vocabulary) it
// searches spelled: it serves the few lookups of a load (the unknown token, the
// post-processor's tokens), not encoding.
func (v *hfVocab) id(s string) (uint32, bool) {
	if v.byID != nil {
		id, ok := v.byID[s]
		return id, ok
	}
	for id, t := range v.spelled {
		if t == s && s != "" {
			return uint32(id), true
		}
	}
	return 0, false
}

// byteTokens returns the ids of the byte-fallback tokens <0x00> to <0xFF>, -1 where absent.
func (v *hfVocab) byteTokens() (ids [256]int64) {
	for b := range ids {
		ids[b] = -1
	}
	if !v.unique {
		for b := range ids {
			if id, ok := v.byID[fmt.Sprintf("<0x%02X>", b)]; ok {
				ids[b] = int64(id)
			}
		}
		return ids
	}
	// One pass over the tokens instead of 256 lookups (a cached vocabulary has no map): with
	// one spelling per id, the token spelled <0xHH> is the one the map would give.
	for id, s := range v.spelled {
		if len(s) != 6 || !strings.HasPrefix(s, "<0x") || s[5] != '>' {
			continue
		}
		hi, ok1 := upperHex(s[3])
		lo, ok2 := upperHex(s[4])
		if ok1 && ok2 {
			ids[hi<<4|lo] = int64(id)
		}
	}
	return ids
}

// byteLevelIDs returns the ids of the tokens spelled as one rune of the byte-level alphabet:
// the single bytes a byte-level model's pieces start from.
func (v *hfVocab) byteLevelIDs() (ids [256]uint32, has [256]bool) {
	enc := byteLevelAlphabet()
	if !v.unique {
		for b, r := range enc {
			ids[b], has[b] = v.byID[string(r)]
		}
		return ids, has
	}
	dec := newByteLevelTable()
	for id, s := range v.spelled {
		if len(s) == 0 || len(s) > 2 {
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		if n == len(s) && r < 512 && dec[r] >= 0 {
			ids[dec[r]], has[dec[r]] = uint32(id), true
		}
	}
	return ids, has
}

// upperHex is the value of a hexadecimal digit as %02X writes it (0-9, A-F).
func upperHex(c byte) (int, bool) {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0'), true
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10, true
	}
	return 0, false
}

// bytes is the length of the tokens' spellings together.
func (v *hfVocab) bytes() int {
	n := 0
	for _, s := range v.spelled {
		n += len(s)
	}
	return n
}

// byteLevelTable inverts byteLevelAlphabet for the conversion of a whole vocabulary: the
// alphabet's runes are all below 512, so a rune's byte is an array lookup (-1: not in it).
type byteLevelTable *[512]int16

func newByteLevelTable() byteLevelTable {
	t := new([512]int16)
	for i := range t {
		t[i] = -1
	}
	for b, r := range byteLevelAlphabet() {
		t[r] = int16(b)
	}
	return t
}

// appendBytesLevel appends the raw bytes of a token spelled in the byte-level alphabet to dst;
// ok is false (and dst unchanged in length) when s holds a rune outside the alphabet.
func appendByteLevel(t byteLevelTable, dst []byte, s string) ([]byte, bool) {
	start := len(dst)
	for _, r := range s {
		if r >= 512 || t[r] < 0 {
			return dst[:start], false
		}
		dst = append(dst, byte(t[r]))
	}
	return dst, true
}
