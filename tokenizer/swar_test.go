package tokenizer

import (
	"encoding/binary"
	"testing"
)

// TestNonLetters checks the word-at-a-time letter test against the byte-wise definition, for
// every byte value in every position next to every kind of neighbour.
func TestNonLetters(t *testing.T) {
	isLetter := func(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }
	var w [8]byte
	for _, fill := range []byte{'a', 'Z', 0x00, 0xFF, '@', '[', '`', '{', 0x80, 0xDA} {
		for pos := range 8 {
			for v := range 256 {
				for k := range w {
					w[k] = fill
				}
				w[pos] = byte(v)
				got := nonLetters(binary.LittleEndian.Uint64(w[:]))
				for k := range w {
					want := !isLetter(w[k])
					if (got>>(8*k+7))&1 == 1 != want || (got>>(8*k))&0x7F != 0 {
						t.Fatalf("nonLetters(% x): byte %d is %#x", w, k, got)
					}
				}
			}
		}
	}
}
