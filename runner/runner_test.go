package runner

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// realInputs copies the real corpora into dir: C4 (plain JSONL, cut into many shards by a
// small shard_size), Dolma CC (.gz), jargon (.zst) and a generated Parquet file.
func realInputs(t testing.TB, dir string) []string {
	t.Helper()
	return []string{
		copyFile(t, filepath.Join("..", "shard", "testdata", "c4_head.jsonl"), dir),
		copyFile(t, filepath.Join("..", "shard", "testdata", "cc_en_head-0174.jsonl.gz"), dir),
		copyFile(t, testutil.DemoCorpus(t), dir),
		writeParquet(t, dir, "small.parquet", []string{"alpha beta", "gamma", "delta epsilon zeta", "eta"}, 2),
	}
}

func TestRun_DeterministicAcrossWorkersAndRuns(t *testing.T) {
	dir := t.TempDir()
	ins := realInputs(t, dir)
	tests := []struct {
		name    string
		workers int
		edit    func(*job.Spec)
		// stageMemory is Options.StageMemory: 0 the default budget (the rows staged by
		// these small shards fit), 8 KiB one that the first staged streams fill (the rest
		// spill to disk), -1 none (every staged row on disk).
		stageMemory int64
	}{
		{"workers 1", 1, nil, 0},
		{"workers 4", 4, nil, 0},
		{"workers 4 again", 4, nil, 0},
		{"workers 4, rows staged beyond 8 KiB spill to disk", 4, nil, 8 << 10},
		{"workers 4, staged rows on disk", 4, nil, -1},
		{"workers 3, pad", 3, func(s *job.Spec) { s.Remainder = job.RemainderPad }, 0},
		{"workers 1, pad", 1, func(s *job.Spec) { s.Remainder = job.RemainderPad }, 0},
	}
	var ref map[string]map[string][]byte // by remainder
	ref = map[string]map[string][]byte{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The same output directory every time: output.dir is part of the spec recorded
			// in the manifest.
			s := testSpec(t, dir, func(s *job.Spec) {
				s.Output.Overwrite = true
				s.ShardSize = 16 << 10 // c4_head.jsonl (155 KiB) becomes ~10 shards
				s.Output.DType = job.DTypeAuto
				if tt.edit != nil {
					tt.edit(s)
				}
			}, ins...)
			opt := quietOptions(tt.workers)
			opt.StageMemory = tt.stageMemory
			sum, err := runSpec(t, s, opt)
			if err != nil {
				t.Fatal(err)
			}
			if r := sum.Run; tt.stageMemory < 0 && r.StagingMemoryBytes+r.StagingMemoryPeak != 0 {
				t.Errorf("no memory for staging, yet %d bytes staged in memory (peak %d)", r.StagingMemoryBytes, r.StagingMemoryPeak)
			}
			if r := sum.Run; tt.stageMemory == 0 && r.StagingSpilledBytes != 0 {
				t.Errorf("%d staged bytes spilled to disk under the default budget", r.StagingSpilledBytes)
			}
			if sum.Run.Shards < 10 {
				t.Errorf("only %d shards; the test wants many", sum.Run.Shards)
			}
			checkConservation(t, sum.Manifest)
			if sum.Manifest.DType != "uint32" {
				t.Errorf("auto dtype = %s, want uint32 for cl100k", sum.Manifest.DType)
			}
			files := snapshotFiles(t, s.Output.Dir)
			key := string(s.Remainder)
			if ref[key] == nil {
				ref[key] = files
				return
			}
			testutil.SameTree(t, tt.name, ref[key], files)
		})
	}
}

func checkConservation(t testing.TB, m *shard.Manifest) {
	t.Helper()
	d := m.Documents
	if d.Read == 0 || d.Read != d.Written+d.Rejected {
		t.Errorf("documents %+v", d)
	}
	for _, b := range m.Buckets {
		want := m.Tokens.Train
		if b.Split == shard.SplitVal {
			want = m.Tokens.Val
		}
		if b.Sequences*int64(b.SeqLen)-b.PaddedTailTokens+b.DroppedTailTokens != want {
			t.Errorf("%s_%d: %d sequences, dropped %d, padded %d; split has %d tokens",
				b.Split, b.SeqLen, b.Sequences, b.DroppedTailTokens, b.PaddedTailTokens, want)
		}
		if b.DroppedTailTokens >= int64(b.SeqLen) || b.PaddedTailTokens >= int64(b.SeqLen) {
			t.Errorf("%s_%d: more than one partial sequence left: %+v", b.Split, b.SeqLen, b)
		}
	}
}

func TestRun_FailureLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	good := copyFile(t, filepath.Join("..", "shard", "testdata", "c4_head.jsonl"), dir)
	s := testSpec(t, dir, nil, good, filepath.Join(dir, "missing.jsonl"))
	if _, err := runSpec(t, s, quietOptions(2)); err == nil {
		t.Fatal("a missing input did not fail the job")
	}
	if _, err := os.Stat(s.Output.Dir); !os.IsNotExist(err) {
		t.Errorf("failed job left %s: %v", s.Output.Dir, err)
	}
}
