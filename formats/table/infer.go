package table

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
)

// SchemaBuilder infers one Arrow schema for a stream of generic records, as pyarrow does
// for datasets.Dataset.from_list: columns in first-seen order, a type per column unified over
// every record (null takes any type, integers widen to floats, structs take the union of
// their fields, lists unify their elements). Integers from JSON are int64 and fractions
// float64; Arrow inputs keep their own types (see Value). Mixed incompatible types
// (a string here, a number there) are an error naming the column, as in pyarrow.
type SchemaBuilder struct {
	fields []arrow.Field
	index  map[string]int
}

// AddSchema merges the schema of an Arrow input (Parquet, HF), normalised to the types the
// writers produce (see normalizeType).
func (s *SchemaBuilder) AddSchema(sc *arrow.Schema) error {
	for _, f := range sc.Fields() {
		if err := s.add(f.Name, normalizeType(f.Type)); err != nil {
			return err
		}
	}
	return nil
}

// AddRecord merges the types of one record's values; keys and order give the column and
// struct field order (either may be nil: the rest is sorted for determinism).
func (s *SchemaBuilder) AddRecord(m map[string]any, keys []string, order formats.KeyOrder) error {
	for _, k := range orderedKeys(m, keys) {
		t, err := inferType(m[k], k, order)
		if err != nil {
			return fmt.Errorf("column %q: %w", k, err)
		}
		if err := s.add(k, t); err != nil {
			return err
		}
	}
	return nil
}

func (s *SchemaBuilder) add(name string, t arrow.DataType) error {
	if s.index == nil {
		s.index = map[string]int{}
	}
	i, ok := s.index[name]
	if !ok {
		s.index[name] = len(s.fields)
		s.fields = append(s.fields, arrow.Field{Name: name, Type: t, Nullable: true})
		return nil
	}
	u, err := unifyTypes(s.fields[i].Type, t)
	if err != nil {
		return fmt.Errorf("column %q: %w", name, err)
	}
	s.fields[i].Type = u
	return nil
}

// Schema returns the schema inferred so far.
func (s *SchemaBuilder) Schema() *arrow.Schema {
	return arrow.NewSchema(append([]arrow.Field(nil), s.fields...), nil)
}

