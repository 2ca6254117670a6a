package shard

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
)

// assembleFixture plans and executes a many-shard job (byte ranges of a real C4 sample) and
// returns its spec, inputs' env and results; each call has its own directory.
func assembleFixture(t *testing.T) (*job.Spec, FinalizeEnv, []Result) {
	t.Helper()
	dir := t.TempDir()
	in := copyTestdata(t, dir, "c4_head.jsonl")
	s := newSpec(t, dir, func(s *job.Spec) { s.ShardSize = 12 << 10 }, in)
	inputs, shards := plan(t, s)
	if len(shards) < 8 {
		t.Fatalf("want many shards, the plan has %d", len(shards))
	}
	rs, err := executeAll(t, s, shards)
	if err != nil {
		t.Fatal(err)
	}
	return s, FinalizeEnv{OutDir: s.Output.Dir, StagingDir: StagingDir(s.Output.Dir, s.Name),
		Tokenizer: loadTokenizer(t), Inputs: inputs, Workers: 3}, rs
}

// treeBytes maps each file under dir (relative path) to its contents, with the directory
// of the job (where its inputs are, named in the manifest) replaced by "DIR".
func treeBytes(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := testutil.ReadTree(t, dir)
	for rel, b := range files {
		b = bytes.ReplaceAll(b, []byte(filepath.Dir(dir)), []byte("DIR"))
		if rel == "manifest.json" {
			b = regexp.MustCompile(`"job_fingerprint": "[0-9a-f]+"`).ReplaceAll(b, nil)
		}
		files[rel] = b
	}
	return files
}

// stagedReference is the output of the fixture's job with every shard staged and finalized at
// once, as treeBytes gives it.
func stagedReference(t *testing.T) map[string][]byte {
	t.Helper()
	s, env, rs := assembleFixture(t)
	if _, err := Finalize(context.Background(), s, rs, env); err != nil {
		t.Fatal(err)
	}
	return treeBytes(t, s.Output.Dir)
}

func TestAssembler_ArrivalOrderDoesNotChangeOutputs(t *testing.T) {
	want := stagedReference(t)

	orders := map[string]func([]Result){
		"reversed": func(r []Result) {
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
		},
		"shuffled": func(r []Result) {
			rng := rand.New(rand.NewPCG(1, 2))
			rng.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		},
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			s, env, rs := assembleFixture(t)
			a, err := NewAssembler(context.Background(), s, len(rs), env)
			if err != nil {
				t.Fatal(err)
			}
			added := append([]Result(nil), rs...)
			order(added)
			// Hand over all but the last few: Finish adds those, and a repeated Add of
			// the same attempt is harmless.
			for _, r := range added[:len(added)-3] {
				if err := a.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Add(added[0]); err != nil {
				t.Fatalf("repeated Add: %v", err)
			}
			if _, err := a.Finish(context.Background(), rs); err != nil {
				t.Fatal(err)
			}
			testutil.SameTree(t, "results added "+name, want, treeBytes(t, s.Output.Dir))
			if _, err := os.Stat(env.StagingDir); !os.IsNotExist(err) {
				t.Errorf("staging left behind: %v", err)
			}
		})
	}
}

func TestAssembler_RefusesAnotherAttemptOfAnAddedShard(t *testing.T) {
	s, env, rs := assembleFixture(t)
	a, err := NewAssembler(context.Background(), s, len(rs), env)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	if err := a.Add(rs[2]); err != nil {
		t.Fatal(err)
	}
	other := rs[2]
	other.Attempt++
	if err := a.Add(other); err == nil || !strings.Contains(err.Error(), "reported twice") {
		t.Fatalf("err = %v", err)
	}
	bad := rs[1]
	bad.Index = len(rs)
	if err := a.Add(bad); err == nil || !strings.Contains(err.Error(), "the plan has") {
		t.Fatalf("err = %v", err)
	}
}

