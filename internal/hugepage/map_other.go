//go:build !linux

package hugepage

// Map returns Make's n bytes outside Linux, and a function that does nothing.
func Map(n int) ([]byte, func()) { return Make[byte](n), func() {} }
