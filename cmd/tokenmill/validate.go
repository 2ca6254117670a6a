package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/input"
	"github.com/tokenmill/tokenmill/tokenizer"
	"github.com/tokenmill/tokenmill/validate"
)

// Exit statuses of `tokenmill validate` (and check-lora), as the issue fixes them.
const (
	exitValid      = 0 // every record passed
	exitInvalid    = 1 // some record broke a rule
	exitUnreadable = 2 // an input could not be read (or bad usage)
)

// msgMalformed is the issue of a record that is not JSON at all (see validate.MsgMalformed).
const msgMalformed = validate.MsgMalformed

// validateHelp is the part of `tokenmill validate --help` after the summary.
const validateHelp = `STAGE: pretrain | sft | dpo | lora | rust-lang | rust-agent | mutations | ipo | grpo | eval
PATH:  an HF save_to_disk or DatasetDict directory, JSONL (.gz, .zst), a JSON array, Parquet, CSV,
       or a directory of such files
exit:  0 all records valid, 1 some invalid, 2 an input could not be read (or bad usage)
`

// cmdValidate implements `tokenmill validate`: it checks every record of the inputs against
// the rules of one stage of the data formats document (validate.Check) and prints a summary.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	c := newCommand("validate", "--stage STAGE [flags] PATH...\n"+
		"       tokenmill validate --layout DIR [flags]\n"+
		"       tokenmill validate --rules [--stage STAGE]",
		"Check every record of the inputs against the rules of one stage of the data formats document.",
		validateHelp, stdout, stderr)
	fs := c.fs
	stageName := fs.String("stage", "", "the pipeline `STAGE` whose rules apply")
	tokName := fs.String("tokenizer", "", "tokenizer `NAME|PATH` whose vocabulary bounds pretraining token ids")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the human summary")
	maxErrors := fs.Int("max-errors", 20, "show the first `N` errors (negative: all)")
	layout := fs.String("layout", "", "check a whole data `DIR` laid out as the data formats document says")
	rules := fs.Bool("rules", false, "print the rules and messages of --stage (of every stage without it) and exit")
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case *rules && *layout != "":
		return c.usageError("--rules and --layout exclude each other")
	case *rules && fs.NArg() > 0:
		return c.usageError("--rules takes no PATH, got %q", fs.Arg(0))
	case *rules:
	case *layout != "" && *stageName != "":
		return c.usageError("--layout and --stage exclude each other (a layout's directories name their stages)")
	case *layout != "" && fs.NArg() > 0:
		return c.usageError("--layout takes no PATH, got %q", fs.Arg(0))
	case *layout != "":
	case *stageName == "":
		return c.usageError("--stage is required")
	case fs.NArg() == 0:
		return c.usageError("missing PATH")
	}
	if *stageName != "" {
		if _, err := validate.ParseStage(*stageName); err != nil {
			return c.usageError("--stage: %v", err)
		}
	}
	if *rules {
		return printRules(*stageName, stdout, stderr)
	}
	var opt validate.Options
	if *tokName != "" {
		tk, err := tokenizer.Load(*tokName)
		if err != nil {
			fmt.Fprintln(stderr, "tokenmill validate:", err)
			return exitUnreadable
		}
		opt.VocabSize = tk.VocabSize()
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if *layout != "" {
		return validateLayout(*layout, opt, *maxErrors, *asJSON, out, stderr)
	}
	stage, err := validate.ParseStage(*stageName)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill validate:", err)
		return exitUnreadable
	}
	return validatePaths(stage, fs.Args(), opt, *maxErrors, *asJSON, out, stderr)
}

// validatePaths checks the records of every path against stage and prints the report. A path
// that is a directory but not an HF dataset is a directory of files: the record files and HF
// datasets under it are validated in its place, and the report says which (see dirInputs).
func validatePaths(stage validate.Stage, paths []string, opt validate.Options, maxErrors int, asJSON bool, out, stderr io.Writer) int {
	rep := validate.NewReport(stage, maxErrors)
	var inputs []string
	expanded := false
	for _, path := range paths {
		files, skipped, err := dirInputs(path)
		switch {
		case err != nil:
			rep.AddReadError(validate.ReadError{File: path, Message: err.Error()})
			fmt.Fprintln(stderr, "tokenmill validate:", err)
			continue
		case files == nil:
			files = []string{path}
		default:
			expanded = true
			if !asJSON {
				writeDirInputs(out, path, files, skipped)
			}
		}
		inputs = append(inputs, files...)
		for _, in := range files {
			if err := validateInput(rep, stage, in, opt); err != nil {
				fmt.Fprintln(stderr, "tokenmill validate:", err)
			}
		}
	}
	if asJSON {
		if expanded {
			rep.SetInputs(inputs)
		}
		out.Write(rep.JSON())
		io.WriteString(out, "\n")
	} else {
		rep.WriteText(out)
	}
	return reportStatus(rep)
}

