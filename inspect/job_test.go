package inspect

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/shard"
)

// TestInspect_Job checks each output of a job against its manifest and decodes the first
// sequence of the first non-empty bucket of each split with the manifest's tokenizer.
func TestInspect_Job(t *testing.T) {
	tests := []struct {
		name string
		edit func(*shard.Manifest)
		opt  Options
		// parts are "OUTPUT detailed check" or "OUTPUT error: substring", in manifest order.
		parts []string
		text  string // Text of the detailed part
		label string // its Tokenizer, with DIR for the job's directory
		note  string // its TextNote, with DIR for the job's directory
	}{
		{name: "agrees", parts: []string{"train_4 true ok", "train_4.npy false ok", "val_4 false ok", "val_4.npy false ok"},
			text: "abcd", label: "gpt2 from DIR/manifest.json"},
		{name: "tokenizer given", opt: Options{Tokenizer: "cl100k_base"},
			parts: []string{"train_4 true ok", "train_4.npy false ok", "val_4 false ok", "val_4.npy false ok"},
			text:  "abcd", label: "cl100k_base from --tokenizer"},
		{name: "more sequences in the manifest", edit: func(m *shard.Manifest) { m.Buckets[0].Sequences = 3 },
			parts: []string{"train_4 true 2 rows, manifest says 3", "train_4.npy false 2 rows, manifest says 3", "val_4 false ok", "val_4.npy false ok"},
			text:  "abcd", label: "gpt2 from DIR/manifest.json"},
		{name: "another dtype", edit: func(m *shard.Manifest) { m.DType = "int64" },
			parts: []string{"train_4 true no input_ids column of type list<int64>", "train_4.npy false dtype int32, manifest says int64",
				"val_4 false no input_ids column of type list<int64>", "val_4.npy false dtype int32, manifest says int64"},
			text: "abcd", label: "gpt2 from DIR/manifest.json"},
		{name: "another seq_len", edit: func(m *shard.Manifest) { m.Buckets[0].SeqLen = 8 },
			parts: []string{"train_4 true first row has 4 tokens, seq_len is 8", "train_4.npy false shape (2, 4), want (2, 8)", "val_4 false ok", "val_4.npy false ok"},
			text:  "abcd", label: "gpt2 from DIR/manifest.json"},
		{name: "a missing HF output", edit: func(m *shard.Manifest) { m.Buckets[0].Paths[0] = "train_9" },
			parts: []string{"train_9 error: train_9", "train_4.npy true ok", "val_4 false ok", "val_4.npy false ok"},
			text:  "abcd", label: "gpt2 from DIR/manifest.json"},
		{name: "a tokenizer of another vocabulary", edit: func(m *shard.Manifest) { m.Tokenizer.SHA256 = "00" },
			parts: []string{"train_4 true ok", "train_4.npy false ok", "val_4 false ok", "val_4.npy false ok"},
			note:  `not decoded: tokenizer "gpt2" of DIR/manifest.json cannot be loaded here (or its sha256 differs); pass --tokenizer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeJob(t, t.TempDir(), tt.edit)
			res, err := Inspect(dir, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != "job" || res.Job == nil || res.Job.Name != "tiny" || res.Job.Documents.Rejected != 1 || len(res.Job.Inputs) != 1 {
				t.Fatalf("job %+v", res.Job)
			}
			var parts []string
			var detailed *Inspection
			for _, p := range res.Parts {
				switch {
				case p.Error != "":
					parts = append(parts, filepath.Base(p.Path)+" error: "+p.Error)
				default:
					parts = append(parts, fmt.Sprintf("%s %v %s", filepath.Base(p.Path), p.Detailed, p.Check))
				}
				if p.Detailed {
					detailed = p
				}
			}
			if !partsMatch(parts, tt.parts) {
				t.Errorf("parts\n%s\nwant\n%s", strings.Join(parts, "\n"), strings.Join(tt.parts, "\n"))
			}
			if detailed == nil {
				t.Fatal("no part read in detail")
			}
			expand := func(s string) string { return strings.ReplaceAll(s, "DIR", dir) }
			if detailed.Text != tt.text || detailed.Tokenizer != expand(tt.label) || detailed.TextNote != expand(tt.note) {
				t.Errorf("detailed part: text %q tokenizer %q note %q; want %q %q %q", detailed.Text, detailed.Tokenizer,
					detailed.TextNote, tt.text, expand(tt.label), expand(tt.note))
			}
		})
	}
}

// partsMatch compares got with want, where a want ending in "error: X" matches a part whose
// error contains X.
func partsMatch(got, want []string) bool {
	return slices.EqualFunc(got, want, func(g, w string) bool {
		if i := strings.Index(w, " error: "); i >= 0 {
			return strings.HasPrefix(g, w[:i+len(" error: ")]) && strings.Contains(g[i:], w[i+len(" error: "):])
		}
		return g == w
	})
}

// TestInspect_JobBuckets sets each part's manifest entry, also on the parts that could not be
// read.
func TestInspect_JobBuckets(t *testing.T) {
	dir := writeJob(t, t.TempDir(), func(m *shard.Manifest) { m.Buckets[1].Paths[1] = "val_9.npy" })
	res, err := Inspect(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range res.Parts {
		got = append(got, fmt.Sprintf("%s %s %+v error=%v", filepath.Base(p.Path), p.Kind, *p.Bucket, p.Error != ""))
	}
	want := []string{
		"train_4 hf {Split:train SeqLen:4 Sequences:2} error=false",
		"train_4.npy npy {Split:train SeqLen:4 Sequences:2} error=false",
		"val_4 hf {Split:val SeqLen:4 Sequences:0} error=false",
		"val_9.npy npy {Split:val SeqLen:4 Sequences:0} error=true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("parts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
