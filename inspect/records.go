package inspect

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/input"
	"github.com/tokenmill/tokenmill/formats/parquet"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/validate"
)

// schemaRows is how many records of a JSON or CSV file the column types are inferred from
// ("the first records"): the count still reads the whole file.
const schemaRows = 100

// inspectRecords reads a record file: the column types inferred from the first records (as
// datasets.Dataset.from_list would type them), every record counted, the first one kept.
// The format is formats.Detect's (content first); where the content contradicts the name, a
// note says so.
func (in *inspector) inspectRecords(path string) (*Inspection, error) {
	d, err := formats.Detect(path)
	if err != nil {
		return nil, err
	}
	if err := d.Unreadable(path); err != nil {
		return nil, err
	}
	var res *Inspection
	if d.Format == formats.FormatText {
		res, err = inspectText(path)
	} else {
		res, err = in.inspectRows(path, d.Format)
	}
	if err != nil {
		return nil, err
	}
	if d.Conflict != "" {
		res.Notes = append(res.Notes, "read by its content: "+d.Conflict)
	}
	return res, nil
}

// inspectRows reads a record file of a known format with input.OpenRows.
func (in *inspector) inspectRows(path string, format formats.Format) (*Inspection, error) {
	rr, err := input.OpenRows(path, formats.Options{Format: format})
	if err != nil {
		return nil, err
	}
	defer rr.Close()
	res := &Inspection{Path: path, Kind: recordKind(format)}
	var sb table.SchemaBuilder
	var schemaErr error
	for {
		row, err := rr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if row.Err != nil {
			if res.Malformed == 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("first malformed record: %s: %v", validate.Locate(row), row.Err))
			}
			res.Malformed++
			continue
		}
		res.Examples++
		if res.Examples > schemaRows {
			if res.Kind == "parquet" {
				break // the footer has the count
			}
			continue
		}
		obj, ok := row.Value.(map[string]any)
		if !ok {
			if schemaErr == nil {
				schemaErr = fmt.Errorf("%s: a record that is not an object (%T)", validate.Locate(row), row.Value)
			}
			continue
		}
		if res.First == nil {
			res.First, res.firstKeys = obj, row.Keys
		}
		if schemaErr == nil {
			if s := rr.Schema(); s != nil {
				schemaErr = sb.AddSchema(s)
			} else {
				schemaErr = sb.AddRecord(obj, row.Keys, row.Order)
			}
		}
	}
	if res.Kind == "parquet" {
		if res.Examples, err = parquetRows(path); err != nil {
			return nil, err
		}
	}
	if schemaErr != nil {
		res.Notes = append(res.Notes, "column types: "+schemaErr.Error())
	}
	res.schema = sb.Schema()
	res.setColumns(res.schema)
	res.Detailed = true
	in.decodeFirst(res, manifestNear(filepath.Dir(path)))
	return res, nil
}

// parquetRows is the number of rows of a Parquet file, from the row groups of its footer.
func parquetRows(path string) (int64, error) {
	groups, err := parquet.RowGroups(path)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, g := range groups {
		n += g.Rows
	}
	return n, nil
}

// inspectText reads a plain text file, which a job reads as one document.
func inspectText(path string) (*Inspection, error) {
	r, err := input.Open(path, formats.Options{Format: formats.FormatText})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	res := &Inspection{Path: path, Kind: "text", Columns: []Column{{"text", "string"}}, Detailed: true}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if res.Examples == 0 {
			text, _, err := rec.Extract("text")
			if err != nil {
				return nil, err
			}
			res.First, res.firstKeys = map[string]any{"text": text}, []string{"text"}
		}
		res.Examples++
	}
	return res, nil
}

// recordKind names a record format as Inspection.Kind does: an Arrow IPC stream outside a
// save_to_disk directory is "arrow".
func recordKind(f formats.Format) string {
	if f == formats.FormatHF {
		return "arrow"
	}
	return f.String()
}
