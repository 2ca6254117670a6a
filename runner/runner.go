package runner

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenmill/tokenmill/formats/parquet"
	"github.com/tokenmill/tokenmill/internal/outdir"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/planner"
	"github.com/tokenmill/tokenmill/shard"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// Options configure Run. The zero value uses every core and reports nothing.
type Options struct {
	// Workers is the number of shards executed at once; <= 0 means runtime.NumCPU().
	Workers int
	// BaseDir is the directory the spec's relative paths (inputs, output.dir, a tokenizer
	// file) resolve against, as job.Spec.ResolvePaths does; "" is the current directory. The
	// CLI's specs (job.Load) arrive with absolute paths already.
	BaseDir string
	// BatchBytes is the text of the batches a shard hands to the idle workers of the
	// shard.TokenizePool; 0 means shard.BatchBytes.
	BatchBytes int
	// Progress, when not nil, is called every ProgressInterval while shards run, and once
	// more when they are done.
	Progress         func(Snapshot)
	ProgressInterval time.Duration
	// Logger receives warnings and phase messages; nil means slog.Default().
	Logger *slog.Logger
	// Publish says what a validate or convert job leaves behind (see Publish); the zero
	// value, PublishDir, is a job's. Pretraining jobs publish their directory whatever it says.
	Publish Publish
	// StageMemory is the budget, in bytes, of the staged rows a pretraining run holds in
	// memory (shard.MemStage): the rows of the shards that finish before those ahead of them
	// in plan order wait there to be copied into the outputs, and go to the staging area on
	// disk beyond it. 0 means shard.DefaultStageMemory; below 0, every staged row goes to disk.
	StageMemory int64
	// Tokenizer, when not nil, is the job's tokenizer, already loaded: a command that runs
	// several jobs with one tokenizer (`tokenmill validate` over several paths) loads it once.
	Tokenizer *tokenizer.Tokenizer
}

// Summary is what a successful run did. Exactly one of Manifest and Records is set, by the
// job's kind.
type Summary struct {
	// Manifest is the manifest of a pretraining job.
	Manifest *shard.Manifest
	// Records is the manifest of a validate or convert job. A validate run succeeds whatever
	// its records: Records.Invalid (and Records.Report) say whether they passed.
	Records *shard.RecordsManifest
	Run     RunInfo
}

// RunInfo is out/run.json: what varies between runs of the same job.
type RunInfo struct {
	Started         time.Time `json:"started"`
	Host            string    `json:"host"`
	Workers         int       `json:"workers"`
	Shards          int       `json:"shards"`
	InputBytes      int64     `json:"input_bytes"`
	PlanSeconds     float64   `json:"plan_seconds"`
	ExecuteSeconds  float64   `json:"execute_seconds"`
	FinalizeSeconds float64   `json:"finalize_seconds"`
	TotalSeconds    float64   `json:"total_seconds"`
	TokensPerSecond float64   `json:"tokens_per_second"` // written tokens / execute time
	// TokenizerSeconds is the part of the plan time spent loading the tokenizer.
	TokenizerSeconds float64 `json:"tokenizer_load_seconds"`
	// Stages break execute and finalize down, in seconds summed over the workers (so they
	// can exceed the wall times above).
	Stages Stages `json:"stages"`
	// StagingBytes is what the shards staged (rows and rejects), in memory or on disk.
	StagingBytes int64 `json:"staging_bytes"`
	// StagingMemoryBytes are the staged rows that stayed in memory, StagingSpilledBytes
	// those that went to disk for want of room in Options.StageMemory, and
	// StagingMemoryPeak the memory that held them.
	StagingMemoryBytes  int64 `json:"staging_memory_bytes"`
	StagingSpilledBytes int64 `json:"staging_spilled_bytes"`
	StagingMemoryPeak   int64 `json:"staging_memory_peak"`
	// Warnings are shard.Warnings of a pretraining job: empty buckets, tails of more than
	// half a split dropped, val outputs of val_fraction 0. WriteSummary prints them.
	Warnings []string `json:"warnings"`
}

// Stages is where the time of execute and finalize went.
type Stages struct {
	Execute  shard.Timings         `json:"execute"`
	Finalize shard.FinalizeTimings `json:"finalize"`
}

