package coordinator

import (
	"context"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/coordinator/fsm"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"google.golang.org/protobuf/proto"
)

// beatWith heartbeats worker with free slots, listing its tasks with progress bytes each,
// and returns the response.
func (w *placeWorld) beatWith(worker string, free int, bytes int64) *pb.HeartbeatResponse {
	w.t.Helper()
	req := &pb.HeartbeatRequest{WorkerId: worker, FreeSlots: uint32(free)}
	for _, a := range w.running[worker] {
		req.Running = append(req.Running, &pb.RunningTask{Task: a.Task, Epoch: a.Epoch, Progress: &pb.Progress{Bytes: bytes}})
	}
	resp, err := w.sched.heartbeat(context.Background(), req, w.now)
	if err != nil {
		w.t.Fatal(err)
	}
	w.running[worker] = append(w.running[worker], resp.Start...)
	return resp
}

// TestScheduler_Speculation: once nothing of a job is pending, a worker granted nothing
// gets a second attempt of a shard whose progress rate is well below the job's median, and
// only then.
func TestScheduler_Speculation(t *testing.T) {
	const after = 5 * time.Second
	tests := []struct {
		name      string
		cfg       func(*schedConfig)
		extra     string        // job spec lines
		ran       time.Duration // how long the slow shard ran when the idle worker asks
		idle      string        // the worker that asks
		slowBytes int64         // the bytes the slow shard read by then
		want      bool          // a speculative attempt of shard 0 is granted
	}{
		{"a stuck shard runs again on an idle worker", nil, "", 10 * time.Second, "w2", 0, true},
		{"a shard at 0.4 times the median runs again", nil, "", 10 * time.Second, "w2", 20, true},
		{"a shard at half the median does not", nil, "", 10 * time.Second, "w2", 25, false},
		{"not before SpeculateAfter", nil, "", after - time.Second, "w2", 0, false},
		{"not on the worker that runs it", nil, "", 10 * time.Second, "w1", 0, false},
		{"not on a worker the job's constraints refuse", nil, "constraints: ['zone=a']\n", 10 * time.Second, "w3", 0, false},
		{"not with fewer rates than SpeculateSamples", func(c *schedConfig) { c.SpeculateSamples = 5 }, "", 10 * time.Second, "w2", 0, false},
		{"off", func(c *schedConfig) { c.SpeculateSlowness = 0 }, "", 10 * time.Second, "w2", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := schedConfig{SpeculateSlowness: 0.5, SpeculateAfter: after, SpeculateSamples: 3}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			w := newPlaceWorld(t, cfg)
			w.sched.workerAlive("w1", map[string]string{"zone": "a"})
			w.sched.workerAlive("w2", map[string]string{"zone": "a"})
			w.sched.workerAlive("w3", map[string]string{"zone": "b"})
			w.job("j", tt.extra, 4)
			slow := w.beat("w1", 1)
			fast := w.beat("w2", 3)
			if len(slow) != 1 || slow[0].Task.Shard != 0 || len(fast) != 3 {
				t.Fatalf("grants: w1 %v, w2 %v", slow, fast)
			}
			// The fast shards commit after 2s (10 bytes: 5 B/s, the median), the slow one runs on.
			w.now = w.now.Add(2 * time.Second)
			for _, a := range fast {
				w.done(a)
				if err := w.sched.commit(context.Background(), &pb.TaskCommit{Task: a.Task, Epoch: a.Epoch,
					Result: &pb.TaskCommit_Shard{Shard: &pb.ShardResult{Attempt: a.Attempt, Bytes: 10}}}, w.now); err != nil {
					t.Fatal(err)
				}
			}
			w.now = w.now.Add(tt.ran - 2*time.Second)
			w.beatWith("w1", 0, tt.slowBytes)
			resp := w.beatWith(tt.idle, 2, 0)
			if !tt.want {
				if len(resp.Start) != 0 {
					t.Fatalf("%s got %v, want nothing", tt.idle, resp.Start)
				}
				return
			}
			if len(resp.Start) != 1 || resp.Start[0].Task.Shard != 0 || resp.Start[0].Attempt != 1 {
				t.Fatalf("%s got %v, want shard 0 attempt 1", tt.idle, resp.Start)
			}
			if started, won := w.sched.speculations(); started != 1 || won != 0 {
				t.Fatalf("speculations started %d, won %d", started, won)
			}
			// The backup commits first: the slow attempt is told to stop.
			b := resp.Start[0]
			w.done(b)
			if err := w.sched.commit(context.Background(), &pb.TaskCommit{Task: b.Task, Epoch: b.Epoch,
				Result: &pb.TaskCommit_Shard{Shard: &pb.ShardResult{Attempt: b.Attempt, Bytes: 10}}}, w.now); err != nil {
				t.Fatal(err)
			}
			stop := w.beatWith("w1", 0, 0).Stop
			if len(stop) != 1 || stop[0].Epoch != slow[0].Epoch {
				t.Fatalf("w1 told to stop %v, want its attempt of shard 0", stop)
			}
			if started, won := w.sched.speculations(); started != 1 || won != 1 {
				t.Fatalf("speculations started %d, won %d", started, won)
			}
			if info, _ := w.log.state.Task(fsm.TaskRef{Job: "j", Kind: pb.TaskKind_TASK_KIND_SHARD}); info.Result.Attempt != 1 {
				t.Fatalf("shard 0 holds the result of attempt %d", info.Result.Attempt)
			}
		})
	}
}

