package coordinator

import (
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
	ordered := func(resp *pb.HeartbeatResponse) bool {
		return slices.ContainsFunc(resp.Cleanup, func(o *pb.CleanupOrder) bool { return o.JobId == "j" })
	}
	if ordered(w.send("b", 0, nil)) {
		t.Fatal("b was ordered to clean up j while the grant to a was on its way")
	}
	resp := w.send("a", 0, granted)
	if len(resp.Stop) != 1 {
		t.Fatalf("a, running the canceled job's task, got %d stop orders, want 1", len(resp.Stop))
	}
	if ordered(resp) || ordered(w.send("b", 0, nil)) {
		t.Fatal("a cleanup of j was ordered while a runs its task")
	}
	if !ordered(w.send("a", 0, nil)) && !ordered(w.send("b", 0, nil)) {
		t.Fatal("no cleanup of j ordered after a stopped its task")
	}
}