// Run runs the job spec (validated) to completion and publishes its output. Validate and
// convert jobs go to RunRecords; pretraining jobs are run here.
func Run(ctx context.Context, spec *job.Spec, opt Options) (sum *Summary, err error) {
	if spec.Kind == job.KindValidate || spec.Kind == job.KindConvert {
		return RunRecords(ctx, spec, opt)
	}
	opt.Publish = PublishDir
	p, err := prepare(spec, opt)
	if err != nil {
		return nil, err
	}
	defer p.release(&err)
	spec = p.spec
	tk, info, inputs, shards, workers := p.tk, p.info, p.inputs, p.shards, p.workers
	fr, err := shard.NewFraming(spec, tk)
	if err != nil {
		return nil, err
	}
	for _, w := range fr.Warnings(spec) {
		p.log.Warn(w)
	}

	outExisted := exists(spec.Output.Dir)
	staging := shard.StagingDir(spec.Output.Dir, spec.Name)
	if err := os.RemoveAll(staging); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			cleanup(staging, spec.Output.Dir, outExisted)
		}
	}()
	budget := opt.StageMemory
	if budget == 0 {
		budget = shard.DefaultStageMemory
	}
	// The staged rows of shards that finish out of plan order wait in memory, up to budget:
	// the Assembler copies them from there, in this process.
	mem := shard.NewMemStage(budget)
	env := shard.Env{Job: spec, Tokenizer: tk, StagingDir: staging, Progress: &shard.Progress{},
		Pool: shard.NewTokenizePool(workers, opt.BatchBytes), MemStage: mem}
	// The assembler appends each shard's rows to the outputs as soon as the shards before it
	// are done, beside the running shards; Finish then does what is left.
	asm, err := shard.NewAssembler(ctx, spec, len(shards), shard.FinalizeEnv{OutDir: spec.Output.Dir,
		StagingDir: staging, Tokenizer: tk, Inputs: inputs, Overwrite: spec.Output.Overwrite, Workers: workers,
		RunInfo: &info, Timings: &info.Stages.Finalize, Warnings: &info.Warnings, MemStage: mem})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			asm.Abort()
		}
	}()
	// A shard next in plan order writes its rows straight into the outputs.
	env.Lease = asm.Lease
	t0 := time.Now()
	results, err := execute(ctx, shards, env, workers, opt, info.InputBytes, shard.Execute, asm.Add)
	if err != nil {
		return nil, err
	}
	info.ExecuteSeconds = time.Since(t0).Seconds()
	var written int64
	for _, r := range results {
		written += r.Tokens.Train + r.Tokens.Val
		info.Stages.Execute.Add(r.Timings)
		info.StagingBytes += r.StagedBytes()
	}
	st := mem.Stats()
	info.StagingMemoryBytes, info.StagingSpilledBytes, info.StagingMemoryPeak = st.Kept, st.Spilled, st.Peak
	if info.ExecuteSeconds > 0 {
		info.TokensPerSecond = float64(written) / info.ExecuteSeconds
	}
	t1 := time.Now()
	m, err := asm.Finish(ctx, results)
	if err != nil {
		return nil, err
	}
	info.FinalizeSeconds = time.Since(t1).Seconds()
	info.TotalSeconds = time.Since(info.Started).Seconds()
	// run.json is informational: rewritten with the finalize time after the publish.
	if err := writeRunInfo(filepath.Join(spec.Output.Dir, "run.json"), &info); err != nil {
		p.log.Warn("updating run.json", "err", err)
	}
	return &Summary{Manifest: m, Run: info}, nil
}

// prepared is what every kind of run does before executing its shards: the spec checked,
// the tokenizer loaded (when the job names one), the inputs listed and planned.
type prepared struct {
	spec    *job.Spec    // the caller's, with its paths resolved against Options.BaseDir
	out     string       // the output directory, resolved
	lock    *outdir.Lock // held until release
	log     *slog.Logger
	workers int
	info    RunInfo
	tk      *tokenizer.Tokenizer // nil when the job names no tokenizer
	inputs  []shard.Input
	shards  []shard.Spec
}

