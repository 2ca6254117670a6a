package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tokenmill/tokenmill/internal/outdir"
)

// cleanHelp is the part of `tokenmill clean --help` after the summary.
const cleanHelp = `Removes what runs into the output OUT left behind when they were killed: the hidden
temporary directories beside OUT (.OUT.tmp-JOB, .OUT.old-JOB, .OUT.tmp) and OUT/.staging.
OUT itself is left as it is. A run removes them too when it starts; clean does it on demand.
It takes OUT's lock, so it refuses while a run is writing OUT.
`

// cmdClean implements `tokenmill clean OUT`: outdir.Clean under the output's lock, printing
// each path it removed with its size.
func cmdClean(args []string, stdout, stderr io.Writer) int {
	c := newCommand("clean", "OUT",
		"Remove the temporary files that killed runs left beside the output OUT.", cleanHelp, stdout, stderr)
	fs := c.fs
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case fs.NArg() == 0:
		return c.usageError("missing OUT")
	case fs.NArg() > 1:
		return c.usageError("unexpected argument %q: one OUT at a time", fs.Arg(1))
	}
	out := fs.Arg(0)
	if err := cleanOutput(out, stdout); err != nil {
		fmt.Fprintln(stderr, "tokenmill clean:", err)
		return 1
	}
	return 0
}

func cleanOutput(out string, stdout io.Writer) error {
	r, err := outdir.Resolve(out)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Dir(r)); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stdout, "%s: nothing to clean\n", out)
		return nil
	}
	lock, err := outdir.Acquire(out)
	if err != nil {
		return err
	}
	defer lock.Release()
	removed, err := outdir.Clean(out)
	for _, l := range removed {
		fmt.Fprintf(stdout, "removed %s (%d bytes)\n", l.Path, l.Bytes)
	}
	if err == nil && len(removed) == 0 {
		fmt.Fprintf(stdout, "%s: nothing to clean\n", out)
	}
	return err
}
