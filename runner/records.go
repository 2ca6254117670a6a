package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/planner"
	"github.com/tokenmill/tokenmill/shard"
)

// Publish says what a run of a validate or convert job leaves behind (Options.Publish). The
// commands `tokenmill convert` and `tokenmill validate` are such jobs, run with the modes
// that give their own contracts: one path for the job and the command, so that a cluster
// runs the code the command runs.
type Publish int

const (
	// PublishDir publishes the job's output directory, output.dir: the data (a convert
	// job's HF dataset, data.jsonl or data.parquet) or the report (report.json and
	// report.txt), manifest.json and run.json. The inputs are listed as planner.List lists
	// them (sorted by path, each file once) and the spec's relative paths resolved against
	// Options.BaseDir. `tokenmill run` publishes so.
	PublishDir Publish = iota
	// PublishData makes a convert job's output.dir the data itself and nothing else: a JSONL
	// or Parquet file, or an HF save_to_disk directory (to: hf), with no manifest.json or
	// run.json; an existing file may be replaced by another (output.overwrite). The inputs
	// are read in the spec's order (planner.ListEntry, entry by entry; a file named twice is
	// read twice) and the paths stay as given, so that messages name the user's paths.
	// `tokenmill convert` writes its OUT so.
	PublishData
	// PublishNothing runs a validate job without an output: output.dir is not needed and
	// nothing is written or locked; Summary.Records.Report is the report. The inputs are
	// read in the spec's order, with paths as given, entry by entry; an input that cannot be
	// listed or opened, or breaks off, is a read error of the report (where reading stopped,
	// after how many records) rather than a failure, and the other inputs are still read.
	// `tokenmill validate` prints the report so.
	PublishNothing
)

// RunRecords runs a validate or convert job (kind: validate or convert) through the same
// steps as a pretraining Run: list and plan the inputs, shard.ExecuteRecords on
// opt.Workers goroutines, then merge in shard order (shard.FinalizeRecords, or with
// opt.Publish shard.WriteConverted and shard.MergeReport): the output is the same for any
// number of workers and any shard_size. Nothing is published on failure. Run calls it for
// these kinds; the Summary it returns has Records set.
func RunRecords(ctx context.Context, spec *job.Spec, opt Options) (sum *Summary, err error) {
	if spec.Kind != job.KindValidate && spec.Kind != job.KindConvert {
		return nil, fmt.Errorf("runner: RunRecords runs validate and convert jobs, not %s", spec.Kind)
	}
	switch {
	case opt.Publish == PublishData && spec.Kind != job.KindConvert:
		return nil, fmt.Errorf("runner: a %s job has no data to publish alone", spec.Kind)
	case opt.Publish == PublishNothing && spec.Kind != job.KindValidate:
		return nil, fmt.Errorf("runner: a %s job must publish its output", spec.Kind)
	}
	p, err := prepare(spec, opt)
	if err != nil {
		return nil, err
	}
	defer p.release(&err)
	switch opt.Publish {
	case PublishData:
		return p.convertData(ctx, opt)
	case PublishNothing:
		return p.report(ctx, opt)
	}
	return p.publishDir(ctx, opt)
}

