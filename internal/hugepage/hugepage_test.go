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
	// 6 MB of 24-byte slots, as the tokenizer's vocabulary table: not a whole number of
	// huge pages, and an element size that does not divide one.
	type slot struct {
		lo, hi uint64
		n, v   uint32
	}
	s := Make[slot](1 << 18)
	for i := 0; i < len(s); i += 4096 / 24 {
		s[i].n = 1
	}
	first := uintptr(unsafe.Pointer(&s[0]))
	if first%Size != 0 {
		t.Fatalf("the table starts at %#x, not on a huge-page boundary", first)
	}
	// The advice covers the whole table, first and last byte: a mapping of its own.
	for _, addr := range []uintptr{first, uintptr(unsafe.Pointer(&s[len(s)-1]))} {
		m, err := mappingOf(addr)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(" "+m["VmFlags"]+" ", " hg ") {
			t.Fatalf("the mapping of %#x has VmFlags %q, without hg (MADV_HUGEPAGE)", addr, m["VmFlags"])
		}
		t.Logf("AnonHugePages of the mapping of %#x: %s", addr, m["AnonHugePages"])
	}
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
