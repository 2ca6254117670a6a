package table

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/tokenmill/tokenmill/internal/jsonscan"
)

// stringColumn reads values of a string-like Arrow column without copying.
type stringColumn interface {
	arrow.Array
	Value(i int) string
}

type binaryColumn interface {
	arrow.Array
	Value(i int) []byte
}

// CheckTextType reports whether an Arrow type can hold text.
func CheckTextType(t arrow.DataType) error {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		return nil
	}
	return fmt.Errorf("is %s, not a string column", t)
}

// TextAt returns row i of a text column as bytes aliasing the Arrow buffer,
// and FieldOK or FieldNull.
func TextAt(col arrow.Array, i int) ([]byte, jsonscan.FieldKind) {
	if col.IsNull(i) {
		return nil, jsonscan.FieldNull
	}
	switch c := col.(type) {
	case stringColumn:
		s := c.Value(i)
		return unsafe.Slice(unsafe.StringData(s), len(s)), jsonscan.FieldOK
	case binaryColumn:
		return c.Value(i), jsonscan.FieldOK
	}
	return nil, jsonscan.FieldNotString
}

var (
	_ stringColumn = (*array.String)(nil)
	_ stringColumn = (*array.LargeString)(nil)
	_ stringColumn = (*array.StringView)(nil)
	_ binaryColumn = (*array.Binary)(nil)
	_ binaryColumn = (*array.LargeBinary)(nil)
	_ binaryColumn = (*array.BinaryView)(nil)
)
