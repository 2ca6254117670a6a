package formats

import "golang.org/x/sys/cpu"

// hasUnescapeBlocks reports whether unescapeBlocks runs on this CPU: it needs AVX-512 with
// VBMI (VPERMI2B) and VBMI2 (VPCOMPRESSB), plus BMI1 (ANDN) and POPCNT. Set once from the
// CPU's flags, read-only after.
var hasUnescapeBlocks = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
	cpu.X86.HasAVX512VBMI && cpu.X86.HasAVX512VBMI2 && cpu.X86.HasBMI1 && cpu.X86.HasPOPCNT

// unescapeBlocks decodes the contents of a JSON string 64 bytes at a time, for strDecode's
// loop: the JSON Lines corpora of source code it reads have an escape (\n, \t, \", \\) every
// dozen bytes, and the scalar loop pays a mispredicted branch for each; a block of 64 bytes
// costs the same whatever its escapes.
//
// src must start inside a string's contents at a byte that is not the escaped character of
// an escape (after an escape, say). It decodes whole blocks of src while 64 bytes remain,
// never loading a byte at or past len(src): the line may end at the end of a mapped page.
// It stops early, before the byte, at the string's closing quote, at a control character
// and at the backslash of any escape other than the one-letter ones (\u, invalid ones),
// leaving those to the scalar code with its messages and offsets. It returns the bytes
// of src consumed and of dst written; consumed bytes never end inside an escape.
//
// Each block's decoded bytes are stored as one 64-byte store at dst[ndst:], so dst must be
// at least as long as src (it returns 0, 0 otherwise): decoding never lengthens the text, so
// a store at an output offset no further than the input one stays within dst.
//
//go:noescape
func unescapeBlocks(dst, src []byte) (nsrc, ndst int)
