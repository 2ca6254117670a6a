package job

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
)

// Spec is a job specification. The YAML key of each field is given in its comment; the default
// (DefaultSpec) in brackets.
type Spec struct {
	// Kind (kind) says what the job does: pretrain (tokenize and pack, the default), validate
	// (check every record against a stage's rules and write a report) or convert (rewrite
	// the records as an HF dataset, JSONL or Parquet). All kinds are planned and sharded
	// alike; see KindKeys for the keys each kind takes.
	Kind Kind `json:"-"`
	// Name (name) identifies the job in shard ids, staging paths and the manifest. Letters,
	// digits, '.', '_' and '-', starting with a letter or digit, at most 128 bytes. Required.
	Name string `json:"name"`
	// Inputs (inputs) lists files, directories or globs to read. At least one is required.
	Inputs []Input `json:"inputs"`
	// Tokenizer (tokenizer) is a built-in encoding name, a .tiktoken path, a tokenizer.json
	// path or a SentencePiece .model path. Required for pretrain; optional for validate (its vocabulary bounds pretraining
	// token ids); refused for convert.
	Tokenizer string `json:"tokenizer"`
	// Stage (stage) is the pipeline stage whose rules a validate job applies (pretrain, sft,
	// dpo, ...; see validate.Stages). Required for validate, refused otherwise.
	Stage string `json:"-"`
	// MaxErrors (max_errors) is how many errors a validate job's report lists, the first ones
	// in input order; negative lists all [20]. Validate only.
	MaxErrors int `json:"-"`
	// To (to) is the output format of a convert job: hf, jsonl or parquet. Required for
	// convert, refused otherwise.
	To ConvertTo `json:"-"`
	// SequenceLengths (sequence_lengths) are the packed row lengths in tokens, one output bucket
	// per length, each > 0 and at most MaxSequenceLength, no duplicates [2048].
	SequenceLengths []int `json:"sequence_lengths"`
	// ValFraction (val_fraction) is the fraction of documents sent to the validation split, in
	// [0, 1] [0.01].
	ValFraction float64 `json:"val_fraction"`
	// Seed (seed) selects the train/validation split [0].
	Seed uint64 `json:"seed"`
	// ShardSize (shard_size) is the target amount of input per shard, > 0 [64MiB].
	ShardSize ByteSize `json:"shard_size"`
	// MaxRecordBytes (max_record_bytes) bounds one record in bytes (a line, a JSON array
	// element, a CSV row, a Parquet or HF value, a whole text file), > 0 [64MiB]. A longer
	// record is rejected (pretrain: into rejects.jsonl, with a reason naming this key) after
	// being skipped in bounded memory. The canonical JSON holds it only when it is not the
	// default, so the fingerprints of specs without it stay what they were before the key.
	MaxRecordBytes ByteSize `json:"max_record_bytes,omitempty"`
	// EOS (eos) appends the tokenizer's end-of-text token after each document [true].
	EOS bool `json:"eos"`
	// BOS (bos) prepends the tokenizer's begin-of-text token before each document [false].
	BOS bool `json:"bos"`
	// Remainder (remainder) says what happens to the last partial row of each split and length:
	// drop it or pad it to full length [drop].
	Remainder Remainder `json:"remainder"`
	// PadID (pad_id) is the token id used by remainder: pad; nil means the tokenizer's
	// end-of-text token. Only allowed with remainder: pad. (An extension to the keys:
	// padding needs an id, and the spec must pin it for the output to be reproducible.)
	PadID *uint32 `json:"pad_id,omitempty"`
	// MaxRejectFraction (max_reject_fraction) fails the job when more than this fraction of
	// the records read is rejected, in [0, 1] [0.01].
	MaxRejectFraction float64 `json:"max_reject_fraction"`
	// Output (output) says where and how to write.
	Output Output `json:"output"`
	// MaxAttempts (max_attempts) is how many times a cluster runs a task before it fails the
	// job: lost leases and failed attempts count, a task handed back by a draining worker
	// does not; in [1, MaxMaxAttempts] [3]. Like output.overwrite it is an operational
	// setting, not part of what the job computes, so it is left out of the canonical JSON;
	// `tokenmill run` does not retry.
	MaxAttempts int `json:"-"`
	// Constraints (constraints) are the worker tags a cluster runs the job's tasks on: each
	// "key=value", "key!=value" or "key" (has the tag). Operational like max_attempts: left
	// out of the canonical JSON; `tokenmill run` ignores them.
	Constraints []Constraint `json:"-"`
}

// Kind is the kind of a job.
type Kind string

// Kinds.
const (
	KindPretrain Kind = "pretrain" // tokenize and pack (the default)
	KindValidate Kind = "validate" // check records against a stage's rules, write a report
	KindConvert  Kind = "convert"  // rewrite records as an HF dataset, JSONL or Parquet
)

