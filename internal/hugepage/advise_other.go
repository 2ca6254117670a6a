//go:build !linux

package hugepage

import "unsafe"

// Advise does nothing outside Linux.
func Advise(unsafe.Pointer, uintptr) {}
