package main

import (
	"fmt"
	"io"

	"github.com/tokenmill/tokenmill/internal/outdir"
)

// guardOutput prepares a command that writes out from inputs (convert, harmony encode): it
// takes out's lock, refuses an out that overlaps an input or may not be replaced
// (outdir.Check), and removes what killed commands into out left, saying so on stderr. The
// caller releases the lock once out is written.
func guardOutput(out string, inputs []string, kind outdir.Kind, overwrite bool, stderr io.Writer) (*outdir.Lock, error) {
	lk, err := outdir.Acquire(out)
	if err != nil {
		return nil, err
	}
	if err := outdir.Check(out, inputs, kind, overwrite); err != nil {
		lk.Release()
		return nil, err
	}
	removed, err := outdir.Clean(out)
	if len(removed) > 0 {
		fmt.Fprintf(stderr, "removed the temporary files of an earlier run that did not finish: %s\n", outdir.Describe(removed))
	}
	if err != nil {
		lk.Release()
		return nil, fmt.Errorf("output %s: removing the temporary files of an earlier run: %w", out, err)
	}
	return lk, nil
}

// namedWriterErr rewrites an error that names the writer's temporary sibling of out to name
// out.
func namedWriterErr(err error, out string) error {
	return outdir.NameOutput(err, out, outdir.WriterTemp(out))
}
