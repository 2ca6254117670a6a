package runner

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
)

// oneShardCorpus writes a .jsonl.zst file (one shard, whatever the shard size) of the jargon
// sample (2,307 documents, 1.5 MB) with a bad record after every 25th line, so that rejects
// and documents interleave.
func oneShardCorpus(t testing.TB, dir string) string {
	t.Helper()
	bad := []string{`{"text": 7}`, `not json`, `{"text":"   "}`, `{"body":"no text"}`}
	var b bytes.Buffer
	for i, l := range testutil.DemoLines(t) {
		b.Write(l)
		b.WriteByte('\n')
		if i%25 == 24 {
			b.WriteString(bad[(i/25)%len(bad)] + "\n")
		}
	}
	return writeBytes(t, dir, "c4.jsonl.zst", testutil.Zstd(t, b.Bytes()))
}

// A job of one compressed file is one shard: idle workers tokenize batches of its documents
// for it (shard.TokenizePool). The outputs must be the bytes of a one-worker run, whatever the
// batch size, the number of helpers and the order in which they finish.
func TestRun_TokenizePoolKeepsOutputsIdentical(t *testing.T) {
	dir := t.TempDir()
	in := oneShardCorpus(t, dir)
	tests := []struct {
		name       string
		workers    int
		batchBytes int
		wantHelp   bool
	}{
		{"one worker", 1, 0, false},
		{"two workers, 4 KiB batches", 2, 4 << 10, true},
		{"four workers, one document per batch", 4, 1, true},
		{"three workers, 1 MiB batches", 3, 0, false}, // one or two batches, maybe helped
		{"four workers, 64 KiB batches", 4, 64 << 10, true},
	}
	var ref map[string][]byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec(t, dir, func(s *job.Spec) {
				s.Output.Overwrite = true
				s.MaxRejectFraction = 1
				s.SequenceLengths = []int{64, 256, 1024}
				s.Output.Formats = []job.OutputFormat{job.OutputHF, job.OutputNPY}
			}, in)
			opt := quietOptions(tt.workers)
			opt.BatchBytes = tt.batchBytes
			sum, err := runSpec(t, s, opt)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Run.Shards != 1 {
				t.Fatalf("%d shards, want 1", sum.Run.Shards)
			}
			checkConservation(t, sum.Manifest)
			if d := sum.Manifest.Documents; d.Rejected == 0 || d.Written < 2000 {
				t.Errorf("documents %+v: want both written and rejected", d)
			}
			ex := sum.Run.Stages.Execute
			if tt.wantHelp && ex.Helped <= 0 {
				t.Errorf("no batch was tokenized by a helper (stages %+v)", ex)
			}
			if tt.workers == 1 && ex.Helped != 0 {
				t.Errorf("one worker, yet %v s tokenized by helpers", ex.Helped)
			}
			files := snapshotFiles(t, s.Output.Dir)
			if ref == nil {
				ref = files
				return
			}
			testutil.SameTree(t, tt.name, ref, files)
		})
	}
}

// A shard that fails while helpers hold batches of it fails the job, naming the file, with
// nothing published, and without waiting forever for the batches it gave away.
func TestRun_TokenizePoolShardFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	full, err := os.ReadFile(oneShardCorpus(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{2, 4} {
		in := writeBytes(t, dir, "cut.jsonl.zst", full[:len(full)*3/4])
		s := testSpec(t, dir, func(s *job.Spec) {
			s.MaxRejectFraction = 1
			s.Output.Dir = filepath.Join(dir, "out-cut")
		}, in)
		opt := quietOptions(workers)
		opt.BatchBytes = 1
		_, err := runSpec(t, s, opt)
		if err == nil || !strings.Contains(err.Error(), "cut.jsonl.zst") {
			t.Fatalf("workers %d: err = %v, want a failure naming cut.jsonl.zst", workers, err)
		}
		if _, err := os.Stat(s.Output.Dir); !os.IsNotExist(err) {
			t.Errorf("workers %d: failed job left %s", workers, s.Output.Dir)
		}
	}
}

// A job of several .jsonl.zst files on fewer workers than runningShards allows a second shard
// for runs one shard at a time, the other workers helping it: every shard starts once the one
// before it has finished, takes the lease at once, and stages nothing. With more workers two
// shards run at once. The outputs are the bytes of a one-worker run either way.
func TestRun_ShardsStartInPlanOrderWithHelpers(t *testing.T) {
	dir := t.TempDir()
	docs := testutil.DemoLines(t)
	var ins []string
	for part := range 6 {
		var b bytes.Buffer
		for _, l := range docs[part*len(docs)/6 : (part+1)*len(docs)/6] {
			b.Write(l)
			b.WriteByte('\n')
		}
		ins = append(ins, writeBytes(t, dir, fmt.Sprintf("part-%d.jsonl.zst", part), testutil.Zstd(t, b.Bytes())))
	}
	tests := []struct {
		name      string
		workers   int
		batch     int
		noStaging bool
	}{
		{"one worker", 1, 0, true},
		{"two workers, 4 KiB batches", 2, 4 << 10, true},
		{"three workers, 64 KiB batches", 3, 64 << 10, true},
		{"four workers: two shards at once", 4, 4 << 10, false},
	}
	var ref map[string][]byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec(t, dir, func(s *job.Spec) {
				s.Output.Overwrite = true
				s.ShardSize = 64 << 10 // a shard per file
			}, ins...)
			opt := quietOptions(tt.workers)
			opt.BatchBytes = tt.batch
			sum, err := runSpec(t, s, opt)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Run.Shards != len(ins) {
				t.Fatalf("%d shards, want %d", sum.Run.Shards, len(ins))
			}
			checkConservation(t, sum.Manifest)
			if tt.noStaging && sum.Run.StagingBytes != 0 {
				t.Errorf("%d bytes staged, want none: every shard should start after the one before it", sum.Run.StagingBytes)
			}
			if tt.workers > 1 && sum.Run.Stages.Execute.Helped <= 0 {
				t.Errorf("no batch was tokenized by a helper (stages %+v)", sum.Run.Stages.Execute)
			}
			files := snapshotFiles(t, s.Output.Dir)
			if ref == nil {
				ref = files
				return
			}
			testutil.SameTree(t, tt.name, ref, files)
		})
	}
}

func TestRunningShards(t *testing.T) {
	tests := []struct{ workers, want int }{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 2}, {6, 2}, {7, 3}, {16, 6}}
	for _, tt := range tests {
		if got := runningShards(tt.workers); got != tt.want {
			t.Errorf("runningShards(%d) = %d, want %d", tt.workers, got, tt.want)
		}
	}
}