var kinds = []Kind{KindPretrain, KindValidate, KindConvert}

// ConvertTo is the output format of a convert job.
type ConvertTo string

// Convert outputs.
const (
	ConvertHF      ConvertTo = "hf"      // an HF save_to_disk directory: output.dir itself
	ConvertJSONL   ConvertTo = "jsonl"   // output.dir/data.jsonl
	ConvertParquet ConvertTo = "parquet" // output.dir/data.parquet
)

var convertTos = []ConvertTo{ConvertHF, ConvertJSONL, ConvertParquet}

// DefaultMaxErrors is the default of max_errors, as `tokenmill validate --max-errors`.
const DefaultMaxErrors = 20

// DefaultMaxRecordBytes is the default of max_record_bytes: 64 MiB, the readers' own default
// (formats.DefaultMaxRecord).
const DefaultMaxRecordBytes ByteSize = 64 << 20

// DefaultMaxAttempts is the default of max_attempts; MaxMaxAttempts bounds it.
const (
	DefaultMaxAttempts = 3
	MaxMaxAttempts     = 1000
)

// pretrainOnly lists the keys that shape tokenization, packing and the token outputs. A
// validate or convert job refuses them, naming the key, rather than ignoring them: a key
// that silently does nothing misleads whoever reads the spec.
var pretrainOnly = []string{"sequence_lengths", "val_fraction", "seed", "eos", "bos", "remainder",
	"pad_id", "max_reject_fraction", "output.formats", "output.dtype", "output.layout"}

// KindKeys returns the keys a job of kind k takes: every kind takes kind, name, inputs (path
// and format; text_field is pretrain only), shard_size, max_record_bytes, max_attempts,
// constraints, output.dir and output.overwrite; pretrain adds tokenizer and the packing keys;
// validate adds stage, max_errors and an optional tokenizer; convert adds to.
func KindKeys(k Kind) []string {
	common := []string{"kind", "name", "inputs", "shard_size", "max_record_bytes", "max_attempts", "constraints", "output", "output.dir", "output.overwrite"}
	switch k {
	case KindValidate:
		return append(common, "tokenizer", "stage", "max_errors")
	case KindConvert:
		return append(common, "to")
	}
	return append(append(common, "tokenizer"), pretrainOnly...)
}

// Input is one entry of inputs.
type Input struct {
	// Path (path) is a file, a directory (read recursively) or a glob ("**" matches any number
	// of directories). Required.
	Path string `json:"path"`
	// Format (format) of the files [auto: by content, then by extension].
	Format Format `json:"format"`
	// TextField (text_field) is the field holding the document text, for jsonl, json,
	// parquet, csv and hf [text]. Ignored for text and lines.
	TextField string `json:"text_field"`
}

// Output is the output section.
type Output struct {
	// Dir (output.dir) is the output directory [data/packed].
	Dir string `json:"dir"`
	// Formats (output.formats) are the output formats, no duplicates [hf, npy].
	Formats []OutputFormat `json:"formats"`
	// DType (output.dtype) is the token id type of .npy files and HF columns [int64].
	DType DType `json:"dtype"`
	// Layout (output.layout) names the outputs [curriculum: train_<L>/, val_<L>/,
	// train_<L>.npy, val_<L>.npy]. seed: train/, val/, pretrain.npy, val.npy; needs exactly one
	// sequence length.
	Layout Layout `json:"layout"`
	// Overwrite (output.overwrite) allows replacing an existing output directory that is a
	// previous tokenmill output (see internal/outdir) [false]. It is an operational switch, not part of what the job computes, so it is left out of the
	// canonical JSON; the CLI may expose it as a flag only.
	Overwrite bool `json:"-"`
}

// Format is an input format.
type Format string

// Input formats, named as the readers of package formats name them. The issue lists auto,
// jsonl, parquet, csv, text and hf; json (one JSON array of objects) and lines (plain text, one
// document per line) are the readers' two other formats, accepted too.
const (
	FormatAuto    Format = "auto"    // by content (signatures), then by extension
	FormatJSONL   Format = "jsonl"   // one JSON object per line
	FormatJSON    Format = "json"    // one JSON array of objects
	FormatParquet Format = "parquet" // a string column of a Parquet file
	FormatCSV     Format = "csv"     // a column of a CSV file with a header row
	FormatText    Format = "text"    // the whole file is one document
	FormatLines   Format = "lines"   // plain text, one document per line
	FormatHF      Format = "hf"      // a Hugging Face save_to_disk directory
)

// inputFormats lists the accepted input formats.
var inputFormats = []Format{FormatAuto, FormatJSONL, FormatJSON, FormatParquet, FormatCSV, FormatText, FormatLines, FormatHF}

