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
	// Name (name) identifies the job in shard ids, staging paths and the manifest. Letters,
	// digits, '.', '_' and '-', starting with a letter or digit, at most 128 bytes. Required.
	Name string `json:"name"`
	// Inputs (inputs) lists files, directories or globs to read. At least one is required.
	Inputs []Input `json:"inputs"`
	// Tokenizer (tokenizer) is a built-in encoding name, a .tiktoken path or a tokenizer.json
	// path. Required.
	Tokenizer string `json:"tokenizer"`
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
}

// Input is one entry of inputs.
type Input struct {
	// Path (path) is a file, a directory (read recursively) or a glob ("**" matches any number
	// of directories). Required.
	Path string `json:"path"`
	// Format (format) of the files [auto: by extension, then by content].
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
	// Overwrite (output.overwrite) allows replacing an existing output directory [false]. It
	// is an operational switch, not part of what the job computes, so it is left out of the
	// canonical JSON; the CLI may expose it as a flag only.
	Overwrite bool `json:"-"`
}

// Format is an input format.
type Format string

// Input formats, named as the readers of package formats name them. The issue lists auto,
// jsonl, parquet, csv, text and hf; json (one JSON array of objects) and lines (plain text, one
// document per line) are the readers' two other formats, accepted too.
const (
	FormatAuto    Format = "auto"    // by extension, then by content
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
		SequenceLengths:   []int{2048},
		ValFraction:       0.01,
		ShardSize:         64 << 20,
		EOS:               true,
		Remainder:         RemainderDrop,
		MaxRejectFraction: 0.01,
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
// Output.Overwrite is left out. Lists keep the order they were written in.
func (s *Spec) CanonicalJSON() ([]byte, error) {
	b, err := json.Marshal(s)
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
