package npy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// TestNpyWriter_MatchesNumPy rewrites the np.save fixtures and compares
// every byte.
func TestWriter_MatchesNumPy(t *testing.T) {
	tests := []struct {
		file  string
		dtype formats.DType
		cols  int
	}{
		{"empty_int32.npy", formats.Int32, 0},
		{"tokens_int32_len10.npy", formats.Int32, 0},
		{"tokens_uint16_len10.npy", formats.Uint16, 0},
		{"offsets_int64_2x3.npy", formats.Int64, 3},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			data := want[128:]
			vals := make([]int64, len(data)/tt.dtype.Size())
			for i := range vals {
				switch tt.dtype.Size() {
				case 8:
					vals[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
				case 4:
					vals[i] = int64(int32(binary.LittleEndian.Uint32(data[4*i:])))
				case 2:
					vals[i] = int64(binary.LittleEndian.Uint16(data[2*i:]))
				}
			}
			p := filepath.Join(t.TempDir(), tt.file)
			w, err := Create(p, tt.dtype, tt.cols)
			if err != nil {
				t.Fatal(err)
			}
			step := max(tt.cols, 1)
			for i := 0; i < len(vals); i += step {
				if err := w.WriteRow64(vals[i : i+step]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if !bytes.Equal(got, want) {
				t.Fatalf("bytes differ:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestWriter_Errors(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(filepath.Join(dir, "a.npy"), formats.Uint16, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRow([]int32{1, 2, 3}); err == nil {
		t.Fatal("wrong row length accepted")
	}
	if err := w.WriteRow([]int32{1, 70000}); err == nil {
		t.Fatal("70000 accepted as uint16")
	}
	if err := w.WriteRow([]int32{-1, 0}); err == nil {
		t.Fatal("-1 accepted as uint16")
	}
	w.Abort()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("Abort left %v", ents)
	}
}

func TestWriter_LoadsInNumPy(t *testing.T) {
	py := testutil.NumPy(t)
	dir := t.TempDir()
	type array struct {
		DType string
		Shape []int
		Data  [][]int64
	}
	var paths []string
	var want []array
	for _, d := range []formats.DType{formats.Int64, formats.Int32, formats.Uint32, formats.Uint16} {
		for _, rows := range []int{0, 1, 7} {
			p := filepath.Join(dir, fmt.Sprintf("%v_%d.npy", d, rows))
			w, err := Create(p, d, 5)
			if err != nil {
				t.Fatal(err)
			}
			a := array{DType: d.String(), Shape: []int{rows, 5}, Data: [][]int64{}}
			for r := 0; r < rows; r++ {
				row := []int64{int64(r), 1, 2, 65535, int64(r * 1000)}
				if d != formats.Uint16 {
					row[3] = 200000
				}
				a.Data = append(a.Data, row)
				if err := w.WriteRow64(row); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, p)
			want = append(want, a)
		}
	}
	script := `import sys, json, numpy as np
out = []
for p in sys.argv[1:]:
    a = np.load(p, mmap_mode="r")
    out.append({"DType": str(a.dtype), "Shape": list(a.shape), "Data": a.tolist()})
print(json.dumps(out))`
	out, err := exec.Command(py, append([]string{"-c", script}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("np.load: %v\n%s", err, out)
	}
	var got []array
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("numpy sees\n%v\nwant\n%v", got, want)
	}
}