// prepare makes the spec's paths absolute (on a copy), validates it, takes the output's lock
// (refusing a second run into the same output), refuses an output that overlaps an input or
// that may not be replaced (outdir.Check), removes the leftovers of earlier runs that were
// killed, loads the tokenizer, lists and plans the inputs, and starts the run's facts (info).
// The caller calls release when the run is over, published or failed. The other ways of
// publishing (opt.Publish) keep the paths as given, and PublishNothing has no output to
// check or lock; their inputs are listed and planned by entriesOf.
func prepare(spec *job.Spec, opt Options) (p *prepared, err error) {
	spec = spec.Clone()
	if opt.Publish == PublishDir {
		if err := spec.ResolvePaths(opt.BaseDir); err != nil {
			return nil, err
		}
	}
	p = &prepared{spec: spec, out: spec.Output.Dir, log: opt.Logger, workers: opt.Workers}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.workers <= 0 {
		p.workers = runtime.NumCPU()
	}
	p.info = RunInfo{Started: time.Now().UTC(), Workers: p.workers}
	p.info.Host, _ = os.Hostname()
	if err := validateSpec(spec, opt.Publish); err != nil {
		return nil, err
	}
	if opt.Publish != PublishNothing {
		if err := p.guardOutput(opt); err != nil {
			return nil, err
		}
		lock := p.lock
		defer func() {
			if err != nil {
				lock.Release()
			}
		}()
	}
	switch {
	case opt.Tokenizer != nil:
		p.tk = opt.Tokenizer
	case spec.Tokenizer != "": // validate jobs may have none; it bounds their token ids
		tl := time.Now()
		tk, err := tokenizer.Load(spec.Tokenizer)
		if err != nil {
			return nil, err // tokenizer.Load's errors begin with "tokenizer: "
		}
		p.tk = tk
		p.info.TokenizerSeconds = time.Since(tl).Seconds()
	}
	if opt.Publish != PublishDir {
		return p, nil // listInOrder or planEntry lists and plans
	}
	p.inputs, err = List(spec, p.log)
	if err != nil {
		return nil, err
	}
	if err := p.checkInputs(); err != nil {
		return nil, err
	}
	if p.shards, err = planner.Plan(spec, p.inputs); err != nil {
		return nil, err
	}
	p.planned()
	return p, nil
}

// guardOutput takes the output's lock, refuses an output that overlaps an input or may not
// be replaced, with the kind of output opt.Publish writes, and removes the leftovers of
// killed runs, saying so in the log once (outdir.Guard). It holds the lock only when it
// succeeds.
func (p *prepared) guardOutput(opt Options) error {
	lock, removed, err := outdir.Guard(p.out, inputRoots(p.spec, opt.BaseDir), outputKind(p.spec, opt.Publish), p.spec.Output.Overwrite)
	if len(removed) > 0 {
		p.log.Info("removed the temporary files of an earlier run that did not finish",
			"output", p.out, "removed", outdir.Describe(removed), "bytes", outdir.TotalBytes(removed))
	}
	if err != nil {
		return err
	}
	p.lock = lock
	return nil
}

// outputKind is what the output of a run is, for outdir.Check.
func outputKind(spec *job.Spec, publish Publish) outdir.Kind {
	switch {
	case publish != PublishData:
		return outdir.KindJob
	case spec.To == job.ConvertHF:
		return outdir.KindHF
	}
	return outdir.KindFile
}

// checkInputs refuses listed inputs that the output overlaps.
func (p *prepared) checkInputs() error {
	listed := make([]string, len(p.inputs))
	for i, in := range p.inputs {
		listed[i] = in.Path
	}
	return outdir.CheckInputs(p.out, listed)
}

// planned records the plan in the run's facts.
func (p *prepared) planned() {
	p.info.Shards = len(p.shards)
	p.info.InputBytes = 0
	for _, s := range p.shards {
		p.info.InputBytes += shard.PlannedBytes(s)
	}
	p.info.PlanSeconds = time.Since(p.info.Started).Seconds()
	p.log.Debug("planned", "kind", p.spec.Kind, "inputs", len(p.inputs), "shards", len(p.shards), "workers", p.workers)
}

// inputRoots are the spec's input paths (files, directories, globs), relative ones joined to
// baseDir as planner.List joins them.
func inputRoots(spec *job.Spec, baseDir string) []string {
	paths := make([]string, len(spec.Inputs))
	for i, in := range spec.Inputs {
		paths[i] = in.Path
		if baseDir != "" && !filepath.IsAbs(in.Path) {
			paths[i] = filepath.Join(baseDir, in.Path)
		}
	}
	return paths
}

// release ends a prepared run: a failed run's error says which temporary files remain
// beside the output, if any, and the output's lock is released.
func (p *prepared) release(err *error) {
	if p.lock == nil {
		return // nothing published, nothing locked
	}
	if *err != nil {
		*err = outdir.WithLeftovers(*err, p.out)
	}
	p.lock.Release()
}

