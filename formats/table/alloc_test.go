package table

import (
	"testing"
	"unsafe"
)

func TestAllocator_Recycles(t *testing.T) {
	var a Allocator
	big := a.Allocate(1 << 20)
	for i := range big {
		big[i] = 0xAB
	}
	a.Free(big)
	again := a.Allocate(1<<20 - 100)
	if unsafe.SliceData(again) != unsafe.SliceData(big) {
		t.Fatal("a freed buffer of the right size was not recycled")
	}
	if len(again) != 1<<20-100 {
		t.Fatalf("recycled buffer has %d bytes, want %d", len(again), 1<<20-100)
	}
	for i, b := range again {
		if b != 0 {
			t.Fatalf("recycled buffer not cleared at byte %d", i)
		}
	}
	a.Free(again)
	if tiny := a.Allocate(minRecycled); unsafe.SliceData(tiny) == unsafe.SliceData(big) {
		t.Fatal("a buffer 16 times too large was handed out")
	}
	// Small buffers are left to the collector, and the list keeps the newest maxFree.
	a.Free(make([]byte, 100))
	for range 2 * maxFree {
		a.Free(make([]byte, minRecycled))
	}
	if len(a.free) != maxFree {
		t.Fatalf("%d free buffers kept, want %d", len(a.free), maxFree)
	}
	for _, b := range a.free {
		if cap(b) < minRecycled {
			t.Fatalf("a %d-byte buffer was kept", cap(b))
		}
	}
	// Reallocate keeps the contents and clears what it adds.
	r := a.Allocate(10)
	copy(r, "0123456789")
	r = a.Reallocate(5, r)
	r = a.Reallocate(8, r)
	if string(r) != "01234\x00\x00\x00" {
		t.Fatalf("Reallocate: %q", r)
	}
	r = a.Reallocate(minRecycled*2, r)
	if string(r[:8]) != "01234\x00\x00\x00" || len(r) != minRecycled*2 {
		t.Fatalf("Reallocate to a new buffer: %q... (%d bytes)", r[:8], len(r))
	}
}
