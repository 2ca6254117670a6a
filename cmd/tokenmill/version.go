package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// cmdVersion implements `tokenmill version` (and `tokenmill --version`): one line with the
// version and commit the binary was built from.
func cmdVersion(args []string, stdout, stderr io.Writer) int {
	c := newCommand("version", "", "Print the version and commit tokenmill was built from.", "", stdout, stderr)
	if done, code := c.parse(args); done {
		return code
	}
	if c.fs.NArg() > 0 {
		return c.usageError("unexpected argument %q", c.fs.Arg(0))
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(bi))
	return 0
}

// versionLine describes a build from its build info: the main module's version ("(devel)"
// for a build from a checkout; a tag for `go install ...@v1.2.3`), the commit (vcs.revision,
// with "-dirty" when vcs.modified says the checkout had changes) and the Go version, e.g.
// "tokenmill (devel) commit 0123abcd...-dirty go1.26.1". Builds without VCS information (go
// run, -buildvcs=false, a test binary) say "commit unknown".
func versionLine(bi *debug.BuildInfo) string {
	version, commit, goVersion := "(unknown)", "unknown", "unknown"
	if bi != nil {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" {
			commit = rev
			if modified == "true" {
				commit += "-dirty"
			}
		}
	}
	return fmt.Sprintf("tokenmill %s commit %s %s", version, commit, goVersion)
}
