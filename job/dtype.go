package job

import "fmt"

// DType is the element type of written token ids.
type DType string

// DTypes. DTypeAuto resolves to uint16 when every id fits, else uint32.
const (
	DTypeInt64  DType = "int64"
	DTypeInt32  DType = "int32"
	DTypeUint32 DType = "uint32"
	DTypeUint16 DType = "uint16"
	DTypeAuto   DType = "auto"
)

var dtypes = []DType{DTypeInt64, DTypeInt32, DTypeUint32, DTypeUint16, DTypeAuto}

// Max returns the largest token id the type holds (ids are uint32); 0 for auto or unknown.
func (d DType) Max() uint64 {
	switch d {
	case DTypeInt64, DTypeUint32:
		return 1<<32 - 1
	case DTypeInt32:
		return 1<<31 - 1
	case DTypeUint16:
		return 1<<16 - 1
	}
	return 0
}

// Size returns the width in bytes of one element; 0 for auto or unknown.
func (d DType) Size() int {
	switch d {
	case DTypeInt64:
		return 8
	case DTypeInt32, DTypeUint32:
		return 4
	case DTypeUint16:
		return 2
	}
	return 0
}

// Resolve returns the concrete type to write when the largest id that can occur is maxID
// (the tokenizer's vocabulary size minus one, or the pad id if larger). Auto picks uint16 when
// maxID fits, else uint32. An explicit type too small for maxID is refused.
func (d DType) Resolve(maxID uint32) (DType, error) {
	if d == DTypeAuto {
		if uint64(maxID) <= DTypeUint16.Max() {
			return DTypeUint16, nil
		}
		return DTypeUint32, nil
	}
	m := d.Max()
	if m == 0 {
		return "", fmt.Errorf("output.dtype: unknown dtype %q", d)
	}
	if uint64(maxID) > m {
		return "", fmt.Errorf("output.dtype: %s cannot hold token id %d (max %d); use uint32, int64 or auto", d, maxID, m)
	}
	return d, nil
}
