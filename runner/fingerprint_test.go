package runner

import (
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// checkFingerprints checks that the manifest fingerprints every input with the CRC-32C of
// the whole file, however its shards cut it.
func checkFingerprints(t testing.TB, inputs []shard.InputInfo) {
	t.Helper()
	if len(inputs) == 0 {
		t.Fatal("the manifest lists no input")
	}
	for _, in := range inputs {
		b, err := os.ReadFile(in.Path)
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%08x", crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))); in.CRC32C != want {
			t.Errorf("%s: crc32c %q, want %s", in.Path, in.CRC32C, want)
		}
	}
}

// Every input of a job is fingerprinted in the manifest by its CRC-32C, for byte ranges,
// compressed files and Parquet files cut into row-group shards alike, whatever the workers;
// and the same for validate and convert jobs.
func TestRun_InputFingerprints(t *testing.T) {
	dir := t.TempDir()
	// Rows that do not compress, so that each row group is a few KiB.
	rng := rand.New(rand.NewPCG(5, 6))
	texts := make([]string, 40)
	for i := range texts {
		var b strings.Builder
		for range 150 {
			fmt.Fprintf(&b, "%x ", rng.Uint32())
		}
		texts[i] = b.String()
	}
	ins := append(realInputs(t, dir), writeParquet(t, dir, "groups.parquet", texts, 4))
	for _, workers := range []int{1, 3} {
		s := testSpec(t, dir, func(s *job.Spec) {
			s.Output.Dir = filepath.Join(dir, fmt.Sprintf("out-%d", workers))
			s.ShardSize = 8 << 10 // c4_head.jsonl in ~20 ranges, groups.parquet in several shards
		}, ins...)
		_, shards := planSpec(t, s)
		kinds := map[shard.Kind]int{}
		for _, sh := range shards {
			kinds[sh.Kind]++
		}
		if kinds[shard.KindBytes] < 10 || kinds[shard.KindRowGroups] < 3 {
			t.Fatalf("shards by kind %v; the test wants many byte ranges and row-group shards", kinds)
		}
		sum, err := runSpec(t, s, quietOptions(workers))
		if err != nil {
			t.Fatal(err)
		}
		checkFingerprints(t, sum.Manifest.Inputs)
	}
	for _, kind := range []job.Kind{job.KindValidate, job.KindConvert} {
		s := job.DefaultSpec()
		s.Name, s.Kind, s.Tokenizer, s.ShardSize = "fp", kind, "", 8<<10
		s.Inputs = []job.Input{job.DefaultInput(ins[0]), job.DefaultInput(ins[2])}
		s.Output.Dir = filepath.Join(dir, "out-"+string(kind))
		if kind == job.KindValidate {
			s.Stage = "pretrain"
		} else {
			s.To = job.ConvertJSONL
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		sum, err := runSpec(t, s, quietOptions(2))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		checkFingerprints(t, sum.Records.Inputs)
	}
}
