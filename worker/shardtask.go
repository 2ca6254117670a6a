package worker

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tokenmill/tokenmill/internal/wire"
	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
)

// runShard runs a shard task as `tokenmill run` runs a shard: shard.Execute (ExecuteRecords
// for validate and convert jobs) with the lease's attempt, so that it stages under its own
// attempt directory; then the whole result is staged as result.json beside the outputs, and
// the commit carries its summary (wire.Summarize).
func (w *Worker) runShard(t *task) (outcome, error) {
	spec, err := parseJob(t.a)
	if err != nil {
		return outcome{}, err
	}
	var ss shard.Spec
	if err := json.Unmarshal(t.a.ShardSpec, &ss); err != nil {
		return outcome{}, fmt.Errorf("job %s: shard %d: bad shard spec: %w", t.a.Task.GetJobId(), t.a.Task.GetShard(), err)
	}
	if ss.Index != int(t.a.Task.GetShard()) {
		return outcome{}, fmt.Errorf("job %s: the spec of shard %d is shard %d's", t.a.Task.GetJobId(), t.a.Task.GetShard(), ss.Index)
	}
	if err := w.checkJobRoots(t.a.Task.GetJobId(), spec); err != nil {
		return outcome{}, err
	}
	if err := w.checkInputRoots(t.a.Task.GetJobId(), shardPaths(ss)); err != nil {
		return outcome{}, err
	}
	if h := w.cfg.hooks.shardStart; h != nil {
		if err := h(t.ctx, t.a); err != nil {
			return outcome{}, err
		}
	}
	env := shard.Env{Job: spec, StagingDir: stagingRoot(spec, t.a.Task.GetJobId()), Attempt: int(t.a.Attempt),
		Progress: &t.progress}
	if spec.Tokenizer != "" {
		if env.Tokenizer, err = w.toks.get(t.ctx, spec.Tokenizer); err != nil {
			return outcome{}, err
		}
	}
	dir := attemptDir(ss.ID, t.a.Attempt)
	discard := func() {
		os.RemoveAll(filepath.Join(env.StagingDir, dir))
		pruneStaging(env.StagingDir, ss.ID)
	}
	rf := &resultFile{Spec: ss}
	if spec.Kind == job.KindValidate || spec.Kind == job.KindConvert {
		r, err := shard.ExecuteRecords(t.ctx, ss, env)
		if err != nil {
			pruneStaging(env.StagingDir, ss.ID)
			return outcome{}, err
		}
		rf.Records = &r
	} else {
		env.Scratch = w.takeScratch()
		r, err := shard.Execute(t.ctx, ss, env)
		w.putScratch(env.Scratch)
		if err != nil {
			pruneStaging(env.StagingDir, ss.ID) // Execute removed the attempt's directory
			return outcome{}, err
		}
		rf.Result = &r
	}
	ref, err := writeResult(env.StagingDir, dir, rf)
	if err != nil {
		discard()
		return outcome{}, err
	}
	var sum *pb.ShardResult
	if rf.Result != nil {
		sum = wire.Summarize(rf.Result, ref)
	} else {
		sum = wire.SummarizeRecords(rf.Records, dir, ref)
	}
	return outcome{commit: &pb.TaskCommit{Result: &pb.TaskCommit_Shard{Shard: sum}}, discard: discard}, nil
}

// removeIfEmpty removes dir if it holds nothing.
func removeIfEmpty(dir string) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) == 0 {
		os.Remove(dir)
	}
}