// OutputFormat is an output format.
type OutputFormat string

// Output formats.
const (
	OutputHF  OutputFormat = "hf"
	OutputNPY OutputFormat = "npy"
)

var outputFormats = []OutputFormat{OutputHF, OutputNPY}

// Remainder is the treatment of the last partial row.
type Remainder string

// Remainder values.
const (
	RemainderDrop Remainder = "drop"
	RemainderPad  Remainder = "pad"
)

// Layout is the naming of the outputs.
type Layout string

// Layouts.
const (
	LayoutCurriculum Layout = "curriculum"
	LayoutSeed       Layout = "seed"
)

// MaxSequenceLength bounds sequence_lengths.
const MaxSequenceLength = 1 << 20

// DefaultInput returns an input entry with the defaults of format and text_field.
func DefaultInput(path string) Input {
	return Input{Path: path, Format: FormatAuto, TextField: "text"}
}

// DefaultSpec returns a spec holding every default. Name, inputs and tokenizer have none.
func DefaultSpec() *Spec {
	return &Spec{
		Kind:              KindPretrain,
		MaxErrors:         DefaultMaxErrors,
		SequenceLengths:   []int{2048},
		ValFraction:       0.01,
		ShardSize:         64 << 20,
		MaxRecordBytes:    DefaultMaxRecordBytes,
		EOS:               true,
		Remainder:         RemainderDrop,
		MaxRejectFraction: 0.01,
		MaxAttempts:       DefaultMaxAttempts,
		Output: Output{
			Dir:     "data/packed",
			Formats: []OutputFormat{OutputHF, OutputNPY},
			DType:   DTypeInt64,
			Layout:  LayoutCurriculum,
		},
	}
}

// Clone returns a deep copy.
func (s *Spec) Clone() *Spec {
	c := *s
	c.Inputs = slices.Clone(s.Inputs)
	c.SequenceLengths = slices.Clone(s.SequenceLengths)
	c.Output.Formats = slices.Clone(s.Output.Formats)
	if s.PadID != nil {
		p := *s.PadID
		c.PadID = &p
	}
	return &c
}

// CanonicalJSON returns the spec as compact JSON with a fixed key order (the field order of
// Spec), sizes in bytes and floats in their shortest exact form: equal specs give equal bytes.
// Output.Overwrite is left out, and so is MaxRecordBytes at its default. Lists keep the
// order they were written in. A pretrain spec has no kind key, so pretraining fingerprints
// are those of specs written before kinds existed; a validate or convert spec holds its kind and only the keys its kind takes.
func (s *Spec) CanonicalJSON() ([]byte, error) {
	c := *s
	if c.MaxRecordBytes == DefaultMaxRecordBytes {
		c.MaxRecordBytes = 0 // omitted
	}
	var v any = &c
	if s.Kind != KindPretrain && s.Kind != "" {
		v = c.recordsView()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("job: canonical json: %w", err)
	}
	return b, nil
}

// Fingerprint is the hex SHA-256 of CanonicalJSON.
func (s *Spec) Fingerprint() (string, error) {
	b, err := s.CanonicalJSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// recordsInput is an input of a validate or convert job in canonical JSON.
type recordsInput struct {
	Path   string `json:"path"`
	Format Format `json:"format"`
}

// recordsView is the canonical JSON of a validate or convert spec, in Spec's field order.
type recordsView struct {
	Kind      Kind           `json:"kind"`
	Name      string         `json:"name"`
	Inputs    []recordsInput `json:"inputs"`
	Tokenizer string         `json:"tokenizer,omitempty"`
	Stage     string         `json:"stage,omitempty"`
	MaxErrors *int           `json:"max_errors,omitempty"`
	To        ConvertTo      `json:"to,omitempty"`
	ShardSize ByteSize       `json:"shard_size"`
	// MaxRecordBytes is omitted at the default, as in a pretrain spec.
	MaxRecordBytes ByteSize `json:"max_record_bytes,omitempty"`
	Output         struct {
		Dir string `json:"dir"`
	} `json:"output"`
}

func (s *Spec) recordsView() recordsView {
	v := recordsView{Kind: s.Kind, Name: s.Name, Tokenizer: s.Tokenizer, Stage: s.Stage, To: s.To,
		ShardSize: s.ShardSize, MaxRecordBytes: s.MaxRecordBytes}
	v.Inputs = make([]recordsInput, len(s.Inputs))
	for i, in := range s.Inputs {
		v.Inputs[i] = recordsInput{Path: in.Path, Format: in.Format}
	}
	if s.Kind == KindValidate {
		n := s.MaxErrors
		v.MaxErrors = &n
	}
	v.Output.Dir = s.Output.Dir
	return v
}