// dirInputs returns the inputs to validate in place of path when path is a directory of files
// (not an HF dataset): the record files and HF datasets under it (see stageInputs), and the
// other files it passed over. files is nil for any other path, which is validated itself. A
// directory of files that holds no input is an error.
func dirInputs(path string) (files, skipped []string, err error) {
	fi, err := os.Stat(path)
	if err != nil || !fi.IsDir() || formats.IsHFDir(path) {
		return nil, nil, nil // validateInput reports the path's own error
	}
	files, skipped, err = stageInputs(path)
	if err != nil {
		return nil, nil, err
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("%s is a directory with no record files (%s) and no HF dataset", path, recordFileKinds)
	}
	return files, skipped, nil
}

// writeDirInputs says which files of the directory dir are validated, and which are not.
func writeDirInputs(out io.Writer, dir string, files, skipped []string) {
	fmt.Fprintf(out, "%s: a directory of files; validating %d: %s\n", dir, len(files), strings.Join(relTo(dir, files), ", "))
	if len(skipped) > 0 {
		fmt.Fprintf(out, "%s: not record files, skipped: %s\n", dir, strings.Join(relTo(dir, skipped), ", "))
	}
}

// relTo returns paths relative to dir (they lie under it).
func relTo(dir string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if r, err := filepath.Rel(dir, p); err == nil {
			p = r
		}
		out[i] = p
	}
	return out
}

// printRules prints the rules of the stage named stageName, or of every stage when it is
// empty (see validate.WriteRules).
func printRules(stageName string, stdout, stderr io.Writer) int {
	stages := validate.Stages()
	if stageName != "" {
		st, err := validate.ParseStage(stageName)
		if err != nil {
			fmt.Fprintln(stderr, "tokenmill validate:", err)
			return exitUnreadable
		}
		stages = []validate.Stage{st}
	}
	if err := validate.WriteRules(stdout, stages); err != nil {
		fmt.Fprintln(stderr, "tokenmill validate:", err)
		return exitUnreadable
	}
	return exitValid
}

// reportStatus is the exit status a report alone calls for.
func reportStatus(rep *validate.Report) int {
	if !rep.Complete() {
		return exitUnreadable
	}
	if rep.Invalid() > 0 {
		return exitInvalid
	}
	return exitValid
}

// worse returns the more severe of two exit statuses (unreadable > invalid > valid).
func worse(a, b int) int { return max(a, b) }

// validateInput checks every record of one input (a file, or an HF directory) into rep. An
// input that cannot be opened, or breaks off, is added to rep as a validate.ReadError saying
// where reading stopped (the records read before stay counted), and its error is returned.
func validateInput(rep *validate.Report, stage validate.Stage, path string, opt validate.Options) error {
	rr, err := input.OpenRows(path, formats.Options{})
	if err != nil {
		rep.AddReadError(validate.ReadError{File: path, Message: err.Error()})
		return err
	}
	defer rr.Close()
	tr := &trackedRows{RowReader: rr}
	if err := validate.CheckRows(context.Background(), rep, stage, tr, opt); err != nil {
		rep.AddReadError(tr.readError(path, err))
		return err
	}
	return nil
}

// trackedRows is a RowReader that counts its rows and remembers where the last one was found.
type trackedRows struct {
	formats.RowReader
	n         int
	line, row int64
}

func (t *trackedRows) Next() (formats.Row, error) {
	row, err := t.RowReader.Next()
	if err == nil {
		t.n++
		t.line, t.row = row.Line, row.Row
	}
	return row, err
}

// readError is the ReadError of input path, read through t until err: reading stopped at the
// line after the last row of a line-oriented input, at the row after it of a tabular one. A
// directory gets no position (its rows are numbered per file).
func (t *trackedRows) readError(path string, err error) validate.ReadError {
	e := validate.ReadError{File: path, Records: t.n, Message: err.Error()}
	if fi, serr := os.Stat(path); serr == nil && fi.IsDir() {
		return e
	}
	switch {
	case t.n > 0 && t.line > 0:
		e.Line = t.line + 1
	case t.n > 0:
		next := t.row + 1
		e.Row = &next
	case lineOriented(path):
		e.Line = 1
	default:
		e.Row = new(int64)
	}
	return e
}

// lineOriented reports whether path names a file whose records are lines (JSONL, CSV),
// compressed or not: where no record was read, the name is all there is to go by.
func lineOriented(path string) bool {
	f, _, known := formats.DetectName(filepath.Base(path))
	return known && (f == formats.FormatJSONL || f == formats.FormatCSV)
}

// rowLocation is where a record was found: "file:line" for line-oriented inputs, "file:row N"
// for tabular ones.
func rowLocation(row formats.Row) string { return validate.Locate(row) }
