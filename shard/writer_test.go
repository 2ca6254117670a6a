package shard

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A shard writer that cannot create its staged files (the output's directory is a file, or
// not writable) returns the error, having closed what it created, instead of panicking.
func TestNewShardWriter_CannotStage(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string) string // returns the shard's dir under root
	}{
		{"dir is a file", func(t *testing.T, root string) string {
			if err := os.WriteFile(filepath.Join(root, "f"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return "f/shard-0"
		}},
		{"second stream", func(t *testing.T, root string) string {
			// The val stream's name is a directory: the train stream is created, then closed.
			if err := os.MkdirAll(filepath.Join(root, "s", stagedName(Splits()[1]), "x"), 0o755); err != nil {
				t.Fatal(err)
			}
			return "s"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := tt.setup(t, root)
			w, err := newShardWriter(root, dir, []int{8}, nil, nil, nil)
			if err == nil || w != nil || !strings.Contains(err.Error(), "staging") {
				t.Fatalf("newShardWriter = %v, %v; want a staging error", w, err)
			}
		})
	}
}
