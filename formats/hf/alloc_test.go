package hf

import (
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
)

// An HF writer's record batches reuse the buffers of the batches before them.
func TestHFWriter_RecyclesBatchBuffers(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "d"), Options{DType: formats.Int64, BatchRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	row := make([]int64, 512)
	for range 1000 {
		if err := w.WriteRow64(row); err != nil {
			t.Fatal(err)
		}
	}
	alloc := w.alloc
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Ten batches of 400 KiB of values: the first one's buffers serve all of them.
	if batch := int64(100 * 512 * 8); alloc.Fresh() > 2*batch {
		t.Fatalf("%d bytes allocated anew for ten batches of %d bytes", alloc.Fresh(), batch)
	}
}
