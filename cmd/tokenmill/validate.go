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
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/runner"
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
// the rules of one stage of the data formats document and prints the report, writing no
// file. The checking is a `kind: validate` job's (validateFiles); the command adds what a
// job does not do: a directory of files is validated as the record files under it
// (dirInputs), --layout checks each stage directory of a data tree by its own rules, and an
// input that cannot be read to its end is reported (exit 2) rather than failing the run.
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
	var tk *tokenizer.Tokenizer
	if *tokName != "" {
		var err error
		if tk, err = tokenizer.Load(*tokName); err != nil {
			fmt.Fprintln(stderr, "tokenmill validate:", err)
			return exitUnreadable
		}
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	if *layout != "" {
		return validateLayout(*layout, tk, *maxErrors, *asJSON, out, stderr)
	}
	stage, err := validate.ParseStage(*stageName)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill validate:", err)
		return exitUnreadable
	}
	return validatePaths(stage, fs.Args(), tk, *maxErrors, *asJSON, out, stderr)
}

// validatePaths checks the records of every path against stage and prints the report. A path
// that is a directory but not an HF dataset is a directory of files: the record files and HF
// datasets under it are validated in its place, and the report says which (see dirInputs).
func validatePaths(stage validate.Stage, paths []string, tk *tokenizer.Tokenizer, maxErrors int, asJSON bool, out, stderr io.Writer) int {
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
		r, err := validateFiles(stage, files, tk, maxErrors, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "tokenmill validate:", err)
			return exitUnreadable
		}
		rep.Merge(r)
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

// validateFiles checks every record of files (record files and HF directories), in order,
// against stage (tk, when not nil, bounds pretraining token ids): a job of kind validate (validateSpec) run by runner.RunRecords with
// runner.PublishNothing, the path of `kind: validate` jobs, which returns the report instead
// of publishing report.json and report.txt. An input that cannot be opened, or breaks off, is
// a read error of the report saying where reading stopped (the records read before stay
// counted), and is said on stderr; the other inputs are still read. The error is one of the
// run itself (a spec the job path refuses), not of an input.
func validateFiles(stage validate.Stage, files []string, tk *tokenizer.Tokenizer, maxErrors int, stderr io.Writer) (*validate.Report, error) {
	sum, err := runner.RunRecords(context.Background(), validateSpec(stage, files, maxErrors),
		runner.Options{Logger: commandLogger(stderr), Publish: runner.PublishNothing, Tokenizer: tk})
	if err != nil {
		return nil, err
	}
	rep := sum.Records.Report
	for _, e := range rep.ReadErrors() {
		fmt.Fprintln(stderr, "tokenmill validate:", e.Message)
	}
	return rep, nil
}

// validateJobName names the jobs of `tokenmill validate` (in shard ids).
const validateJobName = "validate"

// validateSpec is the validate job of `tokenmill validate --stage STAGE FILE...`: it has no
// output (runner.PublishNothing).
func validateSpec(stage validate.Stage, files []string, maxErrors int) *job.Spec {
	spec := job.DefaultSpec()
	spec.Kind, spec.Name, spec.Stage, spec.MaxErrors = job.KindValidate, validateJobName, string(stage), maxErrors
	for _, f := range files {
		spec.Inputs = append(spec.Inputs, job.DefaultInput(f))
	}
	spec.Output.Dir = ""
	return spec
}

// rowLocation is where a record was found: "file:line" for line-oriented inputs, "file:row N"
// for tabular ones.
func rowLocation(row formats.Row) string { return validate.Locate(row) }
