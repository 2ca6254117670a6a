package worker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testcluster"
	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/runner"
)

// jobTimeout bounds a job on a test cluster.
const jobTimeout = 60 * time.Second

// words makes the generated documents.
var words = strings.Fields(`the quick brown fox jumps over a lazy dog while seven wizards
quietly hex jolly frogs; tokenization splits text into pieces: 12345, naïve café, 東京 and
emoji 🙂 are here too. A hacker's dictionary says kludge, cruft, grok and foo bar baz.`)

// writeCorpus writes files JSONL files of docs documents each under dir/in, with a few
// malformed lines among them when bad (so that rejects are staged), and returns the
// directory.
func writeCorpus(t testing.TB, dir string, files, docs int, bad bool) string {
	t.Helper()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for f := range files {
		var b strings.Builder
		for d := range docs {
			if bad && d%97 == 13 {
				b.WriteString(`{"text": "unterminated` + "\n")
				continue
			}
			n := 5 + r.IntN(120)
			var doc []string
			for range n {
				doc = append(doc, words[r.IntN(len(words))])
			}
			fmt.Fprintf(&b, `{"id":%d,"text":%q}`+"\n", d, strings.Join(doc, " "))
		}
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("part-%02d.jsonl", f)), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// pretrainSpec is a pretraining job over dir/in/*.jsonl with small shards, so that the
// job has several per file.
func pretrainSpec(dir, name string) string {
	return fmt.Sprintf(`name: %s
inputs:
  - path: %s/in/*.jsonl
tokenizer: cl100k_base
sequence_lengths: [16, 64]
val_fraction: 0.1
shard_size: 12KiB
max_reject_fraction: 0.5
output:
  dir: %s/out
  formats: [hf, npy]
`, name, dir, dir)
}

// reference runs the job file with runner.Run on one worker, returns the sha256 of every
// output file but run.json, and removes the output so that the cluster can publish it
// again.
func reference(t *testing.T, spec string) map[string]string {
	t.Helper()
	s, err := job.Parse([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runner.Run(context.Background(), s, runner.Options{Workers: 1}); err != nil {
		t.Fatalf("runner.Run: %v", err)
	}
	sums := hashTree(t, s.Output.Dir)
	if err := os.RemoveAll(s.Output.Dir); err != nil {
		t.Fatal(err)
	}
	return sums
}

// hashTree returns the sha256 of every file under dir but run.json, by relative path.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "run.json" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		sum := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails the test unless got and want hold the same files with the same bytes.
func sameTree(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("the reference output is empty")
	}
	for name, sum := range want {
		if got[name] != sum {
			t.Errorf("%s: sha256 %s, `tokenmill run` wrote %s", name, got[name], sum)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: not in `tokenmill run`'s output", name)
		}
	}
}

// submit submits a job file through coordinator i and returns the job's id.
func submit(t testing.TB, c *testcluster.Cluster, i int, spec string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Jobs(i).Submit(ctx, &pb.SubmitRequest{Spec: []byte(spec)})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return r.JobId
}

// jobStatus returns a job's status through any running coordinator.
func jobStatus(c *testcluster.Cluster, id string) (*pb.JobStatus, error) {
	var last error
	for i := range c.Len() {
		if c.Node(i) == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := c.Jobs(i).Get(ctx, &pb.GetRequest{JobId: id})
		cancel()
		if err == nil {
			return r.Job, nil
		}
		last = err
	}
	return nil, last
}

// waitState waits until the job is in a final state and fails the test unless it is want.
func waitState(t testing.TB, c *testcluster.Cluster, id string, want pb.JobState) *pb.JobStatus {
	t.Helper()
	var st *pb.JobStatus
	testcluster.WaitFor(t, jobTimeout, "job "+id+" to end", func() error {
		s, err := jobStatus(c, id)
		if err != nil {
			return err
		}
		st = s
		switch s.State {
		case pb.JobState_JOB_STATE_SUCCEEDED, pb.JobState_JOB_STATE_FAILED, pb.JobState_JOB_STATE_CANCELED:
			return nil
		}
		return fmt.Errorf("job is %s, %d of %d shards committed", s.State, s.GetTasks().GetCommitted(), s.Shards)
	})
	if st.State != want {
		t.Fatalf("job %s ended %s (want %s): %s", id, st.State, want, st.Error)
	}
	return st
}

// noLeftovers fails the test if the job left a staging area or a temporary directory
// beside its output.
func noLeftovers(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(out, ".staging")); !os.IsNotExist(err) {
		var left []string
		filepath.WalkDir(filepath.Join(out, ".staging"), func(p string, d os.DirEntry, err error) error {
			left = append(left, p)
			return nil
		})
		t.Errorf("staged files left behind: %v", left)
	}
	entries, err := os.ReadDir(filepath.Dir(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "."+filepath.Base(out)+".") {
			t.Errorf("temporary directory left beside the output: %s", e.Name())
		}
	}
}

// waitMember waits until the members listed by a running coordinator show the node id in
// state (alive, dead, left).
func waitMember(t *testing.T, c *testcluster.Cluster, id, state string) {
	t.Helper()
	testcluster.WaitFor(t, testcluster.Timeout, id+" "+state+" in the members", func() error {
		for i := range c.Len() {
			if c.Node(i) == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r, err := c.Cluster(i).Members(ctx, &pb.MembersRequest{})
			cancel()
			if err != nil {
				return err
			}
			for _, m := range r.Members {
				if m.Id == id {
					if m.State != state {
						return fmt.Errorf("%s is %s", id, m.State)
					}
					return nil
				}
			}
			return fmt.Errorf("%s not in the members", id)
		}
		return fmt.Errorf("no coordinator up")
	})
}
