package job

import (
	"reflect"
	"strings"
	"testing"
)

const validateYAML = `
kind: validate
name: check-sft
inputs:
  - data/sft/*.jsonl
stage: sft
max_errors: 5
output:
  dir: reports/sft
`

const convertYAML = `
kind: convert
name: sft-to-hf
inputs:
  - path: raw/sft.json
    format: json
to: hf
shard_size: 1MiB
output:
  dir: data/sft
`

func TestSpec_KindKeys(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		err  string // substring of the error; "" means valid
		chk  func(*Spec) bool
	}{
		{"validate example", validateYAML, "", func(s *Spec) bool {
			return s.Kind == KindValidate && s.Stage == "sft" && s.MaxErrors == 5 && s.Output.Dir == "reports/sft" && s.Tokenizer == ""
		}},
		{"convert example", convertYAML, "", func(s *Spec) bool {
			return s.Kind == KindConvert && s.To == ConvertHF && s.ShardSize == 1<<20 && s.Inputs[0].Format == FormatJSON
		}},
		{"pretrain explicit", specWith(map[string]string{"kind": "pretrain"}), "", func(s *Spec) bool { return s.Kind == KindPretrain }},
		{"validate with tokenizer", validateYAML + "tokenizer: gpt2\n", "", func(s *Spec) bool { return s.Tokenizer == "gpt2" }},
		{"validate max_errors default", strings.Replace(validateYAML, "max_errors: 5\n", "", 1), "", func(s *Spec) bool { return s.MaxErrors == DefaultMaxErrors }},
		{"validate max_errors all", strings.Replace(validateYAML, "max_errors: 5", "max_errors: -1", 1), "", func(s *Spec) bool { return s.MaxErrors == -1 }},
		{"unknown kind", strings.Replace(validateYAML, "kind: validate", "kind: train", 1), `kind: must be one of "pretrain", "validate", "convert", got "train"`, nil},
		{"validate stage missing", strings.Replace(validateYAML, "stage: sft\n", "", 1), "stage: required for kind: validate", nil},
		{"validate stage unknown", strings.Replace(validateYAML, "stage: sft", "stage: rlhf", 1), `stage: unknown stage "rlhf"`, nil},
		{"validate output.dir required", strings.Replace(validateYAML, "output:\n  dir: reports/sft\n", "", 1), "output.dir: required", nil},
		{"validate refuses sequence_lengths", validateYAML + "sequence_lengths: [2048]\n", "sequence_lengths: not a key of kind: validate (line 10)", nil},
		{"validate refuses output.formats", strings.Replace(validateYAML, "  dir: reports/sft", "  dir: x\n  formats: [hf]", 1), "output.formats: not a key of kind: validate (line 10)", nil},
		{"validate refuses text_field", strings.Replace(validateYAML, "  - data/sft/*.jsonl", "  - {path: a.jsonl, text_field: body}", 1), "inputs[0].text_field: not a key of kind: validate", nil},
		{"validate refuses to", validateYAML + "to: hf\n", "to: not a key of kind: validate", nil},
		{"validate refuses lines", strings.Replace(validateYAML, "  - data/sft/*.jsonl", "  - {path: a.txt, format: lines}", 1), `inputs[0].format: "lines" is not a record format`, nil},
		{"convert to missing", strings.Replace(convertYAML, "to: hf\n", "", 1), "to: required for kind: convert", nil},
		{"convert to unknown", strings.Replace(convertYAML, "to: hf", "to: csv", 1), `to: must be one of "hf", "jsonl", "parquet", got "csv"`, nil},
		{"convert refuses tokenizer", convertYAML + "tokenizer: gpt2\n", "tokenizer: not a key of kind: convert", nil},
		{"convert refuses stage", convertYAML + "stage: sft\n", "stage: not a key of kind: convert", nil},
		{"convert refuses max_errors", convertYAML + "max_errors: 3\n", "max_errors: not a key of kind: convert", nil},
		{"pretrain refuses stage", specWith(map[string]string{"stage": "sft"}), "stage: not a key of kind: pretrain", nil},
		{"pretrain refuses to", specWith(map[string]string{"to": "hf"}), "to: not a key of kind: pretrain", nil},
		{"kind after pretrain keys", "seed: 3\n" + validateYAML, "seed: not a key of kind: validate (line 1)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.yaml))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.chk != nil && !tt.chk(s) {
				t.Fatalf("spec %+v", s)
			}
		})
	}
}

func TestSpec_KindFlags(t *testing.T) {
	tests := []struct {
		name string
		sets [][2]string
		err  string
	}{
		{"validate by flags", [][2]string{{"kind", "validate"}, {"stage", "dpo"}, {"max_errors", "3"}}, ""},
		{"pretrain key by flag", [][2]string{{"kind", "validate"}, {"stage", "dpo"}, {"sequence_lengths", "512"}}, "sequence_lengths: not a key of kind: validate"},
		{"convert by flags", [][2]string{{"kind", "convert"}, {"to", "parquet"}, {"tokenizer", ""}}, ""},
		{"convert pad_id", [][2]string{{"kind", "convert"}, {"to", "jsonl"}, {"tokenizer", ""}, {"remainder", "pad"}}, "remainder: not a key of kind: convert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSpec()
			s.Name, s.Tokenizer, s.Inputs = "x", "gpt2", []Input{DefaultInput("a.jsonl")}
			for _, kv := range tt.sets {
				if err := s.Set(kv[0], kv[1]); err != nil {
					t.Fatal(err)
				}
			}
			err := s.Validate()
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestSpec_CanonicalJSONByKind(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"validate", validateYAML, `{"kind":"validate","name":"check-sft","inputs":[{"path":"data/sft/*.jsonl","format":"auto"}],` +
			`"stage":"sft","max_errors":5,"shard_size":67108864,"output":{"dir":"reports/sft"}}`},
		{"convert", convertYAML, `{"kind":"convert","name":"sft-to-hf","inputs":[{"path":"raw/sft.json","format":"json"}],` +
			`"to":"hf","shard_size":1048576,"output":{"dir":"data/sft"}}`},
		{"convert with a record limit", convertYAML + "max_record_bytes: 1MiB\n", `{"kind":"convert","name":"sft-to-hf","inputs":[{"path":"raw/sft.json","format":"json"}],` +
			`"to":"hf","shard_size":1048576,"max_record_bytes":1048576,"output":{"dir":"data/sft"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.CanonicalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("CanonicalJSON =\n%s\nwant\n%s", b, tt.want)
			}
			back, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(canonical): %v", err)
			}
			if !reflect.DeepEqual(back, s) {
				t.Fatalf("round trip\n%+v\n%+v", back, s)
			}
		})
	}
}