func TestAssembler_CorruptStagedRowsFailWithoutOutput(t *testing.T) {
	s, env, rs := assembleFixture(t)
	// Flip a byte of shard 3's staged train rows: the CRC-32C check must catch it.
	b := rs[3].Bucket(SplitTrain, 16)
	p := filepath.Join(env.StagingDir, b.File.Name)
	data, err := os.ReadFile(p)
	if err != nil || len(data) == 0 {
		t.Fatalf("staged rows: %v (%d bytes)", err, len(data))
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := NewAssembler(context.Background(), s, len(rs), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		a.Add(r) // may already report the failure
	}
	_, err = a.Finish(context.Background(), rs)
	if err == nil || !strings.Contains(err.Error(), "CRC-32C") || !strings.Contains(err.Error(), rs[3].Shard) {
		t.Fatalf("err = %v, want a CRC-32C error naming shard %s", err, rs[3].Shard)
	}
	assertNothingPublished(t, s.Output.Dir)
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Output.Dir), ".out.tmp-*")); len(tmp) != 0 {
		t.Errorf("temporary output left: %v", tmp)
	}
}

func TestAssembler_AbortAndCancelLeaveNoOutput(t *testing.T) {
	tests := []struct {
		name string
		stop func(*Assembler, context.CancelFunc)
	}{
		{"abort", func(a *Assembler, _ context.CancelFunc) { a.Abort() }},
		{"cancel", func(_ *Assembler, cancel context.CancelFunc) { cancel() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, env, rs := assembleFixture(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			a, err := NewAssembler(ctx, s, len(rs), env)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs[:len(rs)/2] {
				if err := a.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			tt.stop(a, cancel)
			if _, err := a.Finish(ctx, rs); err == nil {
				t.Fatal("Finish after the stop succeeded")
			}
			a.Abort() // again: harmless
			assertNothingPublished(t, s.Output.Dir)
			if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Output.Dir), ".out.tmp-*")); len(tmp) != 0 {
				t.Errorf("temporary output left: %v", tmp)
			}
		})
	}
}

// assertNothingPublished checks that out holds nothing but the staging area (the caller's to
// remove).
func assertNothingPublished(t *testing.T, out string) {
	t.Helper()
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if e.Name() != ".staging" {
			t.Errorf("%s holds %s after a failed assembly", out, e.Name())
		}
	}
}

func TestFinalize_RetriedShardsGiveTheSameOutputs(t *testing.T) {
	// A retry (a worker lost, a shard handed out again) runs the shard as a new attempt in its
	// own staging directory; whichever attempt's result is committed, the outputs are the same,
	// and an abandoned attempt's leftovers change nothing.
	want := stagedReference(t)
	s, env, rs := assembleFixture(t)
	_, shards := plan(t, s)
	for _, i := range []int{0, 3, len(rs) - 1} {
		retry := Env{Job: s, Tokenizer: env.Tokenizer, StagingDir: env.StagingDir, Attempt: 1}
		r, err := Execute(context.Background(), shards[i], retry)
		if err != nil {
			t.Fatal(err)
		}
		if r.Dir == rs[i].Dir {
			t.Fatalf("attempt 1 of shard %d staged into attempt 0's directory %s", i, r.Dir)
		}
		rs[i] = r // attempt 0's files stay behind, abandoned
	}
	if _, err := Finalize(context.Background(), s, rs, env); err != nil {
		t.Fatal(err)
	}
	testutil.SameTree(t, "after retries", want, treeBytes(t, s.Output.Dir))
}

