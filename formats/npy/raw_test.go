package npy

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
)

// WriteUint32LE writes the same file as WriteRow64 over the same rows, in small chunks (through
// the write buffer) and large ones (past it), and refuses values its dtype cannot hold.
func TestWriter_WriteUint32LE(t *testing.T) {
	const cols = 3
	var rows [][]int64
	var le []byte
	for i := range 200_000 { // 2.4 MB: more than the 1 MiB write buffer
		r := []int64{int64(i % 60000), int64(i * 7 % 50000), int64(i % 3)}
		rows = append(rows, r)
		for _, v := range r {
			le = binary.LittleEndian.AppendUint32(le, uint32(v))
		}
	}
	tests := []struct {
		name  string
		dtype formats.DType
		chunk int // bytes per WriteUint32LE call, whole rows
		err   string
		extra uint32 // a last row's first value
	}{
		{"uint32, row by row", formats.Uint32, 12, "", 0},
		{"uint32, large chunks", formats.Uint32, 12 * 100_000, "", 0},
		{"uint32, one write", formats.Uint32, len(le), "", 0},
		{"int64", formats.Int64, 12 * 1000, "", 0},
		{"uint16", formats.Uint16, 12 * 1000, "", 0},
		{"uint16 overflow", formats.Uint16, 12, "(row 200000 of", 70000},
		{"int32 overflow", formats.Int32, 12, "(row 200000 of", 1 << 31},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ref := filepath.Join(dir, "ref.npy")
			rw, err := Create(ref, tt.dtype, cols)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if err := rw.WriteRow64(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := rw.Close(); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "raw.npy")
			w, err := Create(p, tt.dtype, cols)
			if err != nil {
				t.Fatal(err)
			}
			data := le
			if tt.err != "" {
				data = binary.LittleEndian.AppendUint32(append([]byte(nil), le...), tt.extra)
				data = append(data, make([]byte, 8)...)
			}
			for b := data; len(b) > 0; b = b[min(tt.chunk, len(b)):] {
				if err = w.WriteUint32LE(b[:min(tt.chunk, len(b))]); err != nil {
					break
				}
			}
			if tt.err != "" {
				w.Abort()
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(ref)
			b, _ := os.ReadFile(p)
			if !bytes.Equal(a, b) {
				t.Fatalf("WriteUint32LE wrote %d bytes differing from WriteRow64's %d", len(b), len(a))
			}
		})
	}
	w, err := Create(filepath.Join(t.TempDir(), "x.npy"), formats.Uint32, cols)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := w.WriteUint32LE(make([]byte, 8)); err == nil {
		t.Fatal("a partial row was accepted")
	}
}
