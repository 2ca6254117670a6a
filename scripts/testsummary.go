//go:build ignore

// Command testsummary reads `go test -json` on stdin and prints what `go test` prints without
// -json: each package's ok/FAIL line, the output of failed tests, build errors. At the end it
// prints one line counting the skipped tests, then one line per skipped test with the reason
// it gave (a missing tool such as NumPy, a CPU feature), so that a test that did not run is
// seen. The entries of a fuzz target's corpus that skip themselves are not counted: they skip
// by design. `make test` runs it: go test ... -json | go run scripts/testsummary.go. The exit
// status is go test's business (the Makefile keeps it); this filter exits 0.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skipped is one skipped test and why.
type skipped struct {
	pkg, test, reason string
}

// line is one output line of a test, kept until its top-level test ends.
type line struct {
	test, text string
}

// summary holds the output of the tests still running, by package and top-level test.
type summary struct {
	out     io.Writer
	running map[string][]line   // package + " " + top-level test -> its and its subtests' lines
	lines   map[string][]string // package + " " + test -> the test's own lines
	skips   []skipped
}

func main() {
	s := &summary{out: os.Stdout, running: map[string][]line{}, lines: map[string][]string{}}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		s.line(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
	}
	s.printSkips()
}

// line handles one line of input; a line that is not a test2json event is printed as it is.
func (s *summary) line(b []byte) {
	var e event
	if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &e) != nil {
		fmt.Fprintf(s.out, "%s\n", b)
		return
	}
	top, _, _ := strings.Cut(e.Test, "/")
	key, own := e.Package+" "+top, e.Package+" "+e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.out, e.Output)
	case e.Action == "output" && e.Test == "":
		if e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
			fmt.Fprint(s.out, e.Output)
		}
	case e.Action == "output":
		if !strings.HasPrefix(e.Output, "=== ") {
			s.running[key] = append(s.running[key], line{e.Test, e.Output})
			s.lines[own] = append(s.lines[own], e.Output)
		}
	case e.Test == "":
	case e.Action == "skip":
		if !(strings.HasPrefix(top, "Fuzz") && top != e.Test) {
			s.skips = append(s.skips, skipped{e.Package, e.Test, reason(s.lines[own])})
		}
		s.done(key, own, e.Test, top == e.Test, false)
	case e.Action == "fail":
		s.done(key, own, e.Test, top == e.Test, true)
	case e.Action == "pass":
		s.done(key, own, e.Test, top == e.Test, false)
	}
}

// done forgets a finished test: a failed top-level test's output is printed first; a
// subtest that passed or skipped leaves nothing for its parent to print, as without -json.
func (s *summary) done(key, own, test string, top, failed bool) {
	delete(s.lines, own)
	if !top {
		if !failed {
			s.running[key] = slices.DeleteFunc(s.running[key], func(l line) bool {
				return l.test == test || strings.HasPrefix(l.test, test+"/")
			})
		}
		return
	}
	if failed {
		for _, l := range s.running[key] {
			fmt.Fprint(s.out, l.text)
		}
	}
	delete(s.running, key)
}

// reason is what a skipped test logged, without the "--- SKIP" line and the file:line
// prefixes: "NumPy not available (...); install python3-numpy".
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		if i := strings.Index(l, ".go:"); i >= 0 {
			if j := strings.Index(l[i:], ": "); j >= 0 {
				l = l[i+j+2:]
			}
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "no reason given"
	}
	return strings.Join(parts, "; ")
}

// printSkips prints the count of skipped tests and each with its reason.
func (s *summary) printSkips() {
	if len(s.skips) == 0 {
		return
	}
	noun := "tests"
	if len(s.skips) == 1 {
		noun = "test"
	}
	fmt.Fprintf(s.out, "\n%d %s skipped:\n", len(s.skips), noun)
	for _, k := range s.skips {
		fmt.Fprintf(s.out, "  %s %s: %s\n", k.pkg, k.test, k.reason)
	}
}
