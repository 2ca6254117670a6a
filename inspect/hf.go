package inspect

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/table"
)

// inspectDict reads every split of a DatasetDict in full: there are few, and each is what
// load_from_disk(dir)[split] would show.
func (in *inspector) inspectDict(dir string) (*Inspection, error) {
	dirs, err := hf.SplitDirs(dir)
	if err != nil {
		return nil, err
	}
	res := &Inspection{Path: dir, Kind: "hf_dict"}
	mpath := manifestNear(dir)
	for _, d := range dirs {
		part, err := in.inspectHF(d, true, mpath)
		if err != nil {
			part = &Inspection{Path: d, Kind: "hf", Error: err.Error()}
		}
		res.Examples += part.Examples
		res.Parts = append(res.Parts, part)
	}
	return res, nil
}

// inspectHF reads one save_to_disk directory: the Arrow schema, the row count (the sum of its
// record batches, as len(ds)) and, when detail is set, the first row and its decoded tokens.
func (in *inspector) inspectHF(dir string, detail bool, manifest string) (*Inspection, error) {
	st, err := hf.ReadState(dir)
	if err != nil {
		return nil, err
	}
	br, err := hf.OpenBatches(dir)
	if err != nil {
		return nil, err
	}
	defer br.Close()
	res := &Inspection{Path: dir, Kind: "hf", DataFiles: len(st.DataFiles)}
	for {
		rb, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if res.schema == nil {
			res.schema = rb.Schema()
		}
		if detail && res.First == nil && rb.NumRows() > 0 {
			m := make(map[string]any, rb.NumCols())
			for k, f := range rb.Schema().Fields() {
				m[f.Name] = table.Value(rb.Column(k), 0)
				res.firstKeys = append(res.firstKeys, f.Name)
			}
			res.First = m
		}
		res.Examples += rb.NumRows()
	}
	if res.schema == nil { // no record batch at all: the schema message is still there
		if res.schema, err = arrowStreamSchema(filepath.Join(dir, st.DataFiles[0].Filename)); err != nil {
			return nil, err
		}
	}
	res.setColumns(res.schema)
	res.Detailed = detail
	if detail {
		in.decodeFirst(res, manifest)
	}
	return res, nil
}

// arrowStreamSchema reads the schema message of an Arrow IPC stream.
func arrowStreamSchema(path string) (*arrow.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r, err := hf.NewStreamReader(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: not an Arrow IPC stream: %w", path, err)
	}
	defer r.Release()
	return r.Schema(), nil
}

// setColumns sets Columns from s, and TokenColumn to the first of input_ids, ids, token_ids
// and tokens that s has as a list of integers.
func (res *Inspection) setColumns(s *arrow.Schema) {
	for _, f := range s.Fields() {
		res.Columns = append(res.Columns, Column{Name: f.Name, Type: typeName(f.Type)})
	}
	for _, name := range []string{"input_ids", "ids", "token_ids", "tokens"} {
		if i := s.FieldIndices(name); len(i) > 0 && isIntList(s.Field(i[0]).Type) {
			res.TokenColumn = name
			return
		}
	}
}

func isIntList(t arrow.DataType) bool {
	l, ok := t.(arrow.ListLikeType)
	return ok && arrow.IsInteger(l.Elem().ID())
}

// typeName spells an Arrow type the way the datasets features name it: string, int64,
// list<int32>, struct<role: string, content: string>.
func typeName(t arrow.DataType) string {
	switch x := t.(type) {
	case arrow.ListLikeType:
		return "list<" + typeName(x.Elem()) + ">"
	case *arrow.StructType:
		parts := make([]string, x.NumFields())
		for i, f := range x.Fields() {
			parts[i] = f.Name + ": " + typeName(f.Type)
		}
		return "struct<" + strings.Join(parts, ", ") + ">"
	case *arrow.DictionaryType:
		return typeName(x.ValueType)
	}
	switch t.ID() {
	case arrow.STRING, arrow.STRING_VIEW:
		return "string"
	case arrow.LARGE_STRING:
		return "large_string"
	case arrow.BOOL:
		return "bool"
	}
	return t.String()
}