// execute runs the shards with run (shard.Execute or shard.ExecuteRecords) on workers
// goroutines and returns their results in plan order. done, when not nil, is handed each
// result as it comes (from the worker's goroutine); an error from it fails the run. The
// first error cancels the others. With env.Pool set, a worker that finds no shard left to
// start serves as a helper of the shards still running until they are all done, so that
// every worker stays busy to the end, even on a job of one shard. With env.Lease set too, at
// most runningShards(workers) shards run at once, and a worker waiting to start its next
// shard helps them meanwhile: a shard that starts while the one before it in plan order
// still runs must stage its rows until that one is done, and copy them on, where a shard
// that starts after it writes its rows straight into the outputs.
func execute[R any](ctx context.Context, shards []shard.Spec, env shard.Env, workers int, opt Options, total int64,
	run func(context.Context, shard.Spec, shard.Env) (R, error), done func(R) error) ([]R, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := startProgress(env.Progress, opt, total, len(shards))
	results := make([]R, len(shards))
	next := make(chan int)
	n := min(workers, max(len(shards), 1))
	if env.Pool != nil {
		n = max(workers, 1)
	}
	var active atomic.Int32 // workers that may still start or run a shard
	active.Store(int32(n))
	var slots *runSlots
	if env.Pool != nil && env.Lease != nil {
		slots = newRunSlots(runningShards(workers))
	}
	allDone := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker carries its buffers from shard to shard.
			env := env
			env.Scratch = new(shard.Scratch)
			defer env.Scratch.Close()
			for i := range next {
				slots.take(i, env.Pool)
				r, err := run(ctx, shards[i], env)
				if err == nil && done != nil {
					err = done(r)
				}
				slots.give()
				if err != nil {
					cancel(err)
					continue
				}
				results[i] = r
			}
			if active.Add(-1) == 0 {
				close(allDone)
			}
			if env.Pool != nil {
				env.Pool.Serve(allDone)
			}
		}()
	}
feed:
	for i := range shards {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	stop()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return results, nil
}

// helpersPerShard is how many workers help one running shard tokenize before another shard
// may start beside it (runningShards): reading, validating and packing are a fifth to a
// quarter of a shard's work, all on its own goroutine, so one shard keeps two helpers busy
// with room to spare.
const helpersPerShard = 2

// runningShards is how many shards of a local run run at once on workers goroutines.
func runningShards(workers int) int {
	return max(1, (workers+helpersPerShard)/(1+helpersPerShard))
}

// runSlots bounds the shards running at once, and starts them in plan order. A nil
// *runSlots bounds nothing. Its methods are safe for concurrent use.
type runSlots struct {
	mu    sync.Mutex
	free  int
	next  int           // the shard to start next
	freed chan struct{} // closed when a slot is given back or taken, then replaced
}

func newRunSlots(n int) *runSlots {
	return &runSlots{free: n, freed: make(chan struct{})}
}

// take takes a slot for shard i, serving pool as a helper of the running shards until one
// is free and every shard before i has taken one: shards are handed out in plan order, so
// they start in it too; nil-safe.
func (s *runSlots) take(i int, pool *shard.TokenizePool) {
	if s == nil {
		return
	}
	for {
		s.mu.Lock()
		if s.free > 0 && s.next == i {
			s.free--
			s.next++
			s.signal()
			s.mu.Unlock()
			return
		}
		freed := s.freed
		s.mu.Unlock()
		pool.Serve(freed)
	}
}

// give gives a slot back; nil-safe.
func (s *runSlots) give() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free++
	s.signal()
}

// signal wakes the workers waiting for a slot; s.mu is held.
func (s *runSlots) signal() {
	close(s.freed)
	s.freed = make(chan struct{})
}

func parquetRowGroups(path string) ([]shard.RowGroup, error) {
	gs, err := parquet.RowGroups(path)
	if err != nil {
		return nil, err
	}
	out := make([]shard.RowGroup, len(gs))
	for i, g := range gs {
		out[i] = shard.RowGroup{Rows: g.Rows, Bytes: g.Bytes, Offset: g.Offset}
	}
	return out, nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return !errors.Is(err, os.ErrNotExist)
}

// cleanup removes a failed run's staging area, and the output directory when the run created
// it and left it empty.
func cleanup(staging, out string, outExisted bool) {
	os.RemoveAll(staging)
	removeIfEmpty(filepath.Dir(staging))
	if !outExisted {
		removeIfEmpty(out)
	}
}

func removeIfEmpty(dir string) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		os.Remove(dir)
	}
}
