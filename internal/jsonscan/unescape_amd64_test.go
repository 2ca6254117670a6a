package jsonscan

import (
	"math/bits"
	"testing"
)

// The AVX2 kernel's tables: the hash tells the one-letter escapes apart and no other byte
// passes the key test; each compress mask packs exactly the bytes of its bit mask.
func TestUnescapeAVX2Tables(t *testing.T) {
	for c := range 256 {
		h := unescapeHash(byte(c))
		isKey := unescapeHashKey[h] == byte(c)
		if want := unescapeByte[c] != 0; isKey != want {
			t.Errorf("byte %#x: key test %v, want %v", c, isKey, want)
		}
		if isKey && unescapeHashVal[h] != unescapeByte[c] {
			t.Errorf("byte %#x: value %#x, want %#x", c, unescapeHashVal[h], unescapeByte[c])
		}
		// The kernel computes the hash with 16-bit shifts, which spill the neighbouring
		// byte's bits into the high bits of this one: the low four bits must not see them.
		for _, next := range []int{0, 0x5c, 0xff} {
			w := uint16(next)<<8 | uint16(c)
			if got := byte((w>>2+w>>4)&0xff) & 0xf; got != h {
				t.Errorf("byte %#x next to %#x: hash %d, want %d", c, next, got, h)
			}
		}
	}
	for half := range 2 {
		for m := range 256 {
			var src [16]byte
			for k := range src {
				src[k] = byte(100 + k)
			}
			mask := unescapeCompress[half*256+m]
			var got []byte
			for _, idx := range mask {
				if idx&0x80 == 0 {
					got = append(got, src[idx&0xf])
				}
			}
			var want []byte
			for k := range 8 {
				if m>>k&1 == 1 {
					want = append(want, src[8*half+k])
				}
			}
			if string(got) != string(want) || len(want) != bits.OnesCount8(uint8(m)) {
				t.Fatalf("half %d mask %08b: packs %v, want %v", half, m, got, want)
			}
		}
	}
}
