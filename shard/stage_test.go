package shard

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Finalize refuses staged files that changed after their shard committed (staging is not
// fsynced: a crash can cut a file short), or that disagree with the shard's result, naming the
// file, and publishes nothing.
func TestFinalize_DamagedStagingRefused(t *testing.T) {
	tests := []struct {
		name   string
		damage func(path string) error
		want   string
	}{
		{"flipped byte", func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b[len(b)/2] ^= 1
			return os.WriteFile(p, b, 0o644)
		}, "CRC-32C"},
		{"cut short", func(p string) error {
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			return os.Truncate(p, fi.Size()-4)
		}, "bytes, the shard result says"},
		{"removed", os.Remove, "no such file"},
		{"tail not the stream's end", nil, "ends with ids other than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := newSpec(t, dir, nil, copyTestdata(t, dir, "c4_head.jsonl"))
			inputs, shards := plan(t, s)
			rs, err := executeAll(t, s, shards)
			if err != nil {
				t.Fatal(err)
			}
			staging := StagingDir(s.Output.Dir, s.Name)
			b := rs[0].Bucket(SplitTrain, s.SequenceLengths[0])
			if b.File.Bytes == 0 {
				t.Fatal("the test wants a non-empty staged file")
			}
			if tt.damage == nil {
				// The file is intact; the result's tail for the first length is not.
				if len(b.Tail) == 0 {
					t.Fatal("the test wants a tail")
				}
				b.Tail[0] ^= 1
			} else if err := tt.damage(filepath.Join(staging, b.File.Name)); err != nil {
				t.Fatal(err)
			}
			_, err = Finalize(context.Background(), s, rs, FinalizeEnv{OutDir: s.Output.Dir, StagingDir: staging,
				Tokenizer: loadTokenizer(t), Inputs: inputs})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), b.File.Name) {
				t.Fatalf("err = %v, want one naming %s and %q", err, b.File.Name, tt.want)
			}
			if _, err := os.Stat(filepath.Join(s.Output.Dir, "manifest.json")); !os.IsNotExist(err) {
				t.Errorf("a failed finalize published: %v", err)
			}
		})
	}
}
