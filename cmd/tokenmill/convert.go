package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/runner"
)

// convertHelp is the part of `tokenmill convert --help` after the summary.
const convertHelp = `INPUT: JSONL (.gz, .zst), a JSON array, Parquet, CSV or an HF save_to_disk / DatasetDict directory.
The records of all inputs, in order, become one dataset: an HF save_to_disk directory, a JSONL
file or a Parquet file. Nested values keep their shape (messages stay a list of structs).
`

// cmdConvert implements `tokenmill convert`, the document's "Converting Between Formats"
// (Dataset.from_list(json.load(f)).save_to_disk, load_dataset("parquet"/"csv")...). It is a
// job of kind convert (convertSpec) run by runner.RunRecords with runner.PublishData: the
// path of `kind: convert` jobs, which writes OUT itself (one JSONL or Parquet file, or an HF
// save_to_disk directory) instead of a job directory, reads the inputs in the order given
// and names them as given. The records are read twice, first to infer one schema as pyarrow
// would (table.SchemaBuilder, shard by shard, merged in order), then to write: two passes
// keep memory bounded, unlike from_list. A record that is not a JSON object, malformed JSON
// or a type clash stops the conversion with the record's location (exit 1): conversion does
// not drop data; run `tokenmill validate` first to find it all. CSV cells stay strings (no
// pandas-style type guessing: "007" is an id, not 7). OUT is refused when it overlaps an
// input, and replaced (--overwrite) only when it is a file or a dataset tokenmill could
// have written (outdir.Check, in the runner).
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
	sum, err := runner.RunRecords(context.Background(), convertSpec(inputs, out, job.ConvertTo(*to), *overwrite),
		runner.Options{Logger: commandLogger(stderr), Publish: runner.PublishData})
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill convert:", namedWriterErr(err, out))
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d records\n", out, sum.Records.Records)
	return 0
}

// convertJobName names the jobs of `tokenmill convert` (in shard ids and temporary names).
const convertJobName = "convert"

// convertSpec is the convert job of `tokenmill convert INPUT... --to TO OUT`. A directory
// INPUT is an HF dataset (format hf): convert reads datasets, not the files of any
// directory, which a job's format auto would list.
func convertSpec(inputs []string, out string, to job.ConvertTo, overwrite bool) *job.Spec {
	spec := job.DefaultSpec()
	spec.Kind, spec.Name, spec.To = job.KindConvert, convertJobName, to
	for _, in := range inputs {
		e := job.DefaultInput(in)
		if fi, err := os.Stat(in); err == nil && fi.IsDir() {
			e.Format = job.FormatHF
		}
		spec.Inputs = append(spec.Inputs, e)
	}
	spec.Output.Dir, spec.Output.Overwrite = out, overwrite
	return spec
}

// commandLogger is the log of a command that runs a job for the user (convert, validate):
// warnings and what it removed on stderr, as `tokenmill run` logs them.
func commandLogger(stderr io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
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