// orderedKeys returns the keys of m: those of order first (when present in m), the rest sorted.
func orderedKeys(m map[string]any, order []string) []string {
	out := make([]string, 0, len(m))
	for _, k := range order {
		if _, ok := m[k]; ok && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

func inferType(v any, path string, order formats.KeyOrder) (arrow.DataType, error) {
	switch x := v.(type) {
	case nil:
		return arrow.Null, nil
	case bool:
		return arrow.FixedWidthTypes.Boolean, nil
	case string:
		return arrow.BinaryTypes.String, nil
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return arrow.PrimitiveTypes.Int64, nil
		}
		return arrow.PrimitiveTypes.Float64, nil
	case int, int64:
		return arrow.PrimitiveTypes.Int64, nil
	case int32:
		return arrow.PrimitiveTypes.Int32, nil
	case int16:
		return arrow.PrimitiveTypes.Int16, nil
	case int8:
		return arrow.PrimitiveTypes.Int8, nil
	case uint8:
		return arrow.PrimitiveTypes.Uint8, nil
	case uint16:
		return arrow.PrimitiveTypes.Uint16, nil
	case uint32:
		return arrow.PrimitiveTypes.Uint32, nil
	case uint64:
		return arrow.PrimitiveTypes.Uint64, nil
	case float32:
		return arrow.PrimitiveTypes.Float32, nil
	case float64:
		return arrow.PrimitiveTypes.Float64, nil
	case []byte:
		return arrow.BinaryTypes.Binary, nil
	case []int32:
		return arrow.ListOf(arrow.PrimitiveTypes.Int32), nil
	case []int64:
		return arrow.ListOf(arrow.PrimitiveTypes.Int64), nil
	case []uint16:
		return arrow.ListOf(arrow.PrimitiveTypes.Uint16), nil
	case []uint32:
		return arrow.ListOf(arrow.PrimitiveTypes.Uint32), nil
	case []int16:
		return arrow.ListOf(arrow.PrimitiveTypes.Int16), nil
	case []any:
		var elem arrow.DataType = arrow.Null
		for _, e := range x {
			t, err := inferType(e, path+"[]", order)
			if err != nil {
				return nil, err
			}
			if elem, err = unifyTypes(elem, t); err != nil {
				return nil, err
			}
		}
		return arrow.ListOf(elem), nil
	case map[string]any:
		keys := orderedKeys(x, order[path])
		fields := make([]arrow.Field, 0, len(keys))
		for _, k := range keys {
			t, err := inferType(x[k], path+"."+k, order)
			if err != nil {
				return nil, err
			}
			fields = append(fields, arrow.Field{Name: k, Type: t, Nullable: true})
		}
		return arrow.StructOf(fields...), nil
	}
	return nil, fmt.Errorf("cannot store a %T", v)
}

// unifyTypes returns the type that holds values of both a and b.
func unifyTypes(a, b arrow.DataType) (arrow.DataType, error) {
	switch {
	case a.ID() == arrow.NULL:
		return b, nil
	case b.ID() == arrow.NULL, arrow.TypeEqual(a, b):
		return a, nil
	case arrow.IsInteger(a.ID()) && arrow.IsInteger(b.ID()):
		return arrow.PrimitiveTypes.Int64, nil
	case isNumeric(a) && isNumeric(b):
		return arrow.PrimitiveTypes.Float64, nil
	case a.ID() == arrow.LIST && b.ID() == arrow.LIST:
		e, err := unifyTypes(a.(*arrow.ListType).Elem(), b.(*arrow.ListType).Elem())
		if err != nil {
			return nil, err
		}
		return arrow.ListOf(e), nil
	case a.ID() == arrow.STRUCT && b.ID() == arrow.STRUCT:
		fields := append([]arrow.Field(nil), a.(*arrow.StructType).Fields()...)
		for _, fb := range b.(*arrow.StructType).Fields() {
			i := -1
			for k, fa := range fields {
				if fa.Name == fb.Name {
					i = k
				}
			}
			if i < 0 {
				fields = append(fields, fb)
				continue
			}
			t, err := unifyTypes(fields[i].Type, fb.Type)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", fb.Name, err)
			}
			fields[i].Type = t
		}
		return arrow.StructOf(fields...), nil
	}
	return nil, fmt.Errorf("mixed types %s and %s", a, b)
}

func isNumeric(t arrow.DataType) bool {
	return arrow.IsInteger(t.ID()) || arrow.IsFloating(t.ID())
}

// normalizeType maps an input Arrow type to the one the writers produce: every field
// nullable, large and view lists as lists, string views as strings, dictionaries as their
// values. Values read by Value fit the normalised type.
func normalizeType(t arrow.DataType) arrow.DataType {
	switch x := t.(type) {
	case *arrow.ListType:
		return arrow.ListOf(normalizeType(x.Elem()))
	case *arrow.LargeListType:
		return arrow.ListOf(normalizeType(x.Elem()))
	case *arrow.FixedSizeListType:
		return arrow.ListOf(normalizeType(x.Elem()))
	case *arrow.ListViewType:
		return arrow.ListOf(normalizeType(x.Elem()))
	case *arrow.StructType:
		fields := make([]arrow.Field, x.NumFields())
		for i, f := range x.Fields() {
			fields[i] = arrow.Field{Name: f.Name, Type: normalizeType(f.Type), Nullable: true}
		}
		return arrow.StructOf(fields...)
	case *arrow.DictionaryType:
		return normalizeType(x.ValueType)
	}
	switch t.ID() {
	case arrow.STRING_VIEW:
		return arrow.BinaryTypes.String
	case arrow.BINARY_VIEW:
		return arrow.BinaryTypes.Binary
	}
	return t
}
