package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
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
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workers := fs.Int("workers", runtime.NumCPU(), "shards executed at once")
	progress := fs.String("progress", "auto", "progress display: auto (bar on a terminal, else lines), bar, lines, none")
	interval := fs.Duration("progress-interval", 0, "time between progress updates (default 200ms for the bar, 5s for lines)")
	verbose := fs.Bool("v", false, "log debug messages")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to `FILE` (go tool pprof)")
	memprofile := fs.String("memprofile", "", "write an allocation profile of the run to `FILE` at its end (go tool pprof)")
	ov := job.BindFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tokenmill run [JOB.yaml] [--workers N] [--overwrite] [job flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(interleaveFlags(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sum, err := runner.Run(ctx, spec, opt)
	if err != nil {
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
