package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

// TestRun_Warnings: empty buckets and the val outputs of val_fraction 0 are warned about in
// the summary and in run.json; the outputs are written all the same.
func TestRun_Warnings(t *testing.T) {
	dir := t.TempDir()
	var docs strings.Builder
	for i := range 20 {
		fmt.Fprintf(&docs, `{"text":"document %d: %s"}`+"\n", i, strings.Repeat("hello ", 10))
	}
	in := writeBytes(t, dir, "in.jsonl", []byte(docs.String()))
	tests := []struct {
		name  string
		edit  func(*job.Spec)
		want  []string // substrings of the warnings, in order
		empty string   // an output that exists and holds no rows
	}{
		{"none", func(s *job.Spec) { s.ValFraction = 0.5; s.SequenceLengths = []int{16} }, nil, ""},
		{"val_fraction 0", func(s *job.Spec) { s.ValFraction = 0; s.SequenceLengths = []int{16, 32} },
			[]string{"val_fraction is 0: the val outputs (val_16, val_16.npy, val_32, val_32.npy) hold no rows"}, "val_32.npy"},
		{"a length no split fills", func(s *job.Spec) { s.ValFraction = 0; s.SequenceLengths = []int{16, 4096} },
			[]string{"val_fraction is 0", "train 4096: no rows: all 320 tokens of the train split dropped as a tail shorter than 4096"}, "train_4096.npy"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec(t, dir, func(s *job.Spec) {
				s.Output.Dir = filepath.Join(dir, "out", tt.name)
				tt.edit(s)
			}, in)
			sum, err := runSpec(t, s, quietOptions(1+i%2))
			if err != nil {
				t.Fatal(err)
			}
			got := sum.Run.Warnings
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", got, len(tt.want))
			}
			var summary strings.Builder
			if err := WriteSummary(&summary, sum); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(s.Output.Dir, "run.json"))
			if err != nil {
				t.Fatal(err)
			}
			var run struct {
				Warnings []string `json:"warnings"`
			}
			if err := json.Unmarshal(b, &run); err != nil || run.Warnings == nil || len(run.Warnings) != len(got) {
				t.Fatalf("run.json warnings %q (%v), want %q", run.Warnings, err, got)
			}
			for j, w := range tt.want {
				if !strings.Contains(got[j], w) || run.Warnings[j] != got[j] || !strings.Contains(summary.String(), "warning: "+got[j]+"\n") {
					t.Errorf("warning %d = %q, want %q in the summary and run.json\n%s", j, got[j], w, summary.String())
				}
			}
			if tt.want == nil && strings.Contains(summary.String(), "warning") {
				t.Errorf("summary warns:\n%s", summary.String())
			}
			if tt.empty != "" {
				if fi, err := os.Stat(filepath.Join(s.Output.Dir, tt.empty)); err != nil || fi.Size() != 128 {
					t.Errorf("%s: %v, want an empty .npy (its header alone)", tt.empty, err)
				}
			}
		})
	}
}

// TestRun_NoTrainRowsFails: a job whose train buckets all hold no row fails and publishes
// nothing.
func TestRun_NoTrainRowsFails(t *testing.T) {
	dir := t.TempDir()
	in := writeBytes(t, dir, "in.jsonl", []byte(`{"text":"just a few tokens"}`+"\n"))
	tests := []struct {
		name string
		edit func(*job.Spec)
		want string
	}{
		{"too few tokens", func(s *job.Spec) { s.ValFraction = 0 },
			"no train rows: the train split's 5 tokens do not fill one sequence of 64, the shortest of sequence_lengths (use shorter sequence_lengths, or remainder: pad)"},
		{"everything in val", func(s *job.Spec) { s.ValFraction = 1; s.Remainder = job.RemainderPad },
			"no train rows: no token reached the train split (documents: 1 read, 1 written, 0 rejected; val_fraction 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec(t, dir, tt.edit, in)
			_, err := runSpec(t, s, quietOptions(1))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
				t.Fatalf("the failed job left %v (%v) beside its input", entries, err)
			}
		})
	}
}
