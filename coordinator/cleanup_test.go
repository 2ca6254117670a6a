package coordinator

import (
	"context"
	"slices"
	"testing"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// A job canceled just after a worker was granted one of its tasks, in the answer to a
// heartbeat that listed nothing of the job: no worker is ordered to remove the job's staged
// files until that worker's next heartbeat says whether it runs the task (a task that runs
// stages files, which a cleanup would remove from under it, to be written again after it),
// and none while it runs it; once a heartbeat of it lists nothing of the job, one is.
func TestCleanups_WaitForTheHeartbeatAfterAGrant(t *testing.T) {
	w := newPlaceWorld(t, schedConfig{})
	w.job("j", "", 2)
	granted := w.beat("a", 1)
	if len(granted) != 1 {
		t.Fatalf("a was granted %d tasks, want 1", len(granted))
	}
	w.must(w.log.apply(fsm.CancelJob, &pb.CancelJobCommand{JobId: "j", Reason: "test"}))
	beat := func(worker string, running ...*pb.Assignment) *pb.HeartbeatResponse {
		t.Helper()
		req := &pb.HeartbeatRequest{WorkerId: worker}
		for _, a := range running {
			req.Running = append(req.Running, &pb.RunningTask{Task: a.Task, Epoch: a.Epoch})
		}
		resp, err := w.sched.heartbeat(context.Background(), req, w.now)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	ordered := func(resp *pb.HeartbeatResponse) bool {
		return slices.ContainsFunc(resp.Cleanup, func(o *pb.CleanupOrder) bool { return o.JobId == "j" })
	}
	if ordered(beat("b")) {
		t.Fatal("b was ordered to clean up j while the grant to a was on its way")
	}
	resp := beat("a", granted[0])
	if len(resp.Stop) != 1 {
		t.Fatalf("a, running the canceled job's task, got %d stop orders, want 1", len(resp.Stop))
	}
	if ordered(resp) || ordered(beat("b")) {
		t.Fatal("a cleanup of j was ordered while a runs its task")
	}
	if !ordered(beat("a")) && !ordered(beat("b")) {
		t.Fatal("no cleanup of j ordered after a stopped its task")
	}
}
