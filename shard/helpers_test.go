package shard

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// cl100k loads the real tokenizer once per test binary.
var cl100k = sync.OnceValues(func() (*tokenizer.Tokenizer, error) { return tokenizer.Load("cl100k_base") })

func loadTokenizer(t testing.TB) *tokenizer.Tokenizer {
	t.Helper()
	tk, err := cl100k()
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// newSpec returns a validated job over the given input paths, writing to dir/out.
func newSpec(t testing.TB, dir string, edit func(*job.Spec), paths ...string) *job.Spec {
	t.Helper()
	s := job.DefaultSpec()
	s.Name = "test"
	s.Tokenizer = "cl100k_base"
	for _, p := range paths {
		s.Inputs = append(s.Inputs, job.DefaultInput(p))
	}
	s.SequenceLengths = []int{16, 64}
	s.ValFraction = 0.2
	s.Output.Dir = filepath.Join(dir, "out")
	s.Output.Formats = []job.OutputFormat{job.OutputHF, job.OutputNPY}
	if edit != nil {
		edit(s)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// plan lists and plans the job as the planner does with the inputs these tests use: each
// input a .jsonl file, maybe .gz or .zst; an uncompressed one is cut into even byte ranges of
// at most shard_size (none when empty), a compressed one is read whole. (Package planner
// imports shard, so shard's tests cannot call it.)
func plan(t testing.TB, s *job.Spec) ([]Input, []Spec) {
	t.Helper()
	var inputs []Input
	var shards []Spec
	for i, e := range s.Inputs {
		fi, err := os.Stat(e.Path)
		if err != nil {
			t.Fatal(err)
		}
		in := Input{Path: e.Path, Entry: i, Format: job.FormatJSONL, Size: fi.Size(), TextField: e.TextField}
		name := e.Path
		switch ext := filepath.Ext(name); ext {
		case ".gz":
			in.Compression, name = CompressionGzip, strings.TrimSuffix(name, ext)
		case ".zst":
			in.Compression, name = CompressionZstd, strings.TrimSuffix(name, ext)
		}
		if filepath.Ext(name) != ".jsonl" {
			t.Fatalf("plan: %s: the test planner takes .jsonl files only", e.Path)
		}
		inputs = append(inputs, in)
		shards = append(shards, byteRanges(in, int64(s.ShardSize))...)
	}
	for i := range shards {
		shards[i].ID, shards[i].Index, shards[i].Job = fmt.Sprintf("%06d", i), i, s.Name
	}
	return inputs, shards
}

// byteRanges cuts an uncompressed file into n even ranges of at most size bytes, range k
// being [k*Size/n, (k+1)*Size/n); a compressed file is one whole-file shard.
func byteRanges(in Input, size int64) []Spec {
	if in.Compression != CompressionNone {
		return []Spec{WholeFile(in)}
	}
	n := (in.Size + size - 1) / size
	var out []Spec
	for k := range n {
		s := WholeFile(in)
		s.Kind, s.ByteStart, s.ByteEnd = KindBytes, k*in.Size/n, (k+1)*in.Size/n
		if k > 0 {
			s.StartLine = 0
		}
		out = append(out, s)
	}
	return out
}

// executeAll runs every shard in order and returns the results, or the first error.
func executeAll(t testing.TB, s *job.Spec, shards []Spec) ([]Result, error) {
	t.Helper()
	env := Env{Job: s, Tokenizer: loadTokenizer(t), StagingDir: StagingDir(s.Output.Dir, s.Name)}
	var rs []Result
	for _, sh := range shards {
		r, err := Execute(context.Background(), sh, env)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// runJob plans, executes and finalizes s.
func runJob(t testing.TB, s *job.Spec) (*Manifest, error) {
	t.Helper()
	inputs, shards := plan(t, s)
	rs, err := executeAll(t, s, shards)
	if err != nil {
		return nil, err
	}
	return Finalize(context.Background(), s, rs, FinalizeEnv{OutDir: s.Output.Dir,
		StagingDir: StagingDir(s.Output.Dir, s.Name), Tokenizer: loadTokenizer(t), Inputs: inputs,
		Overwrite: s.Output.Overwrite})
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// copyTestdata copies a file of testdata into dir.
func copyTestdata(t testing.TB, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, string(b))
}
