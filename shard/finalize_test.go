package shard

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

func TestFinalize_OutputsMatchManifest(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*job.Spec)
		files []string // expected entries of out
	}{
		{"curriculum int64 drop", nil, []string{"manifest.json", "rejects.jsonl", "train_16", "train_16.npy",
			"train_64", "train_64.npy", "val_16", "val_16.npy", "val_64", "val_64.npy"}},
		{"auto dtype pad, npy only", func(s *job.Spec) {
			s.Output.DType, s.Remainder = job.DTypeAuto, job.RemainderPad
			s.Output.Formats = []job.OutputFormat{job.OutputNPY}
		}, []string{"manifest.json", "rejects.jsonl", "train_16.npy", "train_64.npy", "val_16.npy", "val_64.npy"}},
		{"seed layout int32", func(s *job.Spec) {
			s.SequenceLengths, s.Output.Layout, s.Output.DType = []int{32}, job.LayoutSeed, job.DTypeInt32
		}, []string{"manifest.json", "pretrain.npy", "rejects.jsonl", "train", "val", "val.npy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := copyTestdata(t, dir, "c4_head.jsonl")
			s := newSpec(t, dir, tt.edit, in)
			m, err := runJob(t, s)
			if err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(s.Output.Dir)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.files) {
				t.Errorf("out holds %v, want %v", names, tt.files)
			}
			if m.Documents.Read != 60 || m.Documents.Written != 60 || m.Tokens.Val == 0 {
				t.Errorf("manifest %+v %+v", m.Documents, m.Tokens)
			}
			checkOutputs(t, s.Output.Dir, m)
			var onDisk Manifest
			mustJSON(t, filepath.Join(s.Output.Dir, "manifest.json"), &onDisk)
			if fmt.Sprint(onDisk.Buckets) != fmt.Sprint(m.Buckets) || onDisk.Tokenizer.SHA256 == "" {
				t.Errorf("manifest.json differs from the returned manifest")
			}
			var npys []string
			for _, b := range m.Buckets {
				for _, p := range b.Paths {
					if strings.HasSuffix(p, ".npy") {
						npys = append(npys, filepath.Join(s.Output.Dir, p))
					}
				}
			}
			got := numpyShapes(t, npys)
			for _, b := range m.Buckets {
				for _, p := range b.Paths {
					if strings.HasSuffix(p, ".npy") {
						want := fmt.Sprintf("%dx%d %s", b.Sequences, b.SeqLen, m.DType)
						if g := got[filepath.Join(s.Output.Dir, p)]; !strings.HasPrefix(g, want+" ") {
							t.Errorf("numpy %s: %q, want %q", p, g, want)
						}
					}
				}
			}
			if _, err := os.Stat(filepath.Join(s.Output.Dir, ".staging")); !os.IsNotExist(err) {
				t.Errorf("staging left behind: %v", err)
			}
		})
	}
}