func TestAssembler_LeasedShardsWriteTheSameOutputs(t *testing.T) {
	want := stagedReference(t)
	// Shards run one after the other, each asking for the lease, as one local worker does
	// (with one Scratch for all of them, where the reference had none);
	// every third shard is run before its predecessor has been added, so it stages.
	s, env, _ := assembleFixture(t)
	os.RemoveAll(env.StagingDir)
	_, shards := plan(t, s)
	a, err := NewAssembler(context.Background(), s, len(shards), env)
	if err != nil {
		t.Fatal(err)
	}
	xenv := Env{Job: s, Tokenizer: env.Tokenizer, StagingDir: env.StagingDir, Lease: a.Lease, Scratch: new(Scratch)}
	defer xenv.Scratch.Close()
	var all []Result
	var held *Result
	direct := 0
	for i, sh := range shards {
		r, err := Execute(context.Background(), sh, xenv)
		if err != nil {
			t.Fatal(err)
		}
		if r.direct() {
			direct++
		}
		all = append(all, r)
		if i%3 == 1 && held == nil {
			held = &all[len(all)-1] // added after the next shard ran
			continue
		}
		if err := a.Add(r); err != nil {
			t.Fatal(err)
		}
		if held != nil {
			if err := a.Add(*held); err != nil {
				t.Fatal(err)
			}
			held = nil
		}
	}
	if direct == 0 || direct == len(shards) {
		t.Fatalf("%d of %d shards ran under a lease; the test wants some of each", direct, len(shards))
	}
	if _, err := a.Finish(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	testutil.SameTree(t, "leased and staged", want, treeBytes(t, s.Output.Dir))
}

func TestAssembler_LeaseGoesToTheHeadOnly(t *testing.T) {
	s, env, rs := assembleFixture(t)
	a, err := NewAssembler(context.Background(), s, len(rs), env)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Abort()
	if a.Lease(1) != nil {
		t.Error("shard 1 got the lease before shard 0 was in the outputs")
	}
	l := a.Lease(0)
	if l == nil {
		t.Fatal("shard 0, the head, got no lease")
	}
	if a.Lease(0) != nil || a.Lease(1) != nil {
		t.Error("a second lease was granted while shard 0 holds one")
	}
	// Shard 0 ends its lease (writing nothing here) and reports its rows as written directly;
	// a direct result from a shard without the lease is refused; once shards 1 and 2 (staged)
	// are copied too, shard 3 is the head.
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	r.Buckets = append([]Bucket(nil), r.Buckets...)
	for i := range r.Buckets {
		r.Buckets[i].Direct, r.Buckets[i].File = true, FileRef{}
	}
	if err := a.Add(r); err != nil {
		t.Fatal(err)
	}
	bogus := rs[2]
	bogus.Buckets = r.Buckets
	if err := a.Add(bogus); err == nil || !strings.Contains(err.Error(), "did not hold the lease") {
		t.Errorf("a direct result without a lease: err = %v", err)
	}
	for _, r := range rs[1:3] { // staged: the assembler copies them
		if err := a.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	testutil.WaitFor(t, 10*time.Second, func() (bool, error) {
		l3 := a.Lease(3)
		if l3 != nil {
			l3.close()
		}
		return l3 != nil, nil
	}, "shard 3's lease after shards 0 (direct), 1 (staged) and 2 were appended")
}

func TestAssembler_FailedLeasedShardStopsTheAssembly(t *testing.T) {
	dir := t.TempDir()
	// A .gz cut short: the shard fails after writing some rows under its lease.
	src, err := os.ReadFile(filepath.Join("testdata", "cc_en_head-0174.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	in := writeFile(t, dir, "cut.jsonl.gz", string(src[:len(src)*2/3]))
	s := newSpec(t, dir, nil, in)
	inputs, shards := plan(t, s)
	env := FinalizeEnv{OutDir: s.Output.Dir, StagingDir: StagingDir(s.Output.Dir, s.Name),
		Tokenizer: loadTokenizer(t), Inputs: inputs}
	a, err := NewAssembler(context.Background(), s, len(shards), env)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Execute(context.Background(), shards[0], Env{Job: s, Tokenizer: env.Tokenizer,
		StagingDir: env.StagingDir, Lease: a.Lease})
	if err == nil {
		t.Fatal("a truncated .gz executed without error")
	}
	if err := a.failure(context.Background()); err == nil || !strings.Contains(err.Error(), "writing into the outputs") {
		t.Fatalf("assembly error after the leased shard failed: %v", err)
	}
	if a.Lease(0) != nil {
		t.Error("a stopped assembly granted a lease")
	}
	a.Abort()
	assertNothingPublished(t, s.Output.Dir)
}
