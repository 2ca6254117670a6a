package planner

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// BenchmarkList_SmallFiles lists and plans a directory of 3,000 one-document files, the
// case where reading each file's first bytes for format detection could dominate planning.
func BenchmarkList_SmallFiles(b *testing.B) {
	for _, ext := range []string{".txt", ".jsonl"} {
		b.Run(ext[1:], func(b *testing.B) {
			dir := b.TempDir()
			for i := range 3000 {
				doc := fmt.Sprintf("{\"text\":\"document %d of a directory of small files\"}\n", i)
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("doc%04d%s", i, ext)), []byte(doc), 0o644); err != nil {
					b.Fatal(err)
				}
			}
			spec := testSpec(64 << 20)
			spec.Inputs = []job.Input{{Path: dir, Format: job.FormatAuto, TextField: "text"}}
			b.ResetTimer()
			for b.Loop() {
				ins, err := List(spec, ListOptions{})
				if err != nil || len(ins) != 3000 {
					b.Fatalf("List: %d inputs, %v", len(ins), err)
				}
				if _, err := Plan(spec, ins); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlan_MillionFiles plans a listing of 1,000,000 files, built in memory: nine in
// ten small (1 KiB to 512 KiB, planned in runs of files) and one in ten medium (1 MiB to
// 256 MiB, cut into byte ranges), with the default shard_size. The target is under 10 s.
func BenchmarkPlan_MillionFiles(b *testing.B) {
	spec := job.DefaultSpec()
	spec.Name, spec.Tokenizer = "plan-bench", "cl100k_base"
	spec.Inputs = []job.Input{job.DefaultInput("/data/corpus")}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1_000_000
	inputs := make([]shard.Input, n)
	for i := range inputs {
		size := 1<<10 + rng.Int64N(511<<10)
		if rng.IntN(10) == 0 {
			size = 1<<20 + rng.Int64N(255<<20)
		}
		inputs[i] = shard.Input{Path: fmt.Sprintf("/data/corpus/%04d/part-%07d.jsonl", i/1000, i),
			Format: job.FormatJSONL, TextField: "text", Size: size}
	}
	var shards int
	b.ResetTimer()
	for range b.N {
		out, err := Plan(spec, inputs)
		if err != nil {
			b.Fatal(err)
		}
		shards = len(out)
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/plan")
	b.ReportMetric(float64(shards), "shards")
}

// BenchmarkList_100kFiles lists a directory tree of 100,000 small JSONL files (100
// directories of 1,000), made once per run in the benchmark's directory.
func BenchmarkList_100kFiles(b *testing.B) {
	dir := b.TempDir()
	line := []byte(`{"text":"hello"}` + "\n")
	for d := range 100 {
		sub := filepath.Join(dir, fmt.Sprintf("%03d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range 1000 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%04d.jsonl", f)), line, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	spec := job.DefaultSpec()
	spec.Name, spec.Tokenizer = "list-bench", "cl100k_base"
	spec.Inputs = []job.Input{job.DefaultInput(dir)}
	b.ResetTimer()
	for range b.N {
		ins, err := List(spec, ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(ins) != 100_000 {
			b.Fatalf("listed %d files, want 100000", len(ins))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N), "s/list")
}
