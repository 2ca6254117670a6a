package table

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Value returns element i of an Arrow array as the generic Go value that
// validate.Check and the writers of this package take:
//
//	null                    nil
//	bool                    bool
//	intN / uintN / floatN   the Go type of the same width (int32 stays int32)
//	string types            string
//	binary types            []byte
//	list of integers        a typed slice ([]int32, []int64, ...) when it has no nulls
//	other lists             []any
//	struct                  map[string]any
//	dictionary              the decoded value
//
// Widths are kept so that a conversion writes the same Arrow types back (a token
// column of int32 stays int32). Types without a natural Go value (dates, decimals, ...)
// fall back to what arrow-go marshals to JSON.
//
// A corrupt array (offsets past its values, buffers shorter than its length) panics, as
// arrow-go's own accessors do; the row readers of this package turn that into an error that
// names the file.
func Value(col arrow.Array, i int) any {
	if col.IsNull(i) {
		return nil
	}
	switch c := col.(type) {
	case *array.Null:
		return nil
	case *array.Boolean:
		return c.Value(i)
	case *array.Int8:
		return c.Value(i)
	case *array.Int16:
		return c.Value(i)
	case *array.Int32:
		return c.Value(i)
	case *array.Int64:
		return c.Value(i)
	case *array.Uint8:
		return c.Value(i)
	case *array.Uint16:
		return c.Value(i)
	case *array.Uint32:
		return c.Value(i)
	case *array.Uint64:
		return c.Value(i)
	case *array.Float32:
		return c.Value(i)
	case *array.Float64:
		return c.Value(i)
	case stringColumn:
		return c.Value(i)
	case binaryColumn:
		return append([]byte(nil), c.Value(i)...)
	case array.ListLike:
		start, end := c.ValueOffsets(i)
		values := c.ListValues()
		// Offsets are read from the file and arrow-go does not check them against the
		// values: corrupt ones made listValue scan and size a slice for a billion elements.
		if start < 0 || end < start || end > int64(values.Len()) {
			panic(fmt.Sprintf("list offsets [%d, %d) out of the %d values", start, end, values.Len()))
		}
		return listValue(values, int(start), int(end))
	case *array.Struct:
		st := c.DataType().(*arrow.StructType)
		m := make(map[string]any, c.NumField())
		for k := 0; k < c.NumField(); k++ {
			m[st.Field(k).Name] = Value(c.Field(k), i)
		}
		return m
	case *array.Dictionary:
		return Value(c.Dictionary(), c.GetValueIndex(i))
	}
	b, err := json.Marshal(col.GetOneForMarshal(i))
	if err != nil {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// listValue returns values[start:end] as a typed slice for null-free integer lists (token
// ids: one allocation instead of one boxed value per id), else as []any. Byte-wide
// integers stay []any: encoding/json would write a []uint8 as base64.
func listValue(values arrow.Array, start, end int) any {
	if values.NullN() == 0 || noNulls(values, start, end) {
		switch v := values.(type) {
		case *array.Int32:
			return append([]int32(nil), v.Int32Values()[start:end]...)
		case *array.Int64:
			return append([]int64(nil), v.Int64Values()[start:end]...)
		case *array.Uint16:
			return append([]uint16(nil), v.Uint16Values()[start:end]...)
		case *array.Uint32:
			return append([]uint32(nil), v.Uint32Values()[start:end]...)
		case *array.Int16:
			return append([]int16(nil), v.Int16Values()[start:end]...)
		}
	}
	out := make([]any, 0, end-start)
	for k := start; k < end; k++ {
		out = append(out, Value(values, k))
	}
	return out
}

func noNulls(a arrow.Array, start, end int) bool {
	for k := start; k < end; k++ {
		if a.IsNull(k) {
			return false
		}
	}
	return true
}
