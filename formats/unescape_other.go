//go:build !amd64

package formats

// hasUnescapeBlocks is false: unescapeBlocks is amd64 assembly.
const hasUnescapeBlocks = false

// unescapeBlocks decodes nothing here: strDecode's scalar loop does it all.
func unescapeBlocks(dst, src []byte) (nsrc, ndst int) { return 0, 0 }
