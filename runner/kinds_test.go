package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

// Run dispatches by kind: validate and convert jobs come back with Records set (through
// RunRecords and the shared worker loop), pretraining with Manifest, for any workers.
func TestRun_DispatchesByKind(t *testing.T) {
	dir := t.TempDir()
	in := writeBytes(t, dir, "sft.jsonl", []byte(`{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}`+"\n"+
		`{"messages":[]}`+"\n"+`{"text":"plain"}`+"\n"))
	tests := []struct {
		name    string
		edit    func(*job.Spec)
		workers int
		check   func(t *testing.T, s *job.Spec, sum *Summary)
	}{
		{"validate", func(s *job.Spec) {
			s.Kind, s.Stage, s.Tokenizer, s.MaxErrors = job.KindValidate, "sft", "", 10
		}, 2, func(t *testing.T, s *job.Spec, sum *Summary) {
			m := sum.Records
			if m == nil || sum.Manifest != nil || m.Records != 3 || m.Invalid == nil || *m.Invalid != 1 || m.Report == nil {
				t.Fatalf("summary %+v", sum)
			}
			if b, err := os.ReadFile(filepath.Join(s.Output.Dir, "report.json")); err != nil || !bytes.Contains(b, []byte(`"invalid":1`)) {
				t.Fatalf("report.json: %s, %v", b, err)
			}
		}},
		{"convert", func(s *job.Spec) {
			s.Kind, s.To, s.Tokenizer = job.KindConvert, job.ConvertJSONL, ""
		}, 1, func(t *testing.T, s *job.Spec, sum *Summary) {
			if sum.Records == nil || sum.Manifest != nil || sum.Records.Records != 3 {
				t.Fatalf("summary %+v", sum)
			}
			b, err := os.ReadFile(filepath.Join(s.Output.Dir, "data.jsonl"))
			if err != nil || bytes.Count(b, []byte("\n")) != 3 {
				t.Fatalf("data.jsonl: %q, %v", b, err)
			}
		}},
		{"pretrain", func(s *job.Spec) { s.MaxRejectFraction, s.Remainder = 1, job.RemainderPad }, 2, func(t *testing.T, s *job.Spec, sum *Summary) {
			if sum.Manifest == nil || sum.Records != nil || sum.Manifest.Documents.Read != 3 {
				t.Fatalf("summary %+v", sum)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := job.DefaultSpec()
			s.Name = "kinds"
			s.Tokenizer = "cl100k_base"
			s.Inputs = []job.Input{job.DefaultInput(in)}
			s.Output.Dir = filepath.Join(dir, "out-"+tt.name)
			tt.edit(s)
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			sum, err := Run(context.Background(), s, quietOptions(tt.workers))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s, sum)
			var out strings.Builder
			if err := WriteSummary(&out, sum); err != nil || !strings.Contains(out.String(), "throughput") {
				t.Fatalf("WriteSummary: %v\n%s", err, out.String())
			}
		})
	}
}
