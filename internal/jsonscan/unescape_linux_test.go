package jsonscan

import (
	"strings"
	"syscall"
	"testing"
)

// pageEnd returns a page of memory followed by an inaccessible one: a slice that ends where
// the page does faults if anything reads or writes past its end.
func pageEnd(t *testing.T) []byte {
	t.Helper()
	ps := syscall.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, 2*ps, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[ps:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	return mem[:ps:ps]
}

// The kernel and strDecode read nothing past the slice (a line can end at a page's end) and
// the kernel writes nothing past dst when dst is exactly as long as src.
func TestUnescapeBlocks_NoOverread(t *testing.T) {
	page, out := pageEnd(t), pageEnd(t)
	text := strings.Repeat(`ab\n\"c\\`, 40)
	for n := range 300 {
		src := page[len(page)-n:]
		copy(src, text)
		dst := out[len(out)-n:]
		for _, k := range unescapeKernels() {
			checkKernel(t, k, dst, src)
		}
		for _, end := range []string{"", `"`, `\`, `\u00e9`} {
			if n < 2+len(end) {
				continue
			}
			b := page[len(page)-n:]
			copy(b, `"\n`+text)
			copy(b[n-len(end):], end)
			checkStrDecode(t, b, 0, "")
		}
	}
}
