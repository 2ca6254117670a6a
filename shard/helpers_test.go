package shard

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/planner"
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

// plan lists and plans the job.
func plan(t testing.TB, s *job.Spec) ([]planner.Input, []Spec) {
	t.Helper()
	inputs, err := planner.List(s, planner.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	shards, err := planner.Plan(s, inputs)
	if err != nil {
		t.Fatal(err)
	}
	return inputs, shards
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
