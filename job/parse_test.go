package job

import (
	"reflect"
	"strings"
	"testing"
)

const exampleYAML = `
name: example
inputs:
  - path: "corpus/*.jsonl.zst"
    format: auto
    text_field: text
tokenizer: cl100k_base
sequence_lengths: [512, 1024, 2048]
val_fraction: 0.01
seed: 0
shard_size: 64MiB
eos: true
bos: false
remainder: drop
max_reject_fraction: 0.01
output:
  dir: data/packed
  formats: [hf, npy]
  dtype: int64
`

// baseKeys is the example as one YAML fragment per top-level key, in order; tests replace or
// remove single keys.
var baseKeys = [][2]string{
	{"name", "example"},
	{"inputs", "\n  - path: \"corpus/*.jsonl.zst\"\n    format: auto\n    text_field: text"},
	{"tokenizer", "cl100k_base"},
	{"sequence_lengths", "[512, 1024, 2048]"},
	{"val_fraction", "0.01"},
	{"seed", "0"},
	{"shard_size", "64MiB"},
	{"eos", "true"},
	{"bos", "false"},
	{"remainder", "drop"},
	{"max_reject_fraction", "0.01"},
	{"output", "\n  dir: data/packed\n  formats: [hf, npy]\n  dtype: int64"},
}

