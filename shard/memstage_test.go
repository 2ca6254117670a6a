package shard

import (
	"context"
	"os"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
)

// memFixture plans a many-shard job over a real C4 sample in a directory of its own, with a
// length whose rows (48 ids, 192 bytes) are cut by the ends of 4 KiB chunks.
func memFixture(t *testing.T) (*job.Spec, []Input, []Spec) {
	t.Helper()
	dir := t.TempDir()
	in := copyTestdata(t, dir, "c4_head.jsonl")
	s := newSpec(t, dir, func(s *job.Spec) {
		s.ShardSize = 12 << 10
		s.SequenceLengths = []int{48, 64}
	}, in)
	inputs, shards := plan(t, s)
	if len(shards) < 8 {
		t.Fatalf("want many shards, the plan has %d", len(shards))
	}
	return s, inputs, shards
}

// memFinalizeEnv is the FinalizeEnv of a memFixture job whose shards staged into mem.
func memFinalizeEnv(t *testing.T, s *job.Spec, inputs []Input, mem *MemStage) FinalizeEnv {
	return FinalizeEnv{OutDir: s.Output.Dir, StagingDir: StagingDir(s.Output.Dir, s.Name),
		Tokenizer: loadTokenizer(t), Inputs: inputs, Workers: 2, MemStage: mem}
}

// memReference returns the outputs of a memFixture job whose shards all staged on disk and were
// finalized at once: what every other way of staging must give.
func memReference(t *testing.T) map[string][]byte {
	t.Helper()
	s, inputs, shards := memFixture(t)
	rs, err := executeAll(t, s, shards)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Finalize(context.Background(), s, rs, memFinalizeEnv(t, s, inputs, nil)); err != nil {
		t.Fatal(err)
	}
	return treeBytes(t, s.Output.Dir)
}

func TestMemStage_SameOutputsWhetherRowsStayInMemoryOrSpill(t *testing.T) {
	want := memReference(t)

	tests := []struct {
		name   string
		budget int64
		// spills says some streams go to disk, kept that some stay in memory; firstSpills
		// that the first shard's train stream, started in memory, moves to disk.
		spills, kept, firstSpills bool
	}{
		// Two chunks of 4 KiB: the first shard's train stream (about 10 KB) starts in one,
		// its val stream takes the other, and the train stream moves to disk when it needs
		// a third; the later shards' streams start on disk.
		{"budget of 8 KiB", 8 << 10, true, true, true},
		// 64 chunks of 4 KiB hold every stream: the train streams span several chunks,
		// whose ends cut rows.
		{"budget of 256 KiB", 256 << 10, false, true, false},
		{"budget below a chunk: no MemStage, all on disk", 1 << 10, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, inputs, shards := memFixture(t)
			mem := NewMemStage(tt.budget)
			// Every shard runs before any is assembled, as when each runs beside the one
			// before it: all their streams are staged at once.
			env := Env{Job: s, Tokenizer: loadTokenizer(t), StagingDir: StagingDir(s.Output.Dir, s.Name), MemStage: mem}
			var rs []Result
			for i, sh := range shards {
				r, err := Execute(context.Background(), sh, env)
				if err != nil {
					t.Fatal(err)
				}
				rs = append(rs, r)
				if st := mem.Stats(); i == 0 && (st.Spilled > 0) != tt.firstSpills {
					t.Fatalf("after the first shard, stats %+v: want its stream moved to disk %v", st, tt.firstSpills)
				}
			}
			st := mem.Stats()
			if (st.Spilled > 0) != tt.spills || (st.Kept > 0) != tt.kept {
				t.Fatalf("stats %+v: want spilled %v, kept %v", st, tt.spills, tt.kept)
			}
			if st.Peak > max(tt.budget, 0) {
				t.Errorf("peak %d bytes, over the budget of %d", st.Peak, tt.budget)
			}
			if _, err := Finalize(context.Background(), s, rs, memFinalizeEnv(t, s, inputs, mem)); err != nil {
				t.Fatal(err)
			}
			testutil.SameTree(t, tt.name, want, treeBytes(t, s.Output.Dir))
			if mem != nil && len(mem.streams) != 0 {
				t.Errorf("%d streams left in memory after the publish", len(mem.streams))
			}
			if _, err := os.Stat(env.StagingDir); !os.IsNotExist(err) {
				t.Errorf("staging left behind: %v", err)
			}
		})
	}
}

func TestMemStage_ShardTakesTheLeaseAfterStaging(t *testing.T) {
	// Each shard is refused the lease when it starts and asks again when it finishes, with
	// the shards before it in the outputs by then: its rows staged in memory go into the
	// outputs through the lease, a row cut by the end of a chunk too.
	want := memReference(t)
	s, inputs, shards := memFixture(t)
	mem := NewMemStage(256 << 10) // chunks of 4 KiB, whose ends cut rows of 192 bytes
	a, err := NewAssembler(context.Background(), s, len(shards), memFinalizeEnv(t, s, inputs, mem))
	if err != nil {
		t.Fatal(err)
	}
	asked := map[int]int{}
	env := Env{Job: s, Tokenizer: loadTokenizer(t), StagingDir: StagingDir(s.Output.Dir, s.Name), MemStage: mem,
		Lease: func(i int) *Lease {
			if asked[i]++; asked[i] == 1 {
				return nil
			}
			return a.Lease(i)
		}}
	var all []Result
	for _, sh := range shards {
		r, err := Execute(context.Background(), sh, env)
		if err != nil {
			t.Fatal(err)
		}
		if !r.direct() {
			t.Fatalf("shard %s staged its rows: it should have taken the lease when it finished", r.Shard)
		}
		if err := a.Add(r); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	if _, err := a.Finish(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	testutil.SameTree(t, "leased after staging", want, treeBytes(t, s.Output.Dir))
	if st := mem.Stats(); st.Kept != 0 || st.Peak == 0 {
		t.Errorf("stats %+v: want rows staged in memory (peak) and none kept to the end", st)
	}
}