// publishDir executes the shards and publishes the job's output directory.
func (p *prepared) publishDir(ctx context.Context, opt Options) (*Summary, error) {
	spec, info := p.spec, p.info
	var err error
	outExisted := exists(spec.Output.Dir)
	defer func() {
		if err != nil && !outExisted {
			removeIfEmpty(spec.Output.Dir)
		}
	}()
	env := p.env()
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

// convertData executes the shards of a convert job and writes their records to output.dir
// itself (PublishData).
func (p *prepared) convertData(ctx context.Context, opt Options) (*Summary, error) {
	if err := p.listInOrder(); err != nil {
		return nil, err
	}
	if err := p.checkInputs(); err != nil {
		return nil, err
	}
	t0 := time.Now()
	results, err := execute(ctx, p.shards, p.env(), p.workers, opt, p.info.InputBytes, shard.ExecuteRecords, nil)
	if err != nil {
		return nil, err
	}
	p.info.ExecuteSeconds = time.Since(t0).Seconds()
	t1 := time.Now()
	n, err := shard.WriteConverted(ctx, p.spec, p.shards, results, p.out, p.spec.Output.Overwrite)
	if err != nil {
		return nil, err
	}
	p.info.FinalizeSeconds = time.Since(t1).Seconds()
	p.info.TotalSeconds = time.Since(p.info.Started).Seconds()
	m := &shard.RecordsManifest{FormatVersion: shard.ManifestVersion, Kind: p.spec.Kind, Shards: len(p.shards),
		Records: n, Outputs: []string{filepath.Base(p.out)}}
	return &Summary{Records: m, Run: p.info}, nil
}

// report validates the spec's entries one after the other (PublishNothing): each is listed
// and planned on its own, its shards run on the workers, and its report is merged into the
// job's, so that the report is in the order of the entries.
func (p *prepared) report(ctx context.Context, opt Options) (*Summary, error) {
	rep, err := shard.NewReport(p.spec)
	if err != nil {
		return nil, err
	}
	env := p.env()
	env.KeepReadErrors = true
	all := p.spec
	for i := range all.Inputs {
		entry := all.Clone()
		entry.Inputs = all.Inputs[i : i+1]
		shards, err := planEntry(entry, p.listOptions())
		if err != nil {
			return nil, err
		}
		for _, s := range shards {
			p.info.InputBytes += shard.PlannedBytes(s)
		}
		p.info.Shards += len(shards)
		results, err := execute(ctx, shards, env, p.workers, opt, 0, shard.ExecuteRecords, nil)
		if err != nil {
			return nil, err
		}
		r, err := shard.MergeReport(entry, shards, results)
		if err != nil {
			return nil, err
		}
		rep.Merge(r)
	}
	p.info.TotalSeconds = time.Since(p.info.Started).Seconds()
	valid, invalid := int64(rep.Valid()), int64(rep.Invalid())
	m := &shard.RecordsManifest{FormatVersion: shard.ManifestVersion, Kind: p.spec.Kind, Shards: p.info.Shards,
		Records: int64(rep.Records()), Valid: &valid, Invalid: &invalid, Report: rep, Outputs: []string{}}
	return &Summary{Records: m, Run: p.info}, nil
}

// planEntry lists and plans the one entry of spec. An entry that cannot be listed is planned
// as one shard reading its path as a whole file, whose reader then says why it cannot be
// read (a read error of the report).
func planEntry(spec *job.Spec, lo planner.ListOptions) ([]shard.Spec, error) {
	inputs, err := planner.ListEntry(spec, 0, lo)
	if err == nil {
		return planner.PlanInOrder(spec, inputs)
	}
	s := shard.WholeFile(shard.Input{Path: spec.Inputs[0].Path, Format: job.FormatAuto})
	s.ID, s.Job = planner.ShardID(0, 1), spec.Name
	return []shard.Spec{s}, nil
}

// listInOrder lists the spec's entries in order (planner.ListEntry) and plans them in that
// order (planner.PlanInOrder). An entry's error names its path.
func (p *prepared) listInOrder() error {
	p.inputs = nil
	for i := range p.spec.Inputs {
		in, err := planner.ListEntry(p.spec, i, p.listOptions())
		if err != nil {
			return err
		}
		p.inputs = append(p.inputs, in...)
	}
	var err error
	if p.shards, err = planner.PlanInOrder(p.spec, p.inputs); err != nil {
		return err
	}
	p.planned()
	return nil
}

func (p *prepared) listOptions() planner.ListOptions {
	return planner.ListOptions{RowGroups: parquetRowGroups, Logger: p.log}
}

// env is the shards' environment of a validate or convert job.
func (p *prepared) env() shard.Env {
	return shard.Env{Job: p.spec, Tokenizer: p.tk, Progress: &shard.Progress{}}
}

// validateSpec validates spec; a run that publishes nothing needs no output.dir.
func validateSpec(spec *job.Spec, publish Publish) error {
	err := spec.Validate()
	if err == nil || publish != PublishNothing || spec.Output.Dir != "" {
		return err
	}
	var kept []error
	for _, e := range unjoin(err) {
		var ke *job.KeyError
		if errors.As(e, &ke) && ke.Key == "output.dir" {
			continue
		}
		kept = append(kept, e)
	}
	return errors.Join(kept...)
}

// unjoin returns the errors that errors.Join joined into err, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
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
