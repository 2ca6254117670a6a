package hf

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Features renders the datasets features dict of a schema, Python json.dumps style, so
// that Features.from_dict rebuilds exactly the schema's Arrow types (SPEC.md): a struct is a
// dict, a list of structs a one-element JSON list (understood by every datasets version,
// unlike Sequence of a dict, which turns into a dict of lists), any other list a Sequence.
func Features(s *arrow.Schema) (string, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range s.Fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := writeFeature(&b, f.Name, f.Type); err != nil {
			return "", err
		}
	}
	b.WriteByte('}')
	return b.String(), nil
}

func writeFeature(b *strings.Builder, name string, t arrow.DataType) error {
	k, _ := marshalNoHTML(name)
	b.Write(k)
	b.WriteString(": ")
	return writeFeatureType(b, t)
}

func writeFeatureType(b *strings.Builder, t arrow.DataType) error {
	switch x := t.(type) {
	case *arrow.StructType:
		b.WriteByte('{')
		for i, f := range x.Fields() {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writeFeature(b, f.Name, f.Type); err != nil {
				return err
			}
		}
		b.WriteByte('}')
		return nil
	case *arrow.ListType:
		if x.Elem().ID() == arrow.STRUCT {
			b.WriteByte('[')
			err := writeFeatureType(b, x.Elem())
			b.WriteByte(']')
			return err
		}
		b.WriteString(`{"feature": `)
		if err := writeFeatureType(b, x.Elem()); err != nil {
			return err
		}
		b.WriteString(`, "_type": "Sequence"}`)
		return nil
	}
	dtype := map[arrow.Type]string{arrow.NULL: "null", arrow.BOOL: "bool", arrow.INT8: "int8", arrow.INT16: "int16",
		arrow.INT32: "int32", arrow.INT64: "int64", arrow.UINT8: "uint8", arrow.UINT16: "uint16", arrow.UINT32: "uint32",
		arrow.UINT64: "uint64", arrow.FLOAT32: "float32", arrow.FLOAT64: "float64", arrow.STRING: "string",
		arrow.LARGE_STRING: "large_string", arrow.BINARY: "binary", arrow.LARGE_BINARY: "large_binary"}[t.ID()]
	if dtype == "" {
		return fmt.Errorf("no datasets feature for Arrow type %s", t)
	}
	fmt.Fprintf(b, `{"dtype": %q, "_type": "Value"}`, dtype)
	return nil
}
