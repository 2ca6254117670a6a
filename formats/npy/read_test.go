package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
)

// TestNpyReader_NumPyFixtures reads the files np.save wrote (testdata) and compares the
// header and every row with what NumPy holds (values from np.load, see SOURCES.md).
func TestReader_NumPyFixtures(t *testing.T) {
	tens := func(step int64) []int64 {
		v := make([]int64, 10)
		for i := range v {
			v[i] = int64(i) * step
		}
		return v
	}
	tests := []struct {
		file   string
		descr  string
		dtype  formats.DType
		shape  []int64
		rowLen int64
		rows   [][]int64
		flat   []int64
	}{
		{"empty_int32.npy", "<i4", formats.Int32, []int64{0}, 1, nil, nil},
		{"tokens_int32_len10.npy", "<i4", formats.Int32, []int64{10}, 1, nil, tens(100000)},
		{"tokens_uint16_len10.npy", "<u2", formats.Uint16, []int64{10}, 1, nil, tens(1000)},
		{"offsets_int64_2x3.npy", "<i8", formats.Int64, []int64{2, 3}, 3, [][]int64{{0, 1, 2}, {3, 4, 5}}, []int64{0, 1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h := r.Header()
			if h.Descr != tt.descr || r.DType() != tt.dtype || !reflect.DeepEqual(h.Shape, tt.shape) ||
				h.FortranOrder || h.DataOffset != 128 || r.RowLen() != tt.rowLen || h.Version != [2]byte{1, 0} {
				t.Fatalf("header %+v dtype %v rowLen %d", h, r.DType(), r.RowLen())
			}
			for i, want := range tt.rows {
				got, err := r.Row(int64(i), nil)
				if err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("row %d = %v, %v; want %v", i, got, err, want)
				}
			}
			got, err := r.Elements(0, h.Elements(), nil)
			if err != nil || !reflect.DeepEqual(got, tt.flat) {
				t.Errorf("elements = %v, %v; want %v", got, err, tt.flat)
			}
			if _, err := r.Row(r.Rows(), nil); err == nil {
				t.Error("row past the end accepted")
			}
		})
	}
}

// TestNpyReader_RoundTrip reads back what Writer wrote, for every token dtype.
func TestReader_RoundTrip(t *testing.T) {
	for _, d := range []formats.DType{formats.Int64, formats.Int32, formats.Uint32, formats.Uint16} {
		t.Run(d.String(), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "a.npy")
			w, err := Create(p, d, 4)
			if err != nil {
				t.Fatal(err)
			}
			rows := [][]int64{{1, 2, 3, 65535}, {0, 100, 7, 9}, {5, 5, 5, 5}}
			for _, row := range rows {
				if err := w.WriteRow64(row); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Rows() != 3 || r.RowLen() != 4 || r.DType() != d {
				t.Fatalf("rows %d rowLen %d dtype %v", r.Rows(), r.RowLen(), r.DType())
			}
			var buf []int64
			for i, want := range rows {
				if buf, err = r.Row(int64(i), buf); err != nil || !reflect.DeepEqual(buf, want) {
					t.Errorf("row %d = %v, %v; want %v", i, buf, err, want)
				}
			}
		})
	}
}

// npyBytes builds a v1.0 file around a header dict (padded as np.save pads it) and data.
func npyBytes(dict string, data []byte) []byte {
	h := dict + strings.Repeat(" ", 63-(10+len(dict))%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(h)))
	return append(append(b, h...), data...)
}

// TestNpyReader_Headers covers the header variations NumPy accepts and the files it refuses;
// every refusal names the file.
func TestReader_Headers(t *testing.T) {
	eight := make([]byte, 8)
	tests := []struct {
		name    string
		file    []byte
		shape   []int64
		wantErr string
	}{
		{"double quotes, no trailing comma", npyBytes(`{"descr": "<u2", "fortran_order": False, "shape": (2, 2)}`, eight), []int64{2, 2}, ""},
		{"keys in any order", npyBytes(`{'shape': (4,), 'fortran_order': False, 'descr': '<u2', }`, eight), []int64{4}, ""},
		{"native order", npyBytes(`{'descr': '=i4', 'fortran_order': False, 'shape': (2,), }`, eight), []int64{2}, ""},
		{"python 2 long", npyBytes(`{'descr': '<i8', 'fortran_order': False, 'shape': (1L,), }`, eight), []int64{1}, ""},
		{"0-d", npyBytes(`{'descr': '<i8', 'fortran_order': False, 'shape': (), }`, eight), []int64{}, ""},
		{"1-d Fortran order is plain", npyBytes(`{'descr': '<i8', 'fortran_order': True, 'shape': (1,), }`, eight), []int64{1}, ""},
		{"no magic", []byte("PK\x03\x04 not numpy at all, just some bytes"), nil, "no \\x93NUMPY magic"},
		{"empty", nil, nil, "not a .npy file"},
		{"version 9", []byte("\x93NUMPY\x09\x00\x00\x00"), nil, "version 9.0"},
		{"truncated header", []byte("\x93NUMPY\x01\x00\x40\x00{'descr'"), nil, "truncated .npy header"},
		{"float", npyBytes(`{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }`, eight), nil, `dtype "<f4" is not a token type`},
		{"big endian", npyBytes(`{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }`, eight), nil, `dtype ">i4"`},
		{"structured", npyBytes(`{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }`, eight), nil, "structured dtypes"},
		{"missing key", npyBytes(`{'descr': '<i4', 'shape': (2,), }`, eight), nil, "exactly the keys"},
		{"extra key", npyBytes(`{'descr': '<i4', 'fortran_order': False, 'shape': (2,), 'x': 1}`, eight), nil, `unexpected key "x"`},
		{"shape not a tuple", npyBytes(`{'descr': '<i4', 'fortran_order': False, 'shape': 2, }`, eight), nil, "expected a tuple"},
		{"negative dim", npyBytes(`{'descr': '<i4', 'fortran_order': False, 'shape': (-2,), }`, eight), nil, "non-negative integer"},
		{"Fortran 2-d", npyBytes(`{'descr': '<i4', 'fortran_order': True, 'shape': (1, 2), }`, eight), nil, "Fortran-order"},
		{"short data", npyBytes(`{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }`, eight), nil, "truncated: shape [2] of <i8 needs 144 bytes, the file has 136"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.npy")
			if err := os.WriteFile(p, tt.file, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(p)
			if tt.wantErr != "" {
				if err == nil {
					r.Close()
					t.Fatalf("accepted; want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error %q; want it to contain %q and the path", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := r.Header().Shape; !reflect.DeepEqual(got, tt.shape) {
				t.Fatalf("shape %v, want %v", got, tt.shape)
			}
		})
	}
}

// TestReadNpyHeader_Version2 reads a format 2.0 preamble (uint32 header length).
func TestReadNpyHeader_Version2(t *testing.T) {
	dict := "{'descr': '<u2', 'fortran_order': False, 'shape': (3,), }\n"
	b := append([]byte("\x93NUMPY\x02\x00"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(dict)))
	b = append(b, dict...)
	h, err := ReadHeader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if h.DataOffset != int64(12+len(dict)) || fmt.Sprint(h.Shape) != "[3]" || h.Descr != "<u2" {
		t.Fatalf("%+v", h)
	}
}
