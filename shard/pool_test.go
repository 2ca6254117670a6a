package shard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

// TestExecute_TokenizePoolSameResult runs one staging shard with and without a pool of
// helpers tokenizing its batches: the Result (timings aside) and the staged bytes must not change.
func TestExecute_TokenizePoolSameResult(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "c4_head.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Short documents and rejects between the long C4 ones.
	var b strings.Builder
	for i, l := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		b.WriteString(l + "\n")
		b.WriteString(`{"text":"short document ` + strings.Repeat("x", i) + `"}` + "\n")
		if i%7 == 0 {
			b.WriteString(`{"text":null}` + "\n")
		}
	}
	in := writeFile(t, dir, "docs.jsonl", b.String())
	tests := []struct {
		name       string
		helpers    int
		batchBytes int
	}{
		{"no helpers", 0, 0},
		{"one helper, one document per batch", 1, 1},
		{"three helpers, 2 KiB batches", 3, 2 << 10},
		{"two helpers, 1 MiB batches", 2, 0},
	}
	var ref []byte
	var refFiles map[string][]byte
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSpec(t, dir, func(s *job.Spec) {
				s.Name = "h" + string(rune('a'+i)) // own staging area
				s.SequenceLengths = []int{16, 100}
			}, in)
			_, shards := plan(t, s)
			if len(shards) != 1 {
				t.Fatalf("%d shards", len(shards))
			}
			env := Env{Job: s, Tokenizer: loadTokenizer(t), StagingDir: StagingDir(s.Output.Dir, s.Name), Scratch: new(Scratch)}
			stop := make(chan struct{})
			if tt.helpers > 0 {
				env.Pool = NewTokenizePool(tt.helpers+1, tt.batchBytes)
				for range tt.helpers {
					go env.Pool.Serve(stop)
				}
			}
			// Twice on the same pool: the second run reuses the batches of the first.
			var r Result
			for range 2 {
				r, err = Execute(context.Background(), shards[0], env)
				if err != nil {
					t.Fatal(err)
				}
			}
			close(stop)
			if tt.helpers > 0 && tt.batchBytes > 0 && tt.batchBytes < 4<<10 && r.Timings.Helped <= 0 {
				t.Errorf("helpers tokenized nothing: %+v", r.Timings)
			}
			if r.Timings.Helped > r.Timings.Tokenize {
				t.Errorf("helped %v > tokenize %v", r.Timings.Helped, r.Timings.Tokenize)
			}
			r.Timings = Timings{}
			js, _ := json.Marshal(r)
			files := map[string][]byte{}
			for _, bk := range r.Buckets {
				files[bk.Split], _ = os.ReadFile(filepath.Join(env.StagingDir, bk.File.Name))
			}
			files["rejects"], _ = os.ReadFile(filepath.Join(env.StagingDir, r.Rejects.Name))
			if ref == nil {
				ref, refFiles = js, files
				if r.Documents.Rejected == 0 || r.Documents.Written < 100 {
					t.Fatalf("documents %+v", r.Documents)
				}
				return
			}
			if string(js) != string(ref) {
				t.Errorf("result\n%s\nwant\n%s", js, ref)
			}
			for k, v := range refFiles {
				if string(files[k]) != string(v) {
					t.Errorf("staged %s differs", k)
				}
			}
		})
	}
}

// TestExecute_ReusedBatchesLeakNothing runs a shard on a pool after another shard whose
// batches were larger (longer documents, more of them), with a helper tokenizing: the second
// shard's batches, reused with their buffers sized for the first, must stage the same bytes
// as on a fresh pool and Scratch, with nothing of the first shard's texts or ids in them.
func TestExecute_ReusedBatchesLeakNothing(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "c4_head.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	long := writeFile(t, dir, "long.jsonl", string(src))
	var b strings.Builder
	for i := range 300 {
		b.WriteString(`{"text":"short ` + strings.Repeat("y", i%13) + `"}` + "\n")
	}
	short := writeFile(t, dir, "short.jsonl", b.String())
	tests := []struct {
		name        string
		batchBytes  int
		first, then string
	}{
		{"long then short, 2 KiB batches", 2 << 10, long, short},
		{"long then short, 64 KiB batches", 64 << 10, long, short},
		{"short then long, 2 KiB batches", 2 << 10, short, long},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// run executes the shards of inputs in turn on one pool, each on its own Scratch
			// (the shards of a run take turns on the workers), and returns the last's result.
			run := func(name string, inputs ...string) (Result, map[string][]byte) {
				t.Helper()
				pool := NewTokenizePool(2, tt.batchBytes)
				var r Result
				var env Env
				for _, in := range inputs {
					s := newSpec(t, dir, func(s *job.Spec) {
						s.Name = name
						s.SequenceLengths = []int{16}
					}, in)
					_, shards := plan(t, s)
					env = Env{Job: s, Tokenizer: loadTokenizer(t), StagingDir: StagingDir(s.Output.Dir, s.Name),
						Scratch: new(Scratch), Pool: pool}
					stop := make(chan struct{})
					go pool.Serve(stop)
					for pool.idle.Load() == 0 { // the helper is waiting before the shard starts
						runtime.Gosched()
					}
					r, err = Execute(context.Background(), shards[0], env)
					close(stop)
					if err != nil {
						t.Fatal(err)
					}
					if len(pool.free) == 0 {
						t.Fatal("no batch was kept for reuse")
					}
				}
				files := map[string][]byte{}
				for _, bk := range r.Buckets {
					files[bk.Split], _ = os.ReadFile(filepath.Join(env.StagingDir, bk.File.Name))
				}
				r.Timings = Timings{}
				return r, files
			}
			got, gotFiles := run(fmt.Sprintf("reused%d", i), tt.first, tt.then)
			want, wantFiles := run(fmt.Sprintf("fresh%d", i), tt.then)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("result after another shard\n%+v\nwant\n%+v", got, want)
			}
			if len(wantFiles["train"]) == 0 {
				t.Fatal("nothing staged")
			}
			for k, v := range wantFiles {
				if !bytes.Equal(gotFiles[k], v) {
					t.Errorf("staged %s differs after another shard", k)
				}
			}
		})
	}
}
