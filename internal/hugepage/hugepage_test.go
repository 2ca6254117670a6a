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

// On Linux with transparent huge pages available (madvise or always), the aligned part of a
// large table made by Make carries the advice (VmFlags "hg" in /proc/self/smaps). Whether the
// kernel then finds free huge pages is its business; the test logs how much it did.
func TestMake_AdvisesHugePages(t *testing.T) {
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
	m, err := mappingOf(inside)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(" "+m["VmFlags"]+" ", " hg ") {
		t.Fatalf("the table's mapping has VmFlags %q, without hg (MADV_HUGEPAGE)", m["VmFlags"])
	}
	t.Logf("AnonHugePages of the mapping: %s", m["AnonHugePages"])
	runtime.KeepAlive(s)
}

// mappingOf returns the fields of the /proc/self/smaps entry of the mapping that holds addr.
func mappingOf(addr uintptr) (map[string]string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var m map[string]string
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) >= 5 && strings.Contains(f[0], "-") {
			var lo, hi uintptr
			if _, err := fmt.Sscanf(f[0], "%x-%x", &lo, &hi); err == nil {
				if m != nil {
					return m, nil
				}
				if lo <= addr && addr < hi {
					m = map[string]string{}
				}
				continue
			}
		}
		if k, v, ok := strings.Cut(line, ":"); ok && m != nil {
			m[k] = strings.TrimSpace(v)
		}
	}
	if m != nil {
		return m, nil
	}
	return nil, fmt.Errorf("no mapping holds %#x", addr)
}
