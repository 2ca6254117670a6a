package hugepage

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

func TestMake_ZeroedAndSized(t *testing.T) {
	for _, n := range []int{0, 1, 1000, MinBytes/8 - 1, MinBytes / 8, 3 * MinBytes / 8} {
		s := Make[uint64](n)
		if len(s) != n || cap(s) != n {
			t.Fatalf("Make(%d): len %d cap %d", n, len(s), cap(s))
		}
		for i, v := range s {
			if v != 0 {
				t.Fatalf("Make(%d)[%d] = %d", n, i, v)
			}
		}
	}
}

// On Linux with transparent huge pages available (madvise or always), a large table made by
// Make is backed by huge pages once written.
func TestMake_UsesHugePages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("huge pages are advised on Linux only")
	}
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skipf("transparent huge pages are off on this machine (%q, %v)", strings.TrimSpace(string(mode)), err)
	}
	s := Make[byte](16 << 20)
	for i := 0; i < len(s); i += 4096 {
		s[i] = 1
	}
	// The advice covers the whole 2 MiB pages inside the table: a mapping of its own.
	inside := (uintptr(unsafe.Pointer(&s[0])) + 2<<20 - 1) &^ (2<<20 - 1)
	kb, err := anonHugeKB(inside)
	if err != nil {
		t.Fatal(err)
	}
	// At least the aligned 14 MB inside the 16 MB; the kernel may fall back to small pages
	// when it has no free huge page, which a machine with free memory does not do.
	if kb < 14<<10 {
		t.Fatalf("the 16 MB table has %d kB on huge pages, want at least 14336", kb)
	}
	runtime.KeepAlive(s)
}

// anonHugeKB returns AnonHugePages of the mapping of /proc/self/smaps that holds addr.
func anonHugeKB(addr uintptr) (int, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) >= 5 && strings.Contains(f[0], "-") {
			var lo, hi uintptr
			if _, err := fmt.Sscanf(f[0], "%x-%x", &lo, &hi); err == nil {
				in = lo <= addr && addr < hi
				continue
			}
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			var kb int
			fmt.Sscanf(strings.TrimPrefix(line, "AnonHugePages:"), "%d", &kb)
			return kb, nil
		}
	}
	return 0, fmt.Errorf("no mapping holds %#x", addr)
}
