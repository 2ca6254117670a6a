package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/input"
	"github.com/tokenmill/tokenmill/formats/parquet"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/internal/outdir"
)

// convertHelp is the part of `tokenmill convert --help` after the summary.
const convertHelp = `INPUT: JSONL (.gz, .zst), a JSON array, Parquet, CSV or an HF save_to_disk / DatasetDict directory.
The records of all inputs, in order, become one dataset: an HF save_to_disk directory, a JSONL
file or a Parquet file. Nested values keep their shape (messages stay a list of structs).
`

// cmdConvert implements `tokenmill convert`, the document's "Converting Between Formats"
// (Dataset.from_list(json.load(f)).save_to_disk, load_dataset("parquet"/"csv")...): it reads
// the inputs twice, first to infer one schema as pyarrow would (formats.SchemaBuilder), then
// to write. Two passes keep memory bounded, unlike from_list. A record that is not a JSON
// object, malformed JSON or a type clash stops the conversion with the record's location
// (exit 1): conversion does not drop data; run `tokenmill validate` first to find it all.
// CSV cells stay strings (no pandas-style type guessing: "007" is an id, not 7). OUT is
// refused when it overlaps an input, and replaced (--overwrite) only when it is a file or
// a dataset tokenmill could have written (guardOutput).
func cmdConvert(args []string, stdout, stderr io.Writer) int {
	c := newCommand("convert", "INPUT... --to hf|jsonl|parquet [--overwrite] OUT",
		"Convert JSON, JSONL, Parquet, CSV and HF datasets to an HF save_to_disk directory, JSONL or Parquet.",
		convertHelp, stdout, stderr)
	fs := c.fs
	to := fs.String("to", "", "output `FORMAT`: hf, jsonl or parquet (required)")
	overwrite := fs.Bool("overwrite", false, "replace an existing output")
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case *to == "":
		return c.usageError("--to is required")
	case *to != "hf" && *to != "jsonl" && *to != "parquet":
		return c.usageError("--to: %q is not one of hf, jsonl, parquet", *to)
	case fs.NArg() == 0:
		return c.usageError("missing INPUT and OUT")
	case fs.NArg() == 1:
		return c.usageError("missing OUT (the last argument is the output)")
	}
	inputs, out := fs.Args()[:fs.NArg()-1], fs.Arg(fs.NArg()-1)
	if err := checkOutputName(out, *to); err != nil {
		fmt.Fprintln(stderr, "tokenmill convert:", err)
		return 2
	}
	kind := outdir.KindFile
	if *to == "hf" {
		kind = outdir.KindHF
	}
	lock, err := guardOutput(out, inputs, kind, *overwrite, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill convert:", err)
		return 1
	}
	defer lock.Release()
	n, err := convertRecords(inputs, out, *to, *overwrite)
	if err != nil {
		err = namedWriterErr(err, out)
		fmt.Fprintln(stderr, "tokenmill convert:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d records\n", out, n)
	return 0
}

// outputNames are the data extensions that each --to format writes, and what it is called.
var outputNames = map[string]struct {
	exts []string
	what string
}{
	"hf":      {nil, "an HF dataset directory"},
	"jsonl":   {[]string{".jsonl", ".ndjson", ".json"}, "JSON Lines"},
	"parquet": {[]string{".parquet", ".pq"}, "Parquet"},
}

// checkOutputName refuses an output name whose extensions (formats.DetectName) say another
// format than --to writes, so that the output is not misread by its name later: a data
// extension of another format (out.jsonl for --to parquet; any for hf, a directory) or a
// compression extension (convert writes uncompressed files). A name without a known
// extension is accepted.
func checkOutputName(out, to string) error {
	_, comp, known := formats.DetectName(out)
	if !known && comp == formats.CompressionNone {
		return nil
	}
	ext, o := formats.NameExt(out), outputNames[to]
	if slices.Contains(o.exts, ext) {
		return nil
	}
	hint := "no extension"
	if len(o.exts) > 0 {
		hint = o.exts[0] + " or no extension"
	}
	return fmt.Errorf("%s: a %s name for %s (--to %s): name it with %s", out, ext, o.what, to, hint)
}

// convertRecords converts inputs into out (format hf, jsonl or parquet) and returns the
// number of records written.
func convertRecords(inputs []string, out, to string, overwrite bool) (int64, error) {
	var sb table.SchemaBuilder
	var seen *arrow.Schema
	err := eachRecord(inputs, func(rr formats.RowReader, row formats.Row, m map[string]any) error {
		if s := rr.Schema(); s != nil && s != seen {
			// Arrow inputs: their declared types count, even of columns that are all null.
			if err := sb.AddSchema(s); err != nil {
				return err
			}
			seen = s
		}
		return sb.AddRecord(m, row.Keys, row.Order)
	})
	if err != nil {
		return 0, err
	}
	w, err := createTable(out, to, sb.Schema(), overwrite)
	if err != nil {
		return 0, err
	}
	err = eachRecord(inputs, func(_ formats.RowReader, _ formats.Row, m map[string]any) error {
		return w.WriteRecord(m)
	})
	if err != nil {
		w.Abort()
		return 0, err
	}
	return w.Rows(), w.Close()
}

// createTable opens the writer of one output format.
func createTable(out, to string, schema *arrow.Schema, overwrite bool) (table.Writer, error) {
	if to != "hf" && !overwrite {
		if _, err := os.Stat(out); err == nil {
			return nil, fmt.Errorf("%s exists (use --overwrite)", out)
		}
	}
	switch to {
	case "hf":
		return hf.CreateTable(out, schema, hf.Options{Overwrite: overwrite})
	case "parquet":
		return parquet.Create(out, schema)
	}
	return table.CreateJSONL(out, schema)
}

// eachRecord calls fn for every record of inputs, in order; a record that is not a JSON
// object (or not JSON) is an error naming its location.
func eachRecord(inputs []string, fn func(formats.RowReader, formats.Row, map[string]any) error) error {
	for _, in := range inputs {
		if err := eachRecordOf(in, fn); err != nil {
			return err
		}
	}
	return nil
}

func eachRecordOf(in string, fn func(formats.RowReader, formats.Row, map[string]any) error) error {
	rr, err := input.OpenRows(in, formats.Options{})
	if err != nil {
		return err
	}
	defer rr.Close()
	for {
		row, err := rr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		loc := rowLocation(row)
		if row.Err != nil {
			return fmt.Errorf("%s: %v", loc, row.Err)
		}
		m, ok := row.Value.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: record is not a JSON object", loc)
		}
		if err := fn(rr, row, m); err != nil {
			return fmt.Errorf("%s: %w", loc, err)
		}
	}
}