// specWith renders baseKeys with the given keys replaced ("" removes a key); keys not in
// baseKeys are appended.
func specWith(over map[string]string) string {
	var b strings.Builder
	done := map[string]bool{}
	for _, kv := range baseKeys {
		v, ok := over[kv[0]]
		done[kv[0]] = true
		if !ok {
			v = kv[1]
		} else if v == "" {
			continue
		}
		b.WriteString(kv[0] + ": " + v + "\n")
	}
	for k, v := range over {
		if !done[k] {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	return b.String()
}

func TestParse_Example(t *testing.T) {
	s, err := Parse([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	want := &Spec{
		Kind:              KindPretrain,
		MaxErrors:         DefaultMaxErrors,
		Name:              "example",
		Inputs:            []Input{{Path: "corpus/*.jsonl.zst", Format: FormatAuto, TextField: "text"}},
		Tokenizer:         "cl100k_base",
		SequenceLengths:   []int{512, 1024, 2048},
		ValFraction:       0.01,
		ShardSize:         64 << 20,
		MaxRecordBytes:    64 << 20,
		EOS:               true,
		Remainder:         RemainderDrop,
		MaxRejectFraction: 0.01,
		MaxAttempts:       3,
		Output: Output{Dir: "data/packed", Formats: []OutputFormat{OutputHF, OutputNPY},
			DType: DTypeInt64, Layout: LayoutCurriculum},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("Parse = %+v\nwant    %+v", s, want)
	}
}

func TestParse_Defaults(t *testing.T) {
	s, err := Parse([]byte("name: x\ninputs: [a.jsonl]\ntokenizer: gpt2\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultSpec()
	d.Name, d.Tokenizer, d.Inputs = "x", "gpt2", []Input{DefaultInput("a.jsonl")}
	if !reflect.DeepEqual(s, d) {
		t.Fatalf("Parse = %+v\nwant    %+v", s, d)
	}
}

func TestParse_Keys(t *testing.T) {
	tests := []struct {
		name string
		over map[string]string
		err  string // substring of the error; "" means valid
		chk  func(*Spec) bool
	}{
		// name
		{"name missing", map[string]string{"name": ""}, "name: required", nil},
		{"name bad chars", map[string]string{"name": "a/b"}, "name: ", nil},
		{"name leading dot", map[string]string{"name": ".x"}, "name: ", nil},
		{"name list", map[string]string{"name": "[a]"}, "name: expected a string, got a list", nil},
		{"name null", map[string]string{"name": "~"}, "name: missing value", nil},
		{"name number ok", map[string]string{"name": "2024"}, "", func(s *Spec) bool { return s.Name == "2024" }},
		// inputs
		{"inputs missing", map[string]string{"inputs": ""}, "inputs: at least one", nil},
		{"inputs empty", map[string]string{"inputs": "[]"}, "inputs: at least one", nil},
		{"inputs scalar", map[string]string{"inputs": "a.jsonl"}, "inputs: expected a list", nil},
		{"inputs shorthand", map[string]string{"inputs": "[a.jsonl, b.txt]"}, "",
			func(s *Spec) bool { return len(s.Inputs) == 2 && s.Inputs[1] == DefaultInput("b.txt") }},
		{"inputs unknown key", map[string]string{"inputs": "[{path: a, field: x}]"}, "inputs[0].field: unknown key", nil},
		{"inputs no path", map[string]string{"inputs": "[{format: jsonl}]"}, "inputs[0].path: required", nil},
		{"inputs bad format", map[string]string{"inputs": "[{path: a}, {path: b, format: xml}]"}, "inputs[1].format: must be one of", nil},
		{"inputs empty text_field", map[string]string{"inputs": "[{path: a, text_field: ''}]"}, "inputs[0].text_field: required", nil},
		{"inputs text no field ok", map[string]string{"inputs": "[{path: a, format: text, text_field: ''}]"}, "", nil},
		{"inputs bad glob", map[string]string{"inputs": "['a[']"}, "inputs[0].path: ", nil},
		{"inputs duplicate key", map[string]string{"inputs": "[{path: a, path: b}]"}, "inputs[0].path: duplicate key", nil},
		{"inputs all formats", map[string]string{"inputs": "[{path: a, format: jsonl}, {path: b, format: parquet}, {path: c, format: csv}, {path: d, format: text}, {path: e, format: hf}, {path: f, format: json}, {path: g, format: lines}]"}, "", nil},
		{"inputs lines no field ok", map[string]string{"inputs": "[{path: a, format: lines, text_field: ''}]"}, "", nil},
		// tokenizer
		{"tokenizer missing", map[string]string{"tokenizer": ""}, "tokenizer: required", nil},
		{"tokenizer mapping", map[string]string{"tokenizer": "{a: b}"}, "tokenizer: expected a string, got a mapping", nil},
		// sequence_lengths
		{"lengths zero", map[string]string{"sequence_lengths": "[512, 0]"}, "sequence_lengths[1]: must be > 0", nil},
		{"lengths negative", map[string]string{"sequence_lengths": "[-5]"}, "sequence_lengths[0]: must be > 0", nil},
		{"lengths huge", map[string]string{"sequence_lengths": "[99999999]"}, "sequence_lengths[0]: must be at most", nil},
		{"lengths overflow", map[string]string{"sequence_lengths": "[99999999999999]"}, "sequence_lengths[0]: ", nil},
		{"lengths duplicate", map[string]string{"sequence_lengths": "[512, 1024, 512]"}, "sequence_lengths[2]: 512 repeats sequence_lengths[0]", nil},
		{"lengths empty", map[string]string{"sequence_lengths": "[]"}, "sequence_lengths: at least one", nil},
		{"lengths string", map[string]string{"sequence_lengths": `["512"]`}, "sequence_lengths[0]: expected an integer", nil},
		{"lengths float", map[string]string{"sequence_lengths": `[1.5]`}, "sequence_lengths[0]: expected an integer", nil},
		{"lengths scalar", map[string]string{"sequence_lengths": `512`}, "sequence_lengths: expected a list", nil},
		// val_fraction
		{"val negative", map[string]string{"val_fraction": "-0.1"}, "val_fraction: must be between 0 and 1", nil},
		{"val above one", map[string]string{"val_fraction": "1.5"}, "val_fraction: must be between 0 and 1", nil},
		{"val nan", map[string]string{"val_fraction": ".nan"}, "val_fraction: expected a finite number", nil},
		{"val string", map[string]string{"val_fraction": "'0.1'"}, "val_fraction: expected a number", nil},
		{"val int ok", map[string]string{"val_fraction": "0"}, "", func(s *Spec) bool { return s.ValFraction == 0 }},
		{"val tiny ok", map[string]string{"val_fraction": "1e-5"}, "", func(s *Spec) bool { return s.ValFraction == 1e-5 }},
		// seed
		{"seed negative", map[string]string{"seed": "-1"}, "seed: expected a non-negative integer", nil},
		{"seed string", map[string]string{"seed": `"5"`}, "seed: expected a non-negative integer, got the string", nil},
		{"seed max ok", map[string]string{"seed": "18446744073709551615"}, "", func(s *Spec) bool { return s.Seed == 1<<64-1 }},
		{"seed overflow", map[string]string{"seed": "18446744073709551616"}, "seed: ", nil},
		// shard_size
		{"shard plain bytes", map[string]string{"shard_size": "1048576"}, "", func(s *Spec) bool { return s.ShardSize == 1<<20 }},
		{"shard GB", map[string]string{"shard_size": "1GB"}, "", func(s *Spec) bool { return s.ShardSize == 1e9 }},
		{"shard zero", map[string]string{"shard_size": "0"}, "shard_size: must be > 0", nil},
		{"shard bad unit", map[string]string{"shard_size": "64Q"}, "shard_size: invalid size", nil},
		{"shard negative", map[string]string{"shard_size": "-5"}, "shard_size: invalid size", nil},
		{"shard list", map[string]string{"shard_size": "[1]"}, "shard_size: expected a size", nil},
		// max_record_bytes
		{"record size", map[string]string{"max_record_bytes": "1KiB"}, "", func(s *Spec) bool { return s.MaxRecordBytes == 1024 }},
		{"record default", nil, "", func(s *Spec) bool { return s.MaxRecordBytes == DefaultMaxRecordBytes }},
		{"record zero", map[string]string{"max_record_bytes": "0"}, "max_record_bytes: must be > 0", nil},
		{"record bad unit", map[string]string{"max_record_bytes": "64M"}, "max_record_bytes: invalid size", nil},
		// eos, bos
		{"eos string", map[string]string{"eos": "yes"}, "eos: expected true or false", nil},
		{"eos false", map[string]string{"eos": "false"}, "", func(s *Spec) bool { return !s.EOS }},
		{"bos int", map[string]string{"bos": "1"}, "bos: expected true or false", nil},
		{"bos true", map[string]string{"bos": "true"}, "", func(s *Spec) bool { return s.BOS }},
		// remainder, pad_id
		{"remainder bad", map[string]string{"remainder": "keep"}, `remainder: must be "drop" or "pad"`, nil},
		{"remainder pad", map[string]string{"remainder": "pad"}, "", func(s *Spec) bool { return s.Remainder == RemainderPad && s.PadID == nil }},
		{"pad id", map[string]string{"remainder": "pad", "pad_id": "100257"}, "", func(s *Spec) bool { return *s.PadID == 100257 }},
		{"pad id with drop", map[string]string{"pad_id": "0"}, "pad_id: only used with remainder: pad", nil},
		{"pad id too big", map[string]string{"remainder": "pad", "pad_id": "4294967296"}, "pad_id: expected a non-negative integer below 2^32", nil},
		{"pad id dtype", map[string]string{"remainder": "pad", "pad_id": "70000", "output": "{dtype: uint16}"}, "pad_id: 70000 does not fit output.dtype uint16", nil},
		// max_reject_fraction
		{"reject above one", map[string]string{"max_reject_fraction": "2"}, "max_reject_fraction: must be between 0 and 1", nil},
		// max_attempts
		{"max attempts default", map[string]string{}, "", func(s *Spec) bool { return s.MaxAttempts == DefaultMaxAttempts }},
		{"max attempts set", map[string]string{"max_attempts": "5"}, "", func(s *Spec) bool { return s.MaxAttempts == 5 }},
		{"max attempts zero", map[string]string{"max_attempts": "0"}, "max_attempts: must be between 1 and 1000, got 0", nil},
		{"max attempts string", map[string]string{"max_attempts": `"3"`}, "max_attempts: expected an integer", nil},
		{"reject bool", map[string]string{"max_reject_fraction": "true"}, "max_reject_fraction: expected a number", nil},
		{"reject one ok", map[string]string{"max_reject_fraction": "1"}, "", nil},
		// output
		{"output scalar", map[string]string{"output": "data"}, "output: expected a mapping", nil},
		{"output unknown", map[string]string{"output": "{dir: x, compression: zstd}"}, "output.compression: unknown key", nil},
		{"output dir empty", map[string]string{"output": "{dir: ''}"}, "output.dir: required", nil},
		{"output defaults", map[string]string{"output": ""}, "", func(s *Spec) bool { return reflect.DeepEqual(s.Output, DefaultSpec().Output) }},
		{"formats bad", map[string]string{"output": "{formats: [hf, megatron]}"}, "output.formats[1]: must be one of", nil},
		{"formats duplicate", map[string]string{"output": "{formats: [npy, npy]}"}, `output.formats[1]: "npy" repeats output.formats[0]`, nil},
		{"formats empty", map[string]string{"output": "{formats: []}"}, "output.formats: at least one", nil},
		{"formats npy only", map[string]string{"output": "{formats: [npy]}"}, "", func(s *Spec) bool { return len(s.Output.Formats) == 1 }},
		{"dtype bad", map[string]string{"output": "{dtype: float32}"}, "output.dtype: must be one of", nil},
		{"dtype auto", map[string]string{"output": "{dtype: auto}"}, "", func(s *Spec) bool { return s.Output.DType == DTypeAuto }},
		{"dtype uint16", map[string]string{"output": "{dtype: uint16}"}, "", nil},
		{"dtype int32", map[string]string{"output": "{dtype: int32}"}, "", nil},
		{"dtype uint32", map[string]string{"output": "{dtype: uint32}"}, "", nil},
		{"layout seed many lengths", map[string]string{"output": "{layout: seed}"}, "output.layout: seed needs exactly one sequence length, got 3", nil},
		{"layout seed one length", map[string]string{"output": "{layout: seed}", "sequence_lengths": "[2048]"}, "", func(s *Spec) bool { return s.Output.Layout == LayoutSeed }},
		{"layout bad", map[string]string{"output": "{layout: flat}"}, "output.layout: must be", nil},
		{"overwrite", map[string]string{"output": "{overwrite: true}"}, "", func(s *Spec) bool { return s.Output.Overwrite }},
		{"overwrite string", map[string]string{"output": "{overwrite: 'true'}"}, "output.overwrite: expected true or false", nil},
		// document level
		{"unknown top key", map[string]string{"epochs": "3"}, "epochs: unknown key", nil},
		{"duplicate top key", map[string]string{"seed": "1\nseed: 2"}, "seed: duplicate key", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(specWith(tt.over)))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Parse: %v\n%s", err, specWith(tt.over))
				}
				if tt.chk != nil && !tt.chk(s) {
					t.Fatalf("Parse gave %+v", s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.err)
			}
		})
	}
}

func TestParse_Document(t *testing.T) {
	tests := []struct {
		name, in, err string
	}{
		{"not a mapping", "[1, 2]", "spec: expected a mapping"},
		{"two documents", exampleYAML + "---\nname: y\n", "one YAML document"},
		{"syntax", "name: [", "job: yaml"},
		{"empty", "", "name: required"},
		{"line number", "name: x\nseed: abc\n", "(line 2)"},
		{"aliases resolve", "name: &n x\ninputs: [*n]\ntokenizer: gpt2\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Parse error = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestSpec_ValidateReportsEveryProblem(t *testing.T) {
	s := DefaultSpec()
	s.SequenceLengths = []int{0, -1}
	err := s.Validate()
	for _, key := range []string{"name:", "inputs:", "tokenizer:", "sequence_lengths[0]:", "sequence_lengths[1]:"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Validate error %v lacks %q", err, key)
		}
	}
}
