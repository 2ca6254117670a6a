package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/planner"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/runner"
	"github.com/tokenmill/tokenmill/shard"
)

// runInfo is run.json of a job finalized on a cluster: what varies between runs. JobID also
// marks the output as this job's, so that a finalize attempt that finds the output already
// published by an earlier attempt of the same job (which died before its commit) commits it
// instead of failing on an existing output directory.
type runInfo struct {
	JobID           string                `json:"job_id"`
	Worker          string                `json:"worker"`
	FinalizeAttempt uint32                `json:"finalize_attempt"`
	Started         time.Time             `json:"finalize_started"`
	Shards          int                   `json:"shards"`
	InputBytes      int64                 `json:"input_bytes"`
	Finalize        shard.FinalizeTimings `json:"finalize_stages"`
}

// runFinalize runs a finalize task: the committed shard results are streamed from the
// coordinator, each staged result file read back from the attempt directory it names and
// checked, the inputs listed and planned again and checked against the shards' specs (an
// input that changed since the plan fails the job), then shard.Finalize (FinalizeRecords)
// publishes the output as `tokenmill run` does, in a temporary directory of this attempt's
// own, keeping the staged files until the publish (shard.FinalizeEnv.KeepStaged), so that
// a failed finalize (a full disk) can run again. Temporary directories of earlier attempts
// are removed first.
func (w *Worker) runFinalize(t *task) (outcome, error) {
	spec, err := parseJob(t.a)
	if err == nil {
		err = w.checkJobRoots(t.a.Task.GetJobId(), spec)
	}
	if err != nil {
		return outcome{}, err
	}
	jobID := t.a.Task.GetJobId()
	if res, ok := published(spec, jobID); ok {
		w.log.Info("the output is already published by an earlier finalize of the job", "job", jobID)
		removeFinalizeLeftovers(spec, jobID)
		return outcome{commit: finalizeCommit(res)}, nil
	}
	if aside, err := undoHalfPublish(spec, jobID); err != nil {
		return outcome{}, err
	} else if aside != "" {
		w.log.Info("an earlier finalize of the job was killed in the middle of its publish: its output directory is put back",
			"job", jobID, "from", aside)
	}
	res, err := w.finalize(t, spec)
	if err != nil {
		if res, ok := published(spec, jobID); ok {
			removeFinalizeLeftovers(spec, jobID)
			return outcome{commit: finalizeCommit(res)}, nil
		}
		return outcome{}, err
	}
	return outcome{commit: finalizeCommit(res)}, nil
}

func finalizeCommit(r *pb.FinalizeResult) *pb.TaskCommit {
	return &pb.TaskCommit{Result: &pb.TaskCommit_Finalize{Finalize: r}}
}

func (w *Worker) finalize(t *task, spec *job.Spec) (*pb.FinalizeResult, error) {
	jobID := t.a.Task.GetJobId()
	root := stagingRoot(spec, jobID)
	sums, err := w.shardResults(t)
	if err != nil {
		return nil, err
	}
	files := make([]*resultFile, len(sums))
	info := &runInfo{JobID: jobID, Worker: w.cfg.ID, FinalizeAttempt: t.a.Attempt, Started: time.Now().UTC(),
		Shards: len(sums)}
	for i, s := range sums {
		if files[i], err = readResult(root, i, s); err != nil {
			return nil, err
		}
		info.InputBytes += s.Bytes
	}
	inputs, err := checkPlan(spec, files)
	if err != nil {
		return nil, err
	}
	tempID := fmt.Sprintf("%s.f%d", jobID, t.a.Attempt)
	removeStaleTemps(spec.Output.Dir, "tmp", jobID, tempID)
	env := shard.FinalizeEnv{OutDir: spec.Output.Dir, StagingDir: root, Inputs: inputs,
		Overwrite: spec.Output.Overwrite, Workers: w.cfg.Slots, Timings: &info.Finalize, RunInfo: info, TempID: tempID,
		KeepStaged: true}
	var res *pb.FinalizeResult
	if spec.Kind == job.KindValidate || spec.Kind == job.KindConvert {
		specs := make([]shard.Spec, len(files))
		results := make([]shard.RecordsResult, len(files))
		for i, f := range files {
			if f.Records == nil {
				return nil, fmt.Errorf("shard %d staged the result of a pretraining job", i)
			}
			specs[i], results[i] = f.Spec, *f.Records
		}
		env.StagingDir = ""
		m, err := shard.FinalizeRecords(t.ctx, spec, specs, results, env)
		if err != nil {
			return nil, err
		}
		res = recordsResult(m)
	} else {
		if env.Tokenizer, err = w.toks.get(t.ctx, spec.Tokenizer); err != nil {
			return nil, err
		}
		results := make([]shard.Result, len(files))
		for i, f := range files {
			if f.Result == nil {
				return nil, fmt.Errorf("shard %d staged the result of a %s job", i, spec.Kind)
			}
			results[i] = *f.Result
		}
		m, err := shard.Finalize(t.ctx, spec, results, env)
		if err != nil {
			return nil, err
		}
		res = pretrainResult(m)
	}
	// The staging root went with the publish (it lies in the output directory, which the
	// publish replaces) or with Finalize; what an attempt that lost wrote after that goes now.
	os.RemoveAll(root)
	removeIfEmpty(filepath.Dir(root))
	removeStaleTemps(spec.Output.Dir, "old", jobID, "")
	if res.Manifest, err = fileRef(spec.Output.Dir, "manifest.json"); err != nil {
		return nil, err
	}
	return res, nil
}

