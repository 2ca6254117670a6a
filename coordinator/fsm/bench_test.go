package fsm

import (
	"testing"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
)

// BenchmarkFSM_Transitions applies the shard transitions of a job of 100,000 shards through
// ApplyCommand (decoding included), in batches of 1,000 per log entry: each shard granted,
// then committed with a realistic result. It reports transitions per second.
func BenchmarkFSM_Transitions(b *testing.B) {
	const n, batch = 100_000, 1000
	h := newHarness(b)
	h.planned("j", n, 0)
	base := persist(b, h.f)
	start := h.index
	var entries [][]byte
	for from := 0; from < n; from += batch {
		grant := &pb.GrantCommand{}
		commit := &pb.CommitCommand{}
		epoch := start + uint64(len(entries)) + 1
		for i := from; i < from+batch; i++ {
			ref := shardRef("j", i)
			grant.Grants = append(grant.Grants, &pb.Grant{Task: ref.Proto(), WorkerId: "worker-0042", DeadlineUnixMs: 1_780_000_030_000})
			commit.Commits = append(commit.Commits, shardCommit(ref, epoch, 0))
		}
		g, err := Encode(GrantLeases, grant)
		if err != nil {
			b.Fatal(err)
		}
		c, err := Encode(CommitTasks, commit)
		if err != nil {
			b.Fatal(err)
		}
		entries = append(entries, g, c)
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		f := restore(b, base)
		b.StartTimer()
		for k, data := range entries {
			res, err := f.ApplyCommand(start+uint64(k)+1, data)
			if err != nil {
				b.Fatal(err)
			}
			if err := res.Err(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(2*n*b.N)/b.Elapsed().Seconds(), "transitions/s")
}
