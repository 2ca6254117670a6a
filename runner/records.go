package runner

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// RunRecords runs a validate or convert job (kind: validate or convert) through the same
// steps as a pretraining Run: planner.List and planner.Plan, shard.ExecuteRecords on
// opt.Workers goroutines, then shard.FinalizeRecords, which merges in shard order: the output
// is the same for any number of workers and any shard_size. Nothing is published on failure.
// Run calls it for these kinds; the Summary it returns has Records set.
func RunRecords(ctx context.Context, spec *job.Spec, opt Options) (sum *Summary, err error) {
	if spec.Kind != job.KindValidate && spec.Kind != job.KindConvert {
		return nil, fmt.Errorf("runner: RunRecords runs validate and convert jobs, not %s", spec.Kind)
	}
	p, err := prepare(spec, opt)
	if err != nil {
		return nil, err
	}
	defer p.release(&err)
	spec = p.spec
	info := p.info
	outExisted := exists(spec.Output.Dir)
	defer func() {
		if err != nil && !outExisted {
			removeIfEmpty(spec.Output.Dir)
		}
	}()
	env := shard.Env{Job: spec, Tokenizer: p.tk, Progress: &shard.Progress{}}
	t0 := time.Now()
	results, err := execute(ctx, p.shards, env, p.workers, opt, info.InputBytes, shard.ExecuteRecords, nil)
	if err != nil {
		return nil, err
	}
	info.ExecuteSeconds = time.Since(t0).Seconds()
	t1 := time.Now()
	m, err := shard.FinalizeRecords(ctx, spec, p.shards, results, shard.FinalizeEnv{OutDir: spec.Output.Dir,
		Inputs: p.inputs, Overwrite: spec.Output.Overwrite, Workers: p.workers, RunInfo: &info})
	if err != nil {
		return nil, err
	}
	info.FinalizeSeconds = time.Since(t1).Seconds()
	info.TotalSeconds = time.Since(info.Started).Seconds()
	if err := writeRunInfo(filepath.Join(spec.Output.Dir, "run.json"), &info); err != nil {
		p.log.Warn("updating run.json", "err", err)
	}
	return &Summary{Records: m, Run: info}, nil
}

// writeRecordsSummary prints the end-of-run lines of a validate or convert job: for validate
// the report's human form first, then records, outputs and timings.
func writeRecordsSummary(w io.Writer, s *Summary) error {
	m, r := s.Records, s.Run
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
