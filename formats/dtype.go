package formats

import (
	"encoding/binary"
	"fmt"
	"math"
)

// DType is the element type of token output.
type DType uint8

// The token element types.
const (
	Int64 DType = iota + 1
	Int32
	Uint32
	Uint16
)

var dtypeInfo = [...]struct {
	name, descr string
	size        int
	min, max    int64
}{
	{},
	{"int64", "<i8", 8, math.MinInt64, math.MaxInt64},
	{"int32", "<i4", 4, math.MinInt32, math.MaxInt32},
	{"uint32", "<u4", 4, 0, math.MaxUint32},
	{"uint16", "<u2", 2, 0, math.MaxUint16},
}

// Valid reports whether d is one of the element types.
func (d DType) Valid() bool { return d >= Int64 && d <= Uint16 }

// String returns the NumPy / Hugging Face name ("int64", ...).
func (d DType) String() string {
	if !d.Valid() {
		return fmt.Sprintf("DType(%d)", d)
	}
	return dtypeInfo[d].name
}

// Size is the byte width of one element.
func (d DType) Size() int { return dtypeInfo[d].size }

// Range returns the least and the greatest value an element holds.
func (d DType) Range() (lo, hi int64) { return dtypeInfo[d].min, dtypeInfo[d].max }

// NumPyDescr returns the type string of a .npy header ("<i8", ...).
func (d DType) NumPyDescr() string { return dtypeInfo[d].descr }

// ParseDType parses "int64", "int32", "uint32" or "uint16".
func ParseDType(s string) (DType, error) {
	for d := Int64; d <= Uint16; d++ {
		if dtypeInfo[d].name == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown dtype %q (want int64, int32, uint32 or uint16)", s)
}

// AppendElem appends v little-endian in dtype d, checking its range.
func (d DType) AppendElem(b []byte, v int64) ([]byte, error) {
	if v < dtypeInfo[d].min || v > dtypeInfo[d].max {
		return b, fmt.Errorf("value %d does not fit in %s", v, d)
	}
	switch d.Size() {
	case 8:
		return binary.LittleEndian.AppendUint64(b, uint64(v)), nil
	case 4:
		return binary.LittleEndian.AppendUint32(b, uint32(v)), nil
	default:
		return binary.LittleEndian.AppendUint16(b, uint16(v)), nil
	}
}
