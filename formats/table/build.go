package table

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// AppendValue appends the generic value v (see Value and DecodeJSON) to b, whose type
// a SchemaBuilder inferred from values like v. nil appends a null.
func AppendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch bb := b.(type) {
	case *array.NullBuilder:
		return fmt.Errorf("value %v in a column of nulls", v)
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return mismatch(v, "bool")
		}
		bb.Append(x)
	case *array.StringBuilder:
		x, ok := v.(string)
		if !ok {
			return mismatch(v, "string")
		}
		bb.Append(x)
	case *array.LargeStringBuilder:
		x, ok := v.(string)
		if !ok {
			return mismatch(v, "string")
		}
		bb.Append(x)
	case *array.BinaryBuilder:
		switch x := v.(type) {
		case []byte:
			bb.Append(x)
		case string:
			bb.AppendString(x)
		default:
			return mismatch(v, "binary")
		}
	case *array.Float32Builder:
		f, err := toFloat(v)
		if err != nil {
			return err
		}
		bb.Append(float32(f))
	case *array.Float64Builder:
		f, err := toFloat(v)
		if err != nil {
			return err
		}
		bb.Append(f)
	case *array.ListBuilder:
		return appendList(bb, v)
	case *array.StructBuilder:
		m, ok := v.(map[string]any)
		if !ok {
			return mismatch(v, "object")
		}
		st := bb.Type().(*arrow.StructType)
		bb.Append(true)
		for i, f := range st.Fields() {
			if err := AppendValue(bb.FieldBuilder(i), m[f.Name]); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
		}
	default:
		return appendInt(b, v)
	}
	return nil
}

func appendList(lb *array.ListBuilder, v any) error {
	lb.Append(true)
	vb := lb.ValueBuilder()
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if err := AppendValue(vb, e); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	case []int32:
		return appendInts(vb, x)
	case []int64:
		return appendInts(vb, x)
	case []uint16:
		return appendInts(vb, x)
	case []uint32:
		return appendInts(vb, x)
	case []int16:
		return appendInts(vb, x)
	default:
		return mismatch(v, "list")
	}
	return nil
}

func appendInts[T int16 | int32 | int64 | uint16 | uint32](vb array.Builder, xs []T) error {
	for _, e := range xs {
		if err := AppendValue(vb, int64(e)); err != nil {
			return err
		}
	}
	return nil
}

// appendInt appends an integer (or, to a float column, any number) with a range check.
func appendInt(b array.Builder, v any) error {
	n, err := toInt(v)
	if err != nil {
		return err
	}
	fits := func(lo, hi int64) error {
		if n < lo || n > hi {
			return fmt.Errorf("%d does not fit in %s", n, b.Type())
		}
		return nil
	}
	switch bb := b.(type) {
	case *array.Int8Builder:
		err = fits(math.MinInt8, math.MaxInt8)
		bb.Append(int8(n))
	case *array.Int16Builder:
		err = fits(math.MinInt16, math.MaxInt16)
		bb.Append(int16(n))
	case *array.Int32Builder:
		err = fits(math.MinInt32, math.MaxInt32)
		bb.Append(int32(n))
	case *array.Int64Builder:
		bb.Append(n)
	case *array.Uint8Builder:
		err = fits(0, math.MaxUint8)
		bb.Append(uint8(n))
	case *array.Uint16Builder:
		err = fits(0, math.MaxUint16)
		bb.Append(uint16(n))
	case *array.Uint32Builder:
		err = fits(0, math.MaxUint32)
		bb.Append(uint32(n))
	case *array.Uint64Builder:
		err = fits(0, math.MaxInt64)
		bb.Append(uint64(n))
	default:
		return fmt.Errorf("cannot write a column of type %s", b.Type())
	}
	return err
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		return strconv.ParseInt(string(x), 10, 64)
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		if x > math.MaxInt64 {
			return 0, fmt.Errorf("%d does not fit in int64", x)
		}
		return int64(x), nil
	}
	return 0, mismatch(v, "integer")
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return strconv.ParseFloat(string(x), 64)
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	}
	n, err := toInt(v)
	if err != nil {
		return 0, mismatch(v, "number")
	}
	return float64(n), nil
}

func mismatch(v any, want string) error {
	return fmt.Errorf("%T value where the column holds %s", v, want)
}

// AppendRecord appends m as one row of rb.
func AppendRecord(rb *array.RecordBuilder, schema *arrow.Schema, m map[string]any) error {
	for k := range m {
		if len(schema.FieldIndices(k)) == 0 {
			return fmt.Errorf("column %q is not in the schema", k)
		}
	}
	for i, f := range schema.Fields() {
		if err := AppendValue(rb.Field(i), m[f.Name]); err != nil {
			return fmt.Errorf("column %q: %w", f.Name, err)
		}
	}
	return nil
}
