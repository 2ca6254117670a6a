package hf

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/table"
)

// TestHFTableWriter_FeaturesMatchSchema writes records with a nested messages column and
// checks the features JSON (SPEC.md: a list of structs is a one-element JSON list), the
// Arrow types that datasets would derive from it, and that the rows read back equal.
func TestHFTableWriter_FeaturesMatchSchema(t *testing.T) {
	lines := []string{
		`{"id": "a", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "tool_calls": [{"name": "run", "arguments": {"cmd": "ls"}}]}], "ids": [1, 2], "score": 1}`,
		`{"id": "b", "messages": [], "ids": [], "score": 0.5}`,
	}
	var sb table.SchemaBuilder
	var recs []map[string]any
	for _, l := range lines {
		v, order, err := formats.DecodeJSON([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		if err := sb.AddRecord(v.(map[string]any), order[""], order); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, v.(map[string]any))
	}
	wantSchema := "schema:\n  fields: 4\n    - id: type=utf8, nullable\n" +
		"    - messages: type=list<item: struct<role: utf8 nullable, content: utf8 nullable, tool_calls: list<item: struct<name: utf8 nullable, arguments: struct<cmd: utf8 nullable> nullable>, nullable> nullable>, nullable>, nullable\n" +
		"    - ids: type=list<item: int64, nullable>, nullable\n    - score: type=float64, nullable"
	if got := sb.Schema().String(); got != wantSchema {
		t.Fatalf("schema\n%s\nwant\n%s", got, wantSchema)
	}
	wantFeatures := `{"id": {"dtype": "string", "_type": "Value"}, "messages": [{"role": {"dtype": "string", "_type": "Value"}, ` +
		`"content": {"dtype": "string", "_type": "Value"}, "tool_calls": [{"name": {"dtype": "string", "_type": "Value"}, ` +
		`"arguments": {"cmd": {"dtype": "string", "_type": "Value"}}}]}], "ids": {"feature": {"dtype": "int64", "_type": "Value"}, "_type": "Sequence"}, ` +
		`"score": {"dtype": "float64", "_type": "Value"}}`
	if got, err := Features(sb.Schema()); err != nil || got != wantFeatures {
		t.Fatalf("features\n%s\nwant\n%s (%v)", got, wantFeatures, err)
	}

	dir := filepath.Join(t.TempDir(), "ds")
	w, err := CreateTable(dir, sb.Schema(), Options{BatchRows: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dataset_info.json")); err != nil {
		t.Fatal(err)
	}
	b, err := OpenBatches(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Next(); err != nil {
		t.Fatal(err)
	}
	if md, _ := b.Schema().Metadata().GetValue("huggingface"); md != `{"info": {"features": `+wantFeatures+`}}` {
		t.Errorf("schema metadata %s", md)
	}
	b.Close()

	rr, err := OpenRows(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Close()
	row, err := rr.Next()
	if err != nil {
		t.Fatal(err)
	}
	msgs := row.Value.(map[string]any)["messages"].([]any)
	call := msgs[1].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
	if !reflect.DeepEqual(call, map[string]any{"name": "run", "arguments": map[string]any{"cmd": "ls"}}) ||
		!reflect.DeepEqual(row.Value.(map[string]any)["ids"], []int64{1, 2}) || !reflect.DeepEqual(row.Keys, []string{"id", "messages", "ids", "score"}) {
		t.Errorf("row 0 read back as %v (keys %v)", row.Value, row.Keys)
	}
	n := 1
	for {
		if _, err := rr.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d rows read back", n)
	}
}

func TestSchemaBuilder_Unify(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		want  string // the type of column a, or the error
	}{
		{"int then float", []string{`{"a": 1}`, `{"a": 2.5}`}, "float64"},
		{"null then string", []string{`{"a": null}`, `{"a": "x"}`}, "utf8"},
		{"all null", []string{`{"a": null}`}, "null"},
		{"empty then ints", []string{`{"a": []}`, `{"a": [1]}`}, "list<item: int64, nullable>"},
		{"struct union", []string{`{"a": {"x": 1}}`, `{"a": {"y": "s", "x": null}}`}, "struct<x: int64 nullable, y: utf8 nullable>"},
		{"clash", []string{`{"a": "x"}`, `{"a": true}`}, `column "a": mixed types utf8 and bool`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var sb table.SchemaBuilder
			var err error
			for _, l := range c.lines {
				v, order, _ := formats.DecodeJSON([]byte(l))
				if err = sb.AddRecord(v.(map[string]any), order[""], order); err != nil {
					break
				}
			}
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = sb.Schema().Field(0).Type.String()
			}
			if got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}
