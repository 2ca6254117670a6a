package worker_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/worker"
)

// TestCluster_ConstraintsPlaceTasks: on real workers tagged by --tag, every task of a job
// (plan, shards, finalize) runs on the workers its constraints accept, and the output is
// what `tokenmill run` publishes.
func TestCluster_ConstraintsPlaceTasks(t *testing.T) {
	tags := []map[string]string{{"zone": "a"}, {"zone": "b", "gpu": "h100"}}
	g := newGate(func(string, string, any) bool { return false }) // counts the commits
	l := newLedger()
	c := testcluster.Start(t, testcluster.Options{Coordinators: 1, Workers: 2, Worker: func(i int, cfg *worker.Config) {
		cfg.Tags = tags[i]
		g.instrument(cfg, l)
	}})
	waitMember(t, c, "w1", "alive")
	waitMember(t, c, "w2", "alive")
	tests := []struct {
		constraints string
		on          string // the worker that must run every task
	}{
		{"[gpu=h100]", "w2"},
		{"['zone!=b']", "w1"},
		{"[zone]", ""}, // both
	}
	for _, tt := range tests {
		t.Run(tt.constraints, func(t *testing.T) {
			dir := t.TempDir()
			writeCorpus(t, dir, 2, 300, false)
			spec := pretrainSpec(dir, "placed")
			want := reference(t, spec)
			w1, w2 := g.acceptedBy("w1"), g.acceptedBy("w2")
			id := submit(t, c, 0, spec+"constraints: "+tt.constraints+"\n")
			st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
			total := int(st.Shards) + 2
			// The job succeeds when the finalize's commit is applied, a moment before its
			// worker has the answer.
			var n1, n2 int
			testcluster.WaitFor(t, testcluster.Timeout, fmt.Sprintf("%d commits answered", total), func() error {
				n1, n2 = g.acceptedBy("w1")-w1, g.acceptedBy("w2")-w2
				if n1+n2 < total {
					return fmt.Errorf("commits by w1 %d, w2 %d", n1, n2)
				}
				return nil
			})
			switch tt.on {
			case "w1":
				if n1 != total || n2 != 0 {
					t.Errorf("commits by w1 %d, w2 %d: want all %d by w1", n1, n2, total)
				}
			case "w2":
				if n2 != total || n1 != 0 {
					t.Errorf("commits by w1 %d, w2 %d: want all %d by w2", n1, n2, total)
				}
			default:
				if n1+n2 != total {
					t.Errorf("commits by w1 %d, w2 %d: want %d", n1, n2, total)
				}
			}
			out := filepath.Join(dir, "out")
			sameTree(t, hashTree(t, out), want)
			noLeftovers(t, out)
		})
	}
}
