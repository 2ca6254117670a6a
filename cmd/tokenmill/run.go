package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/runner"
)

// cmdRun implements `tokenmill run [JOB.yaml] [flags]`: plan, execute on --workers
// goroutines, finalize, with progress on stderr (a bar on a terminal, plain lines otherwise)
// and a summary table on stdout. Every job key is also a flag (job.BindFlags); flags win.
func cmdRun(args []string, stdout, stderr io.Writer) int {
	c := newCommand("run", "[JOB.yaml] [flags]",
		"Run a job: read, validate, tokenize and pack the inputs into length buckets (or validate or\nconvert records, by the job's kind).",
		runHelp, stdout, stderr)
	fs := c.fs
	workers := fs.Int("workers", runtime.NumCPU(), "shards executed at once (at least 1)")
	progress := fs.String("progress", "auto", "progress `MODE`: auto (bar on a terminal, else lines), bar, lines, none")
	interval := fs.Duration("progress-interval", 0, "`DURATION` between progress updates (default 200ms for the bar, 5s for lines)")
	verbose := fs.Bool("v", false, "log debug messages")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	memprofile := fs.String("memprofile", "", "write an allocation profile of the run to `FILE` at its end (go tool pprof)")
	var ov *job.Overrides
	jobFlags := c.section("job flags (each sets the job key in brackets, over JOB.yaml)", func() { ov = job.BindFlags(fs) })
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case fs.NArg() > 1:
		return c.usageError("unexpected argument %q: one JOB.yaml at most", fs.Arg(1))
	case fs.NArg() == 0 && !c.anySet(jobFlags):
		return c.usageError("missing JOB.yaml (or job flags such as --input and --tokenizer)")
	}
	if ok, code := c.positiveInt("workers", *workers); !ok {
		return code
	}
	switch *progress {
	case "auto", "bar", "lines", "none":
	default:
		return c.usageError("--progress: %q is not one of auto, bar, lines, none", *progress)
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	spec, err := loadSpec(fs.Arg(0), ov)
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill run:", err)
		return 1
	}
	opt := runner.Options{Workers: *workers, Logger: log}
	opt.Progress, opt.ProgressInterval = progressPrinter(*progress, stderr)
	if *interval > 0 {
		opt.ProgressInterval = *interval
	}
	if *cpuprofile != "" {
		stopProfile, err := startCPUProfile(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "tokenmill run:", err)
			return 1
		}
		defer stopProfile()
	}
	if *memprofile != "" {
		// Every allocation is sampled: the profile is for finding where memory comes from,
		// and a run is short enough for the cost.
		runtime.MemProfileRate = 1
		defer writeMemProfile(*memprofile, stderr)
	}
	ctx, received, stop := signalContext(context.Background())
	defer stop()
	sum, err := runner.Run(ctx, spec, opt)
	if err != nil {
		if sig := received(); sig != nil {
			fmt.Fprintf(stderr, "tokenmill run: stopped by %s; nothing was published\n", sig)
			return signalExit(sig)
		}
		fmt.Fprintln(stderr, "tokenmill run: job failed:", err)
		return 1
	}
	runner.WriteSummary(stdout, sum)
	if m := sum.Records; m != nil {
		// Validate and convert jobs exit as `tokenmill validate` does, without the unreadable
		// case: 1 when some record is invalid (the report is still written: the run itself
		// succeeded).
		fmt.Fprintf(stdout, "\noutput: %s (%s, manifest.json, run.json)\n", spec.Output.Dir, strings.Join(m.Outputs, ", "))
		if m.Invalid != nil && *m.Invalid > 0 {
			return 1
		}
		return 0
	}
	fmt.Fprintf(stdout, "\noutput: %s (manifest.json, rejects.jsonl, run.json)\n", spec.Output.Dir)
	return 0
}

// startCPUProfile starts a CPU profile into path; the returned function stops it and closes
// the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// writeMemProfile writes the allocation profile (every allocation since the start, with the
// heap in use at the last collection) to path.
func writeMemProfile(path string, stderr io.Writer) {
	runtime.GC() // the profile holds what the last collection saw
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill run: memory profile:", err)
	}
}

// loadSpec loads the job file (or starts from the defaults), applies the flags and validates
// (job.Load): relative paths of the file resolve against its directory, those of the flags
// against the current directory.
func loadSpec(path string, ov *job.Overrides) (*job.Spec, error) {
	return job.Load(path, ov)
}

// runHelp is the part of `tokenmill run --help` after the summary.
const runHelp = `JOB.yaml is a job file (README: "A job"); without one, the job flags make the whole job.
SIGINT (Ctrl-C) or SIGTERM stops the run, removes its temporary files and publishes
nothing; the exit status is then 130 or 143.
exit:  0 done, 1 the job failed (or, for a validate job, some record is invalid),
       2 bad usage, 130/143 stopped by SIGINT/SIGTERM
`

// progressPrinter picks the progress display for mode.
func progressPrinter(mode string, w io.Writer) (func(runner.Snapshot), time.Duration) {
	width, tty := 0, false
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
		if wd, _, err := term.GetSize(int(f.Fd())); err == nil {
			width = wd
		}
	}
	if width <= 0 {
		width = 100
	}
	switch {
	case mode == "none":
		return nil, 0
	case mode == "bar" || mode == "auto" && tty:
		return runner.BarPrinter(w, width), 200 * time.Millisecond
	default:
		return runner.LinePrinter(w), 5 * time.Second
	}
}
