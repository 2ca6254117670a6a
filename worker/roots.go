package worker

import (
	"fmt"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// checkJobRoots refuses a job whose inputs, output or tokenizer file resolve outside the allowed roots
// (Config.AllowedRoots), now, on this worker: the coordinator checked at submission, but a
// symlink may have been swapped in since. The error is an input error (the job fails).
func (w *Worker) checkJobRoots(jobID string, spec *job.Spec) error {
	r := w.cfg.AllowedRoots
	if !r.Enabled() {
		return nil
	}
	for i, in := range spec.Inputs {
		if err := r.Check(in.Path); err != nil {
			return fmt.Errorf("job %s: inputs[%d].path %w", jobID, i, err)
		}
	}
	if err := r.Check(spec.Output.Dir); err != nil {
		return fmt.Errorf("job %s: output.dir %w", jobID, err)
	}
	for _, p := range spec.TokenizerPaths() {
		if err := r.Check(p); err != nil {
			return fmt.Errorf("job %s: tokenizer %w", jobID, err)
		}
	}
	return nil
}

// checkInputRoots refuses input files (listed, or a shard's) that resolve outside the
// allowed roots, before they are opened.
func (w *Worker) checkInputRoots(jobID string, paths []string) error {
	r := w.cfg.AllowedRoots
	for _, p := range paths {
		if err := r.Check(p); err != nil {
			return fmt.Errorf("job %s: input %w", jobID, err)
		}
	}
	return nil
}

func listedPaths(in []shard.Input) []string {
	out := make([]string, len(in))
	for i, x := range in {
		out[i] = x.Path
	}
	return out
}

func shardPaths(ss shard.Spec) []string {
	var out []string
	for _, p := range ss.Parts() {
		out = append(out, p.Path)
	}
	return out
}
