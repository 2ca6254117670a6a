package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/planner"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/runner"
	"github.com/tokenmill/tokenmill/shard"
)

// parseJob decodes and validates the job file of an assignment.
func parseJob(a *pb.Assignment) (*job.Spec, error) {
	spec, err := job.Parse(a.JobSpec)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", a.Task.GetJobId(), err)
	}
	return spec, nil
}

// runPlan runs a plan task as `tokenmill run` plans: the output directory checked, the
// inputs listed (runner.List) and planned (planner.Plan). The specs go to the coordinator in
// ordered batches (AppendPlan); the commit closes the plan with their number.
func (w *Worker) runPlan(t *task) (outcome, error) {
	spec, err := parseJob(t.a)
	if err == nil {
		err = w.checkJobRoots(t.a.Task.GetJobId(), spec)
	}
	if err != nil {
		return outcome{}, err
	}
	inputs, err := runner.List(spec, w.log)
	if err == nil {
		err = w.checkInputRoots(t.a.Task.GetJobId(), listedPaths(inputs))
	}
	if err != nil {
		return outcome{}, err
	}
	if err := shard.CheckOutput(spec, spec.Output.Dir, inputs, spec.Output.Overwrite); err != nil {
		return outcome{}, err
	}
	shards, err := planner.Plan(spec, inputs)
	if err != nil {
		return outcome{}, err
	}
	if err := t.ctx.Err(); err != nil {
		return outcome{}, err
	}
	if err := w.appendPlan(t, shards); err != nil {
		return outcome{}, err
	}
	res := &pb.PlanResult{Shards: uint32(len(shards)), Inputs: uint32(len(inputs))}
	for _, in := range inputs {
		res.InputBytes += in.Size
	}
	w.log.Info("planned", "job", t.a.Task.GetJobId(), "inputs", len(inputs), "shards", len(shards))
	return outcome{commit: &pb.TaskCommit{Result: &pb.TaskCommit_Plan{Plan: res}}}, nil
}

// appendPlan sends the specs as JSON in batches of at most PlanBatchSpecs specs and
// PlanBatchBytes bytes (a larger spec alone), in plan order. A batch is sent once: the
// coordinator takes batches strictly in order, so a batch whose answer was lost cannot be
// told from one that was not applied, and the attempt fails instead (the next one plans
// again).
func (w *Worker) appendPlan(t *task, shards []shard.Spec) error {
	var batch [][]byte
	size, first := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		req := &pb.AppendPlanRequest{WorkerId: w.cfg.ID, Task: t.a.Task, Epoch: t.a.Epoch,
			FirstIndex: uint32(first), ShardSpecs: batch}
		err := w.coords.call(t.ctx, func(ctx context.Context, c pb.WorkerServiceClient) error {
			_, err := c.AppendPlan(ctx, req)
			return err
		})
		if err != nil {
			return fmt.Errorf("sending the plan's shards %d-%d: %w", first, first+len(batch)-1, err)
		}
		first += len(batch)
		batch, size = nil, 0
		return nil
	}
	for _, s := range shards {
		b, err := json.Marshal(s)
		if err != nil {
			return err
		}
		if len(batch) > 0 && (len(batch) == w.cfg.PlanBatchSpecs || size+len(b) > w.cfg.PlanBatchBytes) {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, b)
		size += len(b)
	}
	return flush()
}
