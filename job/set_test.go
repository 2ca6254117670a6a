package job

import (
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestSpec_Set(t *testing.T) {
	tests := []struct {
		key, value string
		err        string
		chk        func(*Spec) bool
	}{
		{"name", "j1", "", func(s *Spec) bool { return s.Name == "j1" }},
		{KeyInputPath, "b/*.txt", "", func(s *Spec) bool { return len(s.Inputs) == 2 && s.Inputs[1].Path == "b/*.txt" }},
		{KeyInputFormat, "jsonl", "", func(s *Spec) bool { return s.Inputs[0].Format == FormatJSONL }},
		{KeyInputTextField, "body", "", func(s *Spec) bool { return s.Inputs[0].TextField == "body" }},
		{"tokenizer", "o200k_base", "", func(s *Spec) bool { return s.Tokenizer == "o200k_base" }},
		{"sequence_lengths", "128, 256", "", func(s *Spec) bool { return reflect.DeepEqual(s.SequenceLengths, []int{128, 256}) }},
		{"sequence_lengths", "128,x", "sequence_lengths[1]: expected an integer", nil},
		{"val_fraction", "0.2", "", func(s *Spec) bool { return s.ValFraction == 0.2 }},
		{"val_fraction", "lots", "val_fraction: expected a finite number", nil},
		{"seed", "42", "", func(s *Spec) bool { return s.Seed == 42 }},
		{"seed", "-1", "seed: expected a non-negative integer", nil},
		{"seed", "010", "", func(s *Spec) bool { return s.Seed == 10 }},
		{"shard_size", "1GB", "", func(s *Spec) bool { return s.ShardSize == 1e9 }},
		{"shard_size", "1G", "shard_size: invalid size", nil},
		{"max_record_bytes", "128MiB", "", func(s *Spec) bool { return s.MaxRecordBytes == 128<<20 }},
		{"max_record_bytes", "lots", "max_record_bytes: invalid size", nil},
		{"eos", "false", "", func(s *Spec) bool { return !s.EOS }},
		{"bos", "true", "", func(s *Spec) bool { return s.BOS }},
		{"bos", "maybe", "bos: expected true or false", nil},
		{"remainder", "pad", "", func(s *Spec) bool { return s.Remainder == RemainderPad }},
		{"pad_id", "7", "", func(s *Spec) bool { return *s.PadID == 7 }},
		{"max_reject_fraction", "0.5", "", func(s *Spec) bool { return s.MaxRejectFraction == 0.5 }},
		{"output.dir", "out", "", func(s *Spec) bool { return s.Output.Dir == "out" }},
		{"output.formats", "npy", "", func(s *Spec) bool { return reflect.DeepEqual(s.Output.Formats, []OutputFormat{OutputNPY}) }},
		{"output.dtype", "uint16", "", func(s *Spec) bool { return s.Output.DType == DTypeUint16 }},
		{"output.layout", "seed", "", func(s *Spec) bool { return s.Output.Layout == LayoutSeed }},
		{"output.overwrite", "true", "", func(s *Spec) bool { return s.Output.Overwrite }},
		{"output", "x", "output: unknown key", nil},
		{"inputs", "x", "inputs: unknown key", nil},
		{"epochs", "3", "epochs: unknown key", nil},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			s := DefaultSpec()
			s.Inputs = []Input{DefaultInput("a.jsonl")}
			err := s.Set(tt.key, tt.value)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Set error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !tt.chk(s) {
				t.Fatalf("Set: %v, spec %+v", err, s)
			}
		})
	}
}

func TestSpec_SetInputKeysNeedInputs(t *testing.T) {
	if err := DefaultSpec().Set(KeyInputFormat, "jsonl"); err == nil {
		t.Fatal("Set(inputs.format) without inputs succeeded")
	}
}

func TestKeys_CoverEveryField(t *testing.T) {
	seen := map[string]bool{}
	flags := map[string]bool{}
	for _, k := range Keys() {
		if seen[k.Key] || flags[k.Flag] {
			t.Errorf("duplicate key or flag %q / %q", k.Key, k.Flag)
		}
		seen[k.Key], flags[k.Flag] = true, true
		s := DefaultSpec()
		s.Inputs = []Input{DefaultInput("a")}
		v := "1"
		if k.Bool {
			v = "true"
		}
		if err := s.Set(k.Key, v); err != nil && strings.Contains(err.Error(), "unknown key") {
			t.Errorf("Set(%q) unknown", k.Key)
		}
	}
	for _, f := range fields {
		if f.set != nil && f.key != "inputs" && !seen[f.key] {
			t.Errorf("key %q has no flag", f.key)
		}
	}
}

func TestBindFlags_OverridesYAML(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := BindFlags(fs)
	args := []string{"--seed", "7", "--input", "x.jsonl", "--text-field", "body", "--input", "y.txt",
		"--sequence-lengths", "1024", "--eos=false", "--overwrite", "--output-layout", "seed", "job.yaml"}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	if fs.Arg(0) != "job.yaml" || o.Len() != 8 {
		t.Fatalf("args %v, %d overrides", fs.Args(), o.Len())
	}
	s, err := Decode([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Apply(s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	wantInputs := []Input{{"x.jsonl", FormatAuto, "body"}, {"y.txt", FormatAuto, "body"}}
	if s.Seed != 7 || s.EOS || !s.Output.Overwrite || !reflect.DeepEqual(s.Inputs, wantInputs) ||
		!reflect.DeepEqual(s.SequenceLengths, []int{1024}) || s.Output.Layout != LayoutSeed {
		t.Fatalf("spec after overrides: %+v", s)
	}
}

func TestBindFlags_RefusesBadValueAtParse(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	BindFlags(fs)
	err := fs.Parse([]string{"--shard-size", "big"})
	if err == nil || !strings.Contains(err.Error(), "shard_size: invalid size") {
		t.Fatalf("Parse error = %v", err)
	}
}

func TestBindFlags_Usage(t *testing.T) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var b strings.Builder
	fs.SetOutput(&b)
	BindFlags(fs)
	fs.PrintDefaults()
	for _, want := range []string{"-output-dtype", "-input value", "[val_fraction]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, b.String())
		}
	}
}
