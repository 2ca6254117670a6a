package client

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"context"
	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/runner"
	"github.com/tokenmill/tokenmill/shard"
)

// Follow watches a job until it is over and returns its last status. It prints a
// ProgressLine to w at each change of the job's state, and otherwise at most every
// interval; elapsed times (for tok/s) count from start.
func (c *Client) Follow(ctx context.Context, id string, w io.Writer, start time.Time, interval time.Duration) (*pb.JobStatus, error) {
	var state pb.JobState
	var printed time.Time
	return c.Watch(ctx, id, func(st *pb.JobStatus) error {
		now := time.Now()
		if st.State != state || now.Sub(printed) >= interval {
			fmt.Fprintln(w, ProgressLine(st, now.Sub(start)))
			state, printed = st.State, now
		}
		return nil
	})
}

// WriteOutcome prints how a followed job ended. For a succeeded job it prints what its
// manifest (in the output directory) counts, as `tokenmill run`'s summary does where a
// cluster has the data (it has no per-stage timings), and the output line; else the state
// and the job's error.
func WriteOutcome(w io.Writer, spec *job.Spec, st *pb.JobStatus, elapsed time.Duration) error {
	if st.State != pb.JobState_JOB_STATE_SUCCEEDED {
		msg := st.Error
		if msg == "" {
			msg = "no reason given"
		}
		_, err := fmt.Fprintf(w, "job %s %s: %s\n", st.JobId, StateName(st.State), msg)
		return err
	}
	dir := spec.Output.Dir
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return fmt.Errorf("job %s succeeded, but its manifest cannot be read here: %w", st.JobId, err)
	}
	files := "manifest.json, rejects.jsonl, run.json"
	if spec.Kind == job.KindPretrain || spec.Kind == "" {
		var m shard.Manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
		}
		if err := runner.WriteCounts(w, &m); err != nil {
			return err
		}
	} else {
		var m shard.RecordsManifest
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
		}
		if m.Valid != nil && m.Invalid != nil {
			fmt.Fprintf(w, "records  %d  valid %d  invalid %d\n", m.Records, *m.Valid, *m.Invalid)
		} else {
			fmt.Fprintf(w, "records  %d\n", m.Records)
		}
		files = strings.Join(append(m.Outputs, "manifest.json", "run.json"), ", ")
	}
	rate := int64(0)
	if s := elapsed.Seconds(); s > 0 && st.Result != nil {
		rate = int64(float64(st.Result.TokensTrain+st.Result.TokensVal) / s)
	}
	fmt.Fprintf(w, "cluster  job %s: %d shards, %.2fs from submit to publish, %s tok/s\n", st.JobId, st.Shards,
		elapsed.Seconds(), runner.Count(rate))
	_, err = fmt.Fprintf(w, "\noutput: %s (%s)\n", dir, files)
	return err
}
