//go:build !amd64

package jsonscan

// unescapeKernels is empty: the kernels are amd64 assembly, and strDecode's scalar loop
// does it all here.
func unescapeKernels() []namedKernel { return nil }
