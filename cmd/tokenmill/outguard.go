package main

import "github.com/tokenmill/tokenmill/internal/outdir"

// namedWriterErr rewrites an error that names the writer's temporary sibling of out to name
// out.
func namedWriterErr(err error, out string) error {
	return outdir.NameOutput(err, out, outdir.WriterTemp(out))
}