// shardResults streams the committed shard results of the task's job, in shard order.
func (w *Worker) shardResults(t *task) ([]*pb.ShardResult, error) {
	var out []*pb.ShardResult
	err := w.coords.callStream(t.ctx, func(ctx context.Context, c pb.WorkerServiceClient) error {
		out = out[:0]
		st, err := c.ShardResults(ctx, &pb.ShardResultsRequest{Task: t.a.Task, Epoch: t.a.Epoch})
		if err != nil {
			return err
		}
		for {
			chunk, err := st.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if int(chunk.FirstIndex) != len(out) {
				return fmt.Errorf("shard results out of order: a chunk from shard %d after %d results",
					chunk.FirstIndex, len(out))
			}
			out = append(out, chunk.Results...)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading the committed shard results: %w", err)
	}
	for i, r := range out {
		if r == nil || r.Result == nil {
			return nil, fmt.Errorf("shard %d has no committed result", i)
		}
	}
	return out, nil
}

// checkPlan lists the job's inputs again (runner.List, as the plan did) and plans them: the
// plan must be the one the shards ran (their specs, in the result files), or an input
// changed since the plan. It returns the listing, which the manifest records.
func checkPlan(spec *job.Spec, files []*resultFile) ([]shard.Input, error) {
	inputs, err := runner.List(spec, nil)
	if err != nil {
		return nil, err
	}
	shards, err := planner.Plan(spec, inputs)
	if err != nil {
		return nil, err
	}
	if len(shards) != len(files) {
		return nil, fmt.Errorf("the inputs changed since the plan: they now plan as %d shards, the job ran %d",
			len(shards), len(files))
	}
	for i := range shards {
		a, _ := json.Marshal(shards[i])
		b, _ := json.Marshal(files[i].Spec)
		if string(a) != string(b) {
			return nil, fmt.Errorf("the inputs changed since the plan: shard %s (%s) is now planned as %s",
				files[i].Spec.ID, files[i].Spec.Path, a)
		}
	}
	return inputs, nil
}

// removeFinalizeLeftovers removes what the job's finalize attempts left once its output is
// published: an attempt killed in the middle of its publish leaves the output in place and
// the directory it moved aside (.<out>.old-<job>.f<N>), or its temporary directory, beside
// it; and the job's staging root.
func removeFinalizeLeftovers(spec *job.Spec, jobID string) {
	root := stagingRoot(spec, jobID)
	os.RemoveAll(root)
	removeIfEmpty(filepath.Dir(root))
	removeStaleTemps(spec.Output.Dir, "tmp", jobID, "")
	removeStaleTemps(spec.Output.Dir, "old", jobID, "")
}

// undoHalfPublish puts back the output directory (with the job's staging area in it) that a
// finalize attempt of the job moved aside to publish its own (.<out>.old-<job>.f<N>) and was
// killed before it renamed its temporary directory into place: the output directory is
// missing, and the staged files a new attempt reads are in the one moved aside. It returns
// the directory put back, "" when there was none.
func undoHalfPublish(spec *job.Spec, jobID string) (string, error) {
	out := filepath.Clean(spec.Output.Dir)
	if _, err := os.Lstat(out); !errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	prefix := "." + filepath.Base(out) + ".old-" + jobID + ".f"
	entries, err := os.ReadDir(filepath.Dir(out))
	if err != nil {
		return "", nil
	}
	// The one that holds the job's staging area; any attempt's will do (the first to move
	// the output aside holds it, and an attempt that finds the output missing puts it back
	// before it publishes).
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		if _, err := strconv.ParseUint(n, 10, 32); err != nil {
			continue
		}
		aside := filepath.Join(filepath.Dir(out), e.Name())
		if _, err := os.Stat(shard.StagingDir(aside, jobID)); err != nil {
			continue
		}
		if err := os.Rename(aside, out); err != nil {
			return "", fmt.Errorf("putting back the output directory an earlier finalize moved aside: %w", err)
		}
		return aside, nil
	}
	return "", nil
}

// removeStaleTemps removes the directories .<out>.<kind>-<job>.f<N> beside the output that
// attempts of the job's finalize other than keep left behind.
func removeStaleTemps(out, kind, jobID, keep string) {
	out = filepath.Clean(out)
	prefix := "." + filepath.Base(out) + "." + kind + "-" + jobID + ".f"
	entries, err := os.ReadDir(filepath.Dir(out))
	if err != nil {
		return
	}
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || e.Name() == "."+filepath.Base(out)+"."+kind+"-"+keep {
			continue
		}
		if _, err := strconv.ParseUint(n, 10, 32); err == nil {
			os.RemoveAll(filepath.Join(filepath.Dir(out), e.Name()))
		}
	}
}

