package worker_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

func TestMain(m *testing.M) {
	testcluster.VerifyTestMain(m)
}

// A pretraining job, a validate job and a convert job on 3 coordinators and 3 workers
// publish what `tokenmill run` publishes with one worker, byte for byte (run.json aside),
// and leave no staged or temporary file behind.
func TestCluster_JobsMatchTokenmillRun(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Coordinators: 3, Workers: 3})
	tests := []struct {
		name string
		bad  bool // malformed lines in the inputs
		spec func(dir string) string
	}{
		{"pretrain", true, func(dir string) string { return pretrainSpec(dir, "pre") }},
		{"validate", true, func(dir string) string {
			return "kind: validate\nname: val\nstage: pretrain\nshard_size: 12KiB\ninputs:\n  - path: " + dir +
				"/in/*.jsonl\noutput:\n  dir: " + dir + "/out\n"
		}},
		{"convert", false, func(dir string) string {
			return "kind: convert\nname: conv\nto: parquet\nshard_size: 12KiB\ninputs:\n  - path: " + dir +
				"/in/*.jsonl\noutput:\n  dir: " + dir + "/out\n"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCorpus(t, dir, 3, 300, tt.bad)
			spec := tt.spec(dir)
			want := reference(t, spec)
			id := submit(t, c, c.Followers()[0], spec)
			st := waitState(t, c, id, pb.JobState_JOB_STATE_SUCCEEDED)
			if st.Shards < 4 {
				t.Errorf("the job ran %d shards; the test wants several", st.Shards)
			}
			out := filepath.Join(dir, "out")
			sameTree(t, hashTree(t, out), want)
			noLeftovers(t, out)
			if _, err := os.Stat(filepath.Join(out, "run.json")); err != nil {
				t.Errorf("run.json: %v", err)
			}
		})
	}
}