// TestScheduler_SpeculationRacingDeath: gossip declares the idle worker dead while its
// backup lease is in raft. The backup is granted all the same (the worker may still
// heartbeat: its gossip stalled) and, as a grant that raced with the death, lives only while
// heartbeats renew it: silent, it is taken back two heartbeat intervals after the last
// heartbeat, with the death as the cause, and the slow attempt runs on under its own lease;
// heartbeating, it stays.
func TestScheduler_SpeculationRacingDeath(t *testing.T) {
	for _, heartbeats := range []bool{false, true} {
		t.Run(map[bool]string{false: "silent", true: "still heartbeating"}[heartbeats], func(t *testing.T) {
			w := newPlaceWorld(t, schedConfig{SpeculateSlowness: 0.5, SpeculateAfter: 5 * time.Second, SpeculateSamples: 3})
			w.sched.workerAlive("w1", nil)
			w.sched.workerAlive("w2", nil)
			w.job("j", "", 4)
			slow := w.beat("w1", 1)
			fast := w.beat("w2", 3)
			w.now = w.now.Add(2 * time.Second)
			for _, a := range fast {
				w.done(a)
				if err := w.sched.commit(context.Background(), &pb.TaskCommit{Task: a.Task, Epoch: a.Epoch,
					Result: &pb.TaskCommit_Shard{Shard: &pb.ShardResult{Attempt: a.Attempt, Bytes: 10}}}, w.now); err != nil {
					t.Fatal(err)
				}
			}
			w.now = w.now.Add(8 * time.Second) // w2's heartbeats 10s apart: the death's wait is 20s
			w.beatWith("w1", 0, 0)
			w.log.applied = func(typ fsm.CommandType, _ proto.Message) {
				if typ == fsm.SpeculateLeases {
					w.sched.workerDied("w2", w.now)
				}
			}
			resp := w.beatWith("w2", 2, 0)
			var causes []string // of the expiries applied from now on
			w.log.applied = func(_ fsm.CommandType, m proto.Message) {
				if ex, ok := m.(*pb.ExpireCommand); ok {
					for _, e := range ex.Expiries {
						causes = append(causes, e.Cause)
					}
				}
			}
			if len(resp.Start) != 1 || resp.Start[0].Task.Shard != 0 {
				t.Fatalf("w2 got %v, want the backup of shard 0", resp.Start)
			}
			b := resp.Start[0]
			ref := fsm.RefOf(b.Task)
			death := w.now
			if heartbeats {
				w.now = w.now.Add(15 * time.Second)
				w.beatWith("w1", 0, 1)
				w.beatWith("w2", 0, 1)
			}
			w.sched.expireDue(context.Background(), death.Add(20*time.Second-time.Millisecond))
			if info, _ := w.log.state.Task(ref); info.Backup.Epoch != b.Epoch {
				t.Fatalf("the backup was taken back before the death's wait: %+v", info)
			}
			w.sched.expireDue(context.Background(), death.Add(25*time.Second))
			info, _ := w.log.state.Task(ref)
			if info.State != pb.TaskState_TASK_STATE_LEASED || info.Lease.Epoch != slow[0].Epoch {
				t.Fatalf("task %+v, want the slow attempt (epoch %d) leased", info, slow[0].Epoch)
			}
			if heartbeats {
				if info.Backup.Epoch != b.Epoch {
					t.Fatalf("the backup of a worker that still heartbeats was taken back: %+v", info)
				}
				return
			}
			if info.Backup.Epoch == b.Epoch {
				t.Fatalf("the backup of a silent dead worker outlived the death's wait: %+v", info)
			}
			if want := "worker w2 died (gossip declared it dead, and no heartbeat came after)"; len(causes) != 1 || causes[0] != want {
				t.Fatalf("expiries %q, want one with cause %q", causes, want)
			}
		})
	}
}

// TestScheduler_RetryElsewhere: a task whose attempt failed with ERROR on a worker is not
// granted to it again while another worker may run it, and is when none may.
func TestScheduler_RetryElsewhere(t *testing.T) {
	w := newPlaceWorld(t, schedConfig{})
	w.sched.workerAlive("w1", map[string]string{"zone": "a"})
	w.job("j", "", 1)
	a := w.beat("w1", 1)
	w.failErr(a[0])
	if got := w.beat("w1", 1); len(got) != 1 {
		t.Fatalf("alone, w1 got %v; want its task again", got)
	}
	w.failErr(w.running["w1"][0])
	w.sched.workerAlive("w2", map[string]string{"zone": "a"})
	if got := w.beat("w1", 1); len(got) != 0 {
		t.Fatalf("w1 got %v again while w2 may run it", got)
	}
	if got := w.beat("w2", 1); len(got) != 1 || got[0].Attempt != 2 {
		t.Fatalf("w2 got %v, want the task's attempt 2", got)
	}
}
