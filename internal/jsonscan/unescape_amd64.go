package jsonscan

import (
	"math/bits"

	"golang.org/x/sys/cpu"
)

// The CPU features each kernel needs, read once from the CPU's flags.
var (
	// AVX-512 with VBMI (VPERMI2B) and VBMI2 (VPCOMPRESSB), plus BMI1 (ANDN) and POPCNT.
	hasUnescapeAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
		cpu.X86.HasAVX512VBMI && cpu.X86.HasAVX512VBMI2 && cpu.X86.HasBMI1 && cpu.X86.HasPOPCNT
	// AVX2, BMI1 (ANDN, TZCNT) and POPCNT: most x86 servers of the last ten years, among
	// them those without AVX-512 (AMD before Zen 4, many cloud instances).
	hasUnescapeAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasBMI1 && cpu.X86.HasPOPCNT
)

// unescapeKernels lists the kernels this CPU runs, fastest first.
func unescapeKernels() []namedKernel {
	var ks []namedKernel
	if hasUnescapeAVX512 {
		ks = append(ks, namedKernel{"avx512", unescapeBlocksAVX512})
	}
	if hasUnescapeAVX2 {
		ks = append(ks, namedKernel{"avx2", unescapeBlocksAVX2})
	}
	return ks
}

// unescapeBlocksAVX512 is an unescapeKernel for AVX-512 VBMI2: VPERMI2B over unescapeByte for
// the escaped characters and VPCOMPRESSB to drop the escapers, one 64-byte store per block.
//
//go:noescape
func unescapeBlocksAVX512(dst, src []byte) (nsrc, ndst int)

// unescapeBlocksAVX2 is an unescapeKernel for AVX2. With no byte permute across 128 bits and
// no compress, it looks the escaped characters up by a 4-bit hash (unescapeHash) with
// VPSHUFB, and drops the escapers eight bytes at a time with VPSHUFB masks from
// unescapeCompress.
//
//go:noescape
func unescapeBlocksAVX2(dst, src []byte) (nsrc, ndst int)

// unescapeHash maps each character that may follow a backslash in a one-letter escape
// (" \ / b f n r t) to its own 4-bit value, computable with two word shifts, an add and a
// mask (the shifts' spill from the neighbouring byte lands above bit 3, where the mask drops
// it). Found by search; unescapeHashTables checks it.
func unescapeHash(c byte) byte { return (c>>2 + c>>4) & 0xf }

// unescapeHashKey[h] is the one escape character that hashes to h (a character that does
// not, for the unused slots); unescapeHashVal[h] is what it stands for. A byte c after a
// backslash is a one-letter escape iff unescapeHashKey[unescapeHash(c)] == c, which no byte
// of 0x80 or above passes. Read by the AVX2 kernel.
var unescapeHashKey, unescapeHashVal = unescapeHashTables()

func unescapeHashTables() (key, val [16]byte) {
	var used [16]bool
	for c := range 256 {
		v := unescapeByte[c]
		if v == 0 {
			continue
		}
		h := unescapeHash(byte(c))
		if used[h] {
			panic("jsonscan: unescapeHash collides")
		}
		used[h] = true
		key[h], val[h] = byte(c), v
	}
	for h := range key {
		if !used[h] {
			key[h] = '"' // hashes elsewhere, so no byte that hashes to h matches it
		}
	}
	return key, val
}

// unescapeCompress[m] (m < 256) is the VPSHUFB mask that packs the bytes of an 8-byte group
// whose bits are set in m to the group's front; unescapeCompress[256+m] is the same for the
// group in the upper half of a 16-byte register (indices plus 8). Unused lanes are 0x80,
// which VPSHUFB turns into zeros. Read by the AVX2 kernel.
var unescapeCompress = unescapeCompressTable()

func unescapeCompressTable() (t [512][8]byte) {
	for m := range 256 {
		for half := range 2 {
			e := &t[half*256+m]
			for k := range e {
				e[k] = 0x80
			}
			k := 0
			for mm := uint8(m); mm != 0; mm &= mm - 1 {
				e[k] = byte(bits.TrailingZeros8(mm) + 8*half)
				k++
			}
		}
	}
	return t
}