// published returns the result of the job's finalize when its output directory holds a
// manifest and a run.json that names the job: an earlier attempt published it.
func published(spec *job.Spec, jobID string) (*pb.FinalizeResult, bool) {
	b, err := os.ReadFile(filepath.Join(spec.Output.Dir, "run.json"))
	if err != nil {
		return nil, false
	}
	var ri struct {
		JobID string `json:"job_id"`
	}
	if json.Unmarshal(b, &ri) != nil || ri.JobID != jobID {
		return nil, false
	}
	mb, err := os.ReadFile(filepath.Join(spec.Output.Dir, "manifest.json"))
	if err != nil {
		return nil, false
	}
	var res *pb.FinalizeResult
	if spec.Kind == job.KindValidate || spec.Kind == job.KindConvert {
		var m shard.RecordsManifest
		if json.Unmarshal(mb, &m) != nil {
			return nil, false
		}
		res = recordsResult(&m)
	} else {
		var m shard.Manifest
		if json.Unmarshal(mb, &m) != nil {
			return nil, false
		}
		res = pretrainResult(&m)
	}
	res.Manifest = &pb.FileRef{Name: "manifest.json", Bytes: int64(len(mb)), Crc32C: crc32.Checksum(mb, castagnoli)}
	return res, true
}

func pretrainResult(m *shard.Manifest) *pb.FinalizeResult {
	r := &pb.FinalizeResult{Documents: &pb.DocumentCounts{Read: m.Documents.Read, Written: m.Documents.Written,
		Rejected: m.Documents.Rejected, TextBytes: m.Documents.TextBytes}, TokensTrain: m.Tokens.Train, TokensVal: m.Tokens.Val}
	for _, b := range m.Buckets {
		r.Sequences += b.Sequences
	}
	return r
}

func recordsResult(m *shard.RecordsManifest) *pb.FinalizeResult {
	d := &pb.DocumentCounts{Read: m.Records, Written: m.Records}
	if m.Valid != nil && m.Invalid != nil {
		d.Written, d.Rejected = *m.Valid, *m.Invalid
	}
	return &pb.FinalizeResult{Documents: d}
}

// fileRef returns the reference of the file dir/name, its CRC-32C computed.
func fileRef(dir, name string) (*pb.FileRef, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	return &pb.FileRef{Name: name, Bytes: int64(len(b)), Crc32C: crc32.Checksum(b, castagnoli)}, nil
}
