package runner

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/planner"
	"github.com/tokenmill/tokenmill/shard"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// RecordsSummary is what a successful validate or convert run did. A validate run succeeds
// whatever its records: Manifest.Invalid (and Manifest.Report) say whether they passed.
type RecordsSummary struct {
	Manifest *shard.RecordsManifest
	Run      RunInfo
}

// RunRecords runs a validate or convert job (kind: validate or convert) through the same
// steps as Run: planner.List and planner.Plan, shard.ExecuteRecords on opt.Workers
// goroutines, then shard.FinalizeRecords, which merges in shard order: the output is the
// same for any number of workers and any shard_size. Nothing is published on failure.
func RunRecords(ctx context.Context, spec *job.Spec, opt Options) (sum *RecordsSummary, err error) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	info := RunInfo{Started: time.Now().UTC(), Workers: workers}
	info.Host, _ = os.Hostname()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.Kind != job.KindValidate && spec.Kind != job.KindConvert {
		return nil, fmt.Errorf("runner: RunRecords runs validate and convert jobs, not %s", spec.Kind)
	}
	if err := shard.CheckOutput(spec.Output.Dir, spec.Output.Overwrite); err != nil {
		return nil, err
	}
	env := shard.Env{Job: spec, MaxRecord: opt.MaxRecord, Progress: &shard.Progress{}}
	if spec.Tokenizer != "" { // validate: the vocabulary bounds pretraining token ids
		if env.Tokenizer, err = tokenizer.Load(spec.Tokenizer); err != nil {
			return nil, fmt.Errorf("tokenizer: %w", err)
		}
	}
	inputs, err := planner.List(spec, planner.ListOptions{BaseDir: opt.BaseDir, RowGroups: parquetRowGroups})
	if err != nil {
		return nil, err
	}
	shards, err := planner.Plan(spec, inputs)
	if err != nil {
		return nil, err
	}
	info.Shards = len(shards)
	for _, s := range shards {
		info.InputBytes += shard.PlannedBytes(s)
	}
	info.PlanSeconds = time.Since(info.Started).Seconds()
	log.Debug("planned", "kind", spec.Kind, "inputs", len(inputs), "shards", len(shards), "workers", workers)

	outExisted := exists(spec.Output.Dir)
	defer func() {
		if err != nil && !outExisted {
			removeIfEmpty(spec.Output.Dir)
		}
	}()
	t0 := time.Now()
	results, err := executeRecords(ctx, shards, env, workers, opt, info.InputBytes)
	if err != nil {
		return nil, err
	}
	info.ExecuteSeconds = time.Since(t0).Seconds()
	t1 := time.Now()
	m, err := shard.FinalizeRecords(ctx, spec, shards, results, shard.FinalizeEnv{OutDir: spec.Output.Dir,
		Inputs: inputs, Overwrite: spec.Output.Overwrite, Workers: workers, RunInfo: &info})
	if err != nil {
		return nil, err
	}
	info.FinalizeSeconds = time.Since(t1).Seconds()
	info.TotalSeconds = time.Since(info.Started).Seconds()
	if err := writeRunInfo(filepath.Join(spec.Output.Dir, "run.json"), &info); err != nil {
		log.Warn("updating run.json", "err", err)
	}
	return &RecordsSummary{Manifest: m, Run: info}, nil
}

// executeRecords runs the shards on workers goroutines and returns their results in plan
// order. The first error cancels the others. (execute's twin for RecordsResult.)
func executeRecords(ctx context.Context, shards []shard.Spec, env shard.Env, workers int, opt Options, total int64) ([]shard.RecordsResult, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := startProgress(env.Progress, opt, total, len(shards))
	results := make([]shard.RecordsResult, len(shards))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(shards), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r, err := shard.ExecuteRecords(ctx, shards[i], env)
				if err != nil {
					cancel(err)
					continue
				}
				results[i] = r
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

// WriteRecordsSummary prints the end-of-run lines of a validate or convert job: for validate
// the report's human form first, then records, outputs and timings.
func WriteRecordsSummary(w io.Writer, s *RecordsSummary) error {
	m, r := s.Manifest, s.Run
	if m.Report != nil {
		if err := m.Report.WriteText(w); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if m.Valid != nil {
		fmt.Fprintf(tw, "records\t%d\tvalid %d\tinvalid %d\n", m.Records, *m.Valid, *m.Invalid)
	} else {
		fmt.Fprintf(tw, "records\t%d\n", m.Records)
	}
	mbps := 0.0
	if r.ExecuteSeconds > 0 {
		mbps = float64(r.InputBytes) / 1e6 / r.ExecuteSeconds
	}
	fmt.Fprintf(tw, "throughput\t%.2f MB/s of input files\t%d workers, %d shards\n", mbps, r.Workers, r.Shards)
	fmt.Fprintf(tw, "time\t%.2fs total\tplan %.2fs, execute %.2fs, finalize %.2fs\n",
		r.TotalSeconds, r.PlanSeconds, r.ExecuteSeconds, r.FinalizeSeconds)
	return tw.Flush()
}
