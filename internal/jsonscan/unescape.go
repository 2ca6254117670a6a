package jsonscan

// unescapeKernel decodes the contents of a JSON string 64 bytes at a time, for strDecode's
// loop: the JSON Lines corpora of source code it reads have an escape (\n, \t, \", \\) every
// dozen bytes, and the scalar loop pays a mispredicted branch for each; a block of 64 bytes
// costs the same whatever its escapes. The kernels are amd64 assembly (unescape_amd64.s),
// one per instruction set, all bound by this contract, which the tests check each of them
// against (unescapeBlocksModel):
//
// src must start inside a string's contents at a byte that is not the escaped character of
// an escape (after an escape, say). A kernel decodes whole blocks of src while 64 bytes
// remain, never loading a byte at or past len(src): the line may end at the end of a mapped
// page. It stops early, before the byte, at the string's closing quote, at a control
// character and at the backslash of any escape other than the one-letter ones (\u, invalid
// ones), leaving those to the scalar code with its messages and offsets. It returns the
// bytes of src consumed and of dst written; consumed bytes never end inside an escape.
//
// A kernel may store anywhere in dst up to the input offset of the block it decodes plus 64
// bytes, so dst must be at least as long as src (it returns 0, 0 otherwise): decoding never
// lengthens the text, so such a store stays within dst.
type unescapeKernel func(dst, src []byte) (nsrc, ndst int)

// namedKernel is an unescapeKernel with its name, for tests and benchmarks.
type namedKernel struct {
	name string
	fn   unescapeKernel
}

// unescapeBlocks is the fastest kernel this CPU runs, nil if none (strDecode's scalar loop
// then does it all). Set once from the CPU's flags, read-only after.
var unescapeBlocks = fastestKernel()

func fastestKernel() unescapeKernel {
	if ks := unescapeKernels(); len(ks) > 0 {
		return ks[0].fn
	}
	return nil
}
