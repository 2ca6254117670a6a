package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/tokenmill/tokenmill/inspect"
)

// inspectHelp is the part of `tokenmill inspect --help` after the summary.
const inspectHelp = `Prints what the data formats document's "Validate All Data" snippets print (columns, number of
examples, the first example) for PATH: a job output directory (manifest.json), a Hugging Face
save_to_disk or DatasetDict directory, a .npy file, or a JSONL (.gz, .zst), JSON array, CSV,
Parquet or text file. For token data the first sequence is decoded back to text with the job's
tokenizer (manifest.json in PATH's directory or the one above) or --tokenizer.
Exit status: 0 on success, 2 when PATH (or part of it) cannot be read.
`

// cmdInspect implements `tokenmill inspect`: the flags, then inspect.Inspect and one of its
// renderers. A part of a job output or DatasetDict that cannot be read is said on stderr and
// makes the exit status 2, after what could be read is printed.
func cmdInspect(args []string, stdout, stderr io.Writer) int {
	c := newCommand("inspect", "[flags] PATH",
		"Show the columns, count and first example (decoded) of a job output, a dataset or a data file.",
		inspectHelp, stdout, stderr)
	fs := c.fs
	tok := fs.String("tokenizer", "", "decode token data with the tokenizer `NAME|PATH` instead of the manifest's")
	full := fs.Bool("full", false, "print whole samples and the whole decoded text")
	asJSON := fs.Bool("json", false, "print one JSON object with the same facts (values never truncated)")
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case fs.NArg() == 0:
		return c.usageError("missing PATH")
	case fs.NArg() > 1:
		return c.usageError("unexpected argument %q: one PATH at a time", fs.Arg(1))
	}
	res, err := inspect.Inspect(fs.Arg(0), inspect.Options{Tokenizer: *tok, Full: *full})
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill inspect:", cannotRead(fs.Arg(0), pathErrorCause(fs.Arg(0), err).Error()))
		return 2
	}
	write := inspect.WriteText
	if *asJSON {
		write = inspect.WriteJSON
	}
	if err := write(stdout, res); err != nil {
		fmt.Fprintln(stderr, "tokenmill inspect:", err)
		return 1
	}
	code := 0
	for _, p := range res.Parts {
		if p.Error != "" {
			fmt.Fprintln(stderr, "tokenmill inspect:", cannotRead(p.Path, p.Error))
			code = 2
		}
	}
	return code
}

// pathErrorCause is the cause of err when err is an *fs.PathError on path itself ("stat PATH:
// no such file or directory"), whose message would name path a second time; err otherwise.
func pathErrorCause(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe.Err
	}
	return err
}

// cannotRead says that path could not be read and why, "cannot read PATH: msg", naming path
// once: without the "PATH: " that msg begins with when it comes from a reader.
func cannotRead(path, msg string) string {
	return fmt.Sprintf("cannot read %s: %s", path, strings.TrimPrefix(msg, path+": "))
}