// TestFinalize_ExistingOutput: an earlier output is refused without overwrite and replaced
// with it (its outputs that the new job does not write, train_4.npy here, go), but a file
// that tokenmill did not write keeps the directory from being replaced, overwrite or not.
func TestFinalize_ExistingOutput(t *testing.T) {
	tests := []struct {
		name      string
		overwrite bool
		stray     bool
		wantErr   string
	}{
		{"refused", false, false, "exists"},
		{"overwritten", true, false, ""},
		{"stray file refused", false, true, "stale.txt, which tokenmill did not write"},
		{"stray file refused with overwrite", true, true, "stale.txt, which tokenmill did not write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := writeFile(t, dir, "a.jsonl", `{"text":"one two three four five six seven"}`+"\n")
			s := newSpec(t, dir, func(s *job.Spec) { s.SequenceLengths, s.ValFraction = []int{4}, 0 }, in)
			if _, err := runJob(t, s); err != nil {
				t.Fatal(err)
			}
			old := filepath.Join(s.Output.Dir, "train_4.npy")
			if _, err := os.Stat(old); err != nil {
				t.Fatal(err)
			}
			var stale string
			if tt.stray {
				stale = writeFile(t, s.Output.Dir, "stale.txt", "old")
			}
			s.SequenceLengths = []int{2}
			s.Output.Overwrite = tt.overwrite
			_, err := runJob(t, s)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				for _, p := range []string{old, stale} {
					if _, err := os.Stat(p); p != "" && err != nil {
						t.Errorf("refused run touched the old output: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(old); !os.IsNotExist(err) {
				t.Errorf("overwrite kept an output of the earlier job")
			}
			siblings, _ := filepath.Glob(filepath.Join(dir, ".out.*"))
			if len(siblings) != 0 {
				t.Errorf("temporary siblings left: %v", siblings)
			}
		})
	}
}

func TestFinalize_RejectFractionFailsWithoutOutput(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "a.jsonl", `{"text":"good"}`+"\n"+`{"text":""}`+"\n"+`{"body":"x"}`+"\n")
	s := newSpec(t, dir, func(s *job.Spec) { s.MaxRejectFraction = 0.5 }, in)
	_, err := runJob(t, s)
	if err == nil || !strings.Contains(err.Error(), "2 of 3 records rejected") ||
		!strings.Contains(err.Error(), "Missing required field 'text'") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Output.Dir, "manifest.json")); !os.IsNotExist(err) {
		t.Errorf("a failed job published a manifest")
	}
}

// A finalize that fails at its last step (a stray file appeared in the output directory
// before the publish: CheckOutput refuses it then) has read every staged file; without
// KeepStaged (a cluster's finalize) it leaves each one as it was, and a second finalize from
// the same results publishes; without it (tokenmill run, which starts over) the copied
// streams are gone.
func TestFinalize_StagingKeptForAnotherAttempt(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("keep=%v", keep), func(t *testing.T) {
			dir := t.TempDir()
			in := copyTestdata(t, dir, "c4_head.jsonl")
			s := newSpec(t, dir, func(s *job.Spec) { s.ShardSize = 40 << 10 }, in)
			inputs, shards := plan(t, s)
			if len(shards) < 2 {
				t.Fatalf("the test needs several shards, the plan has %d", len(shards))
			}
			rs, err := executeAll(t, s, shards)
			if err != nil {
				t.Fatal(err)
			}
			staging := StagingDir(s.Output.Dir, s.Name)
			env := FinalizeEnv{OutDir: s.Output.Dir, StagingDir: staging, KeepStaged: keep,
				Tokenizer: loadTokenizer(t), Inputs: inputs}
			before := stagedFiles(t, staging)
			a, err := NewAssembler(context.Background(), s, len(rs), env)
			if err != nil {
				t.Fatal(err)
			}
			stray := writeFile(t, s.Output.Dir, "stray.txt", "x")
			if _, err := a.Finish(context.Background(), rs); err == nil || !strings.Contains(err.Error(), "stray.txt") {
				t.Fatalf("finish with a stray file in the output: %v, want its refusal", err)
			}
			after := stagedFiles(t, staging)
			if keep {
				if fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("a failed finalize changed the staging area:\nbefore %v\nafter  %v", before, after)
				}
				os.Remove(stray)
				if _, err := Finalize(context.Background(), s, rs, env); err != nil {
					t.Fatalf("a second finalize from the same staged files: %v", err)
				}
				if _, err := os.Stat(staging); !os.IsNotExist(err) {
					t.Errorf("staging left after the publish: %v", err)
				}
				return
			}
			if len(after) >= len(before) {
				t.Errorf("without KeepStaged no staged stream was removed (%d files before, %d after)", len(before), len(after))
			}
		})
	}
}

// stagedFiles returns each file under root with its size and CRC-32C.
func stagedFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out = append(out, fmt.Sprintf("%s:%d:%08x", rel, len(b), crc32c(0, b)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
