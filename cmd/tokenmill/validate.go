package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/tokenmill/tokenmill/formats"
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

const validateUsage = `usage: tokenmill validate --stage STAGE [--tokenizer T] [--json] [--max-errors N] PATH...
       tokenmill validate --layout DIR [--tokenizer T] [--json] [--max-errors N]

STAGE: pretrain | sft | dpo | lora | rust-lang | rust-agent | mutations | ipo | grpo | eval
PATH:  an HF save_to_disk or DatasetDict directory, JSONL (.gz, .zst), a JSON array, Parquet, CSV
exit:  0 all records valid, 1 some invalid, 2 an input could not be read
`

// cmdValidate implements `tokenmill validate`: it checks every record of the inputs against
// the rules of one stage of the data formats document (validate.Check) and prints a summary.
func cmdValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stageName := fs.String("stage", "", "the pipeline `stage` whose rules apply")
	tokName := fs.String("tokenizer", "", "tokenizer `NAME|PATH` whose vocabulary bounds pretraining token ids")
	asJSON := fs.Bool("json", false, "print one JSON object instead of the human summary")
	maxErrors := fs.Int("max-errors", 20, "show the first `N` errors (negative: all)")
	layout := fs.String("layout", "", "check a whole data `DIR` laid out as the data formats document says")
	fs.Usage = func() { fmt.Fprint(stderr, validateUsage); fs.PrintDefaults() }
	if err := fs.Parse(interleaveFlags(fs, args)); err != nil {
		return exitUnreadable
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
		if *stageName != "" || fs.NArg() > 0 {
			fs.Usage()
			return exitUnreadable
		}
		return validateLayout(*layout, opt, *maxErrors, *asJSON, out, stderr)
	}
	if *stageName == "" || fs.NArg() == 0 {
		fs.Usage()
		return exitUnreadable
	}
	stage, err := validate.ParseStage(*stageName)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill validate:", err)
		return exitUnreadable
	}
	rep := validate.NewReport(stage, *maxErrors)
	code := exitValid
	for _, path := range fs.Args() {
		if err := validateInput(rep, stage, path, opt); err != nil {
			fmt.Fprintln(stderr, "tokenmill validate:", err)
			code = exitUnreadable
		}
	}
	if *asJSON {
		out.Write(rep.JSON())
		out.WriteByte('\n')
	} else {
		rep.WriteText(out)
	}
	return worse(code, reportStatus(rep))
}

// reportStatus is the exit status a report alone calls for.
func reportStatus(rep *validate.Report) int {
	if rep.Invalid() > 0 {
		return exitInvalid
	}
	return exitValid
}

// worse returns the more severe of two exit statuses (unreadable > invalid > valid).
func worse(a, b int) int { return max(a, b) }

// validateInput checks every record of one input into rep. It returns an error when the input
// cannot be opened or breaks off (records read before that stay counted).
func validateInput(rep *validate.Report, stage validate.Stage, path string, opt validate.Options) error {
	rr, err := formats.OpenRows(path, formats.Options{})
	if err != nil {
		return err
	}
	defer rr.Close()
	return validate.CheckRows(context.Background(), rep, stage, rr, opt)
}

// rowLocation is where a record was found: "file:line" for line-oriented inputs, "file:row N"
// for tabular ones.
func rowLocation(row formats.Row) string { return validate.Locate(row) }
