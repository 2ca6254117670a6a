package inspect

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestPyString(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"plain", -1, `'plain'`},
		{"it's", -1, `"it's"`},
		{`it's "x"`, -1, `'it\'s "x"'`},
		{"a\nb\tc\rd\\e\x01\x7f", -1, `'a\nb\tc\rd\\e\x01\x7f'`},
		{"héllo wörld", 5, `'héllo'... +6 more characters`},
		{"short", 5, `'short'`},
	}
	for _, tt := range tests {
		if got := pyString(tt.in, tt.limit); got != tt.want {
			t.Errorf("pyString(%q, %d) = %s, want %s", tt.in, tt.limit, got, tt.want)
		}
	}
}

func TestPyFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"}, {0.25, "0.25"}, {-2, "-2.0"}, {0, "0.0"}, {1e-5, "1e-05"}, {1e16, "1e+16"},
		{123456789, "123456789.0"}, {math.NaN(), "nan"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	}
	for _, tt := range tests {
		if got := pyFloat(tt.in); got != tt.want {
			t.Errorf("pyFloat(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestPyShape(t *testing.T) {
	tests := []struct {
		in   []int64
		want string
	}{
		{nil, "()"}, {[]int64{3}, "(3,)"}, {[]int64{659, 512}, "(659, 512)"},
	}
	for _, tt := range tests {
		if got := pyShape(tt.in); got != tt.want {
			t.Errorf("pyShape(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestTypeName(t *testing.T) {
	tests := []struct {
		in   arrow.DataType
		want string
	}{
		{arrow.BinaryTypes.String, "string"},
		{arrow.BinaryTypes.LargeString, "large_string"},
		{arrow.FixedWidthTypes.Boolean, "bool"},
		{arrow.PrimitiveTypes.Int64, "int64"},
		{arrow.ListOf(arrow.PrimitiveTypes.Int32), "list<int32>"},
		{arrow.LargeListOf(arrow.PrimitiveTypes.Uint16), "list<uint16>"},
		{arrow.ListOf(arrow.StructOf(arrow.Field{Name: "role", Type: arrow.BinaryTypes.String},
			arrow.Field{Name: "content", Type: arrow.BinaryTypes.String})), "list<struct<role: string, content: string>>"},
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, "string"},
	}
	for _, tt := range tests {
		if got := typeName(tt.in); got != tt.want {
			t.Errorf("typeName(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestTokenIDs(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want []uint32 // nil: not token ids
	}{
		{"int64", []int64{0, 64, 100257}, []uint32{0, 64, 100257}},
		{"int32", []int32{5}, []uint32{5}},
		{"uint16", []uint16{65535}, []uint32{65535}},
		{"json numbers", []any{json.Number("7"), json.Number("8")}, []uint32{7, 8}},
		{"empty", []int64{}, []uint32{}},
		{"negative", []int64{1, -1}, nil},
		{"too big", []int64{math.MaxUint32 + 1}, nil},
		{"a fraction", []any{json.Number("1.5")}, nil},
		{"strings", []any{"a"}, nil},
		{"bytes", []byte("ab"), nil},
		{"not a list", int64(3), nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tokenIDs(tt.in)
			if ok != (tt.want != nil) || len(got) != len(tt.want) {
				t.Fatalf("tokenIDs(%v) = %v, %v; want %v", tt.in, got, ok, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("tokenIDs(%v) = %v, want %v", tt.in, got, tt.want)
				}
			}
		})
	}
}
