package job

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tokenmill/tokenmill/validate"
)

// Validate checks every key and returns all problems found, joined, each a *KeyError naming
// its key (e.g. "sequence_lengths[1]: must be > 0"). It does not touch the file system.
func (s *Spec) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	s.checkKindAndName(bad)
	s.checkInputs(bad)
	s.checkKindKeys(bad)
	s.checkSequenceLengths(bad)

	fraction(bad, "val_fraction", s.ValFraction)
	fraction(bad, "max_reject_fraction", s.MaxRejectFraction)

	if s.ShardSize <= 0 {
		bad("shard_size", "must be > 0, got %d", s.ShardSize)
	}
	if s.MaxRecordBytes <= 0 {
		bad("max_record_bytes", "must be > 0, got %d", s.MaxRecordBytes)
	}
	if s.MaxAttempts < 1 || s.MaxAttempts > MaxMaxAttempts {
		bad("max_attempts", "must be between 1 and %d, got %d", MaxMaxAttempts, s.MaxAttempts)
	}

	s.checkRemainder(bad)
	s.checkOutput(bad)
	return errors.Join(errs...)
}

// badKey records a problem with a key: its message is format applied to args.
type badKey func(key, format string, args ...any)

// checkKindAndName checks kind and name.
func (s *Spec) checkKindAndName(bad badKey) {
	if !slices.Contains(kinds, s.Kind) {
		bad("kind", "must be one of %s, got %q", joinQ(kinds), s.Kind)
	}
	switch {
	case s.Name == "":
		bad("name", "required")
	case !validName(s.Name):
		bad("name", "%q: use at most 128 letters, digits, '.', '_' or '-', starting with a letter or digit", s.Name)
	}
}

// checkInputs checks the inputs entries: path, format and text field, for the job's kind.
func (s *Spec) checkInputs(bad badKey) {
	if len(s.Inputs) == 0 {
		bad("inputs", "at least one input is required")
	}
	for i, in := range s.Inputs {
		k := index("inputs", i)
		if in.Path == "" {
			bad(k+".path", "required")
		} else if _, err := filepath.Match(in.Path, ""); err != nil {
			bad(k+".path", "%q: bad glob pattern", in.Path)
		}
		if !slices.Contains(inputFormats, in.Format) {
			bad(k+".format", "must be one of %s, got %q", joinQ(inputFormats), in.Format)
		}
		if in.TextField == "" && in.Format != FormatText && in.Format != FormatLines {
			bad(k+".text_field", "required")
		}
		if s.Kind != KindPretrain && in.TextField != DefaultInput("").TextField {
			bad(k+".text_field", "not a key of kind: %s (its records are read whole)", s.Kind)
		}
		if s.Kind != KindPretrain && (in.Format == FormatText || in.Format == FormatLines) {
			bad(k+".format", "%q is not a record format; kind: %s reads jsonl, json, parquet, csv or hf", in.Format, s.Kind)
		}
	}
}

// checkKindKeys checks the keys that some kinds require and others refuse: tokenizer, stage,
// max_errors, to, and the pretraining-only keys.
func (s *Spec) checkKindKeys(bad badKey) {
	switch {
	case s.Kind == KindPretrain && strings.TrimSpace(s.Tokenizer) == "":
		bad("tokenizer", "required")
	case s.Kind == KindConvert && s.Tokenizer != "":
		bad("tokenizer", "not a key of kind: convert")
	}
	switch {
	case s.Kind == KindValidate && s.Stage == "":
		bad("stage", "required for kind: validate")
	case s.Kind == KindValidate:
		if _, err := validate.ParseStage(s.Stage); err != nil {
			bad("stage", "%s", strings.TrimPrefix(err.Error(), "validate: "))
		}
	case s.Stage != "":
		bad("stage", "not a key of kind: %s", s.Kind)
	}
	if s.Kind != KindValidate && s.MaxErrors != DefaultMaxErrors {
		bad("max_errors", "not a key of kind: %s", s.Kind)
	}
	switch {
	case s.Kind == KindConvert && s.To == "":
		bad("to", "required for kind: convert (one of %s)", joinQ(convertTos))
	case s.Kind == KindConvert && !slices.Contains(convertTos, s.To):
		bad("to", "must be one of %s, got %q", joinQ(convertTos), s.To)
	case s.Kind != KindConvert && s.To != "":
		bad("to", "not a key of kind: %s", s.Kind)
	}
	if s.Kind != KindPretrain {
		// Flags and code can set these after Decode, which refuses them in YAML.
		for _, k := range changedPretrainKeys(s) {
			bad(k, "not a key of kind: %s", s.Kind)
		}
	}
}

// checkSequenceLengths checks sequence_lengths: at least one, each in range, none repeated.
func (s *Spec) checkSequenceLengths(bad badKey) {
	if len(s.SequenceLengths) == 0 {
		bad("sequence_lengths", "at least one length is required")
	}
	for i, l := range s.SequenceLengths {
		k := index("sequence_lengths", i)
		switch {
		case l <= 0:
			bad(k, "must be > 0, got %d", l)
		case l > MaxSequenceLength:
			bad(k, "must be at most %d, got %d", MaxSequenceLength, l)
		}
		if j := slices.Index(s.SequenceLengths[:i], l); j >= 0 {
			bad(k, "%d repeats sequence_lengths[%d]", l, j)
		}
	}
}

// checkRemainder checks remainder, and that pad_id comes only with remainder: pad.
func (s *Spec) checkRemainder(bad badKey) {
	switch s.Remainder {
	case RemainderDrop:
		if s.PadID != nil {
			bad("pad_id", "only used with remainder: pad")
		}
	case RemainderPad:
	default:
		bad("remainder", "must be %q or %q, got %q", RemainderDrop, RemainderPad, s.Remainder)
	}
}

// checkOutput checks the output keys: dir, formats, dtype (and that pad_id fits it), layout.
func (s *Spec) checkOutput(bad badKey) {
	if s.Output.Dir == "" {
		bad("output.dir", "required")
	}
	if len(s.Output.Formats) == 0 {
		bad("output.formats", "at least one format is required")
	}
	for i, f := range s.Output.Formats {
		k := index("output.formats", i)
		if !slices.Contains(outputFormats, f) {
			bad(k, "must be one of %s, got %q", joinQ(outputFormats), f)
		}
		if j := slices.Index(s.Output.Formats[:i], f); j >= 0 {
			bad(k, "%q repeats output.formats[%d]", f, j)
		}
	}
	if !slices.Contains(dtypes, s.Output.DType) {
		bad("output.dtype", "must be one of %s, got %q", joinQ(dtypes), s.Output.DType)
	}
	if s.PadID != nil && s.Output.DType != DTypeAuto && slices.Contains(dtypes, s.Output.DType) &&
		uint64(*s.PadID) > s.Output.DType.Max() {
		bad("pad_id", "%d does not fit output.dtype %s", *s.PadID, s.Output.DType)
	}
	switch s.Output.Layout {
	case LayoutCurriculum:
	case LayoutSeed:
		if len(s.SequenceLengths) != 1 {
			bad("output.layout", "seed needs exactly one sequence length, got %d", len(s.SequenceLengths))
		}
	default:
		bad("output.layout", "must be %q or %q, got %q", LayoutCurriculum, LayoutSeed, s.Output.Layout)
	}
}

func fraction(bad badKey, key string, f float64) {
	if math.IsNaN(f) || f < 0 || f > 1 {
		bad(key, "must be between 0 and 1, got %v", f)
	}
}

func validName(s string) bool {
	if len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

func joinQ[T ~string](vs []T) string {
	qs := make([]string, len(vs))
	for i, v := range vs {
		qs[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(qs, ", ")
}

// changedPretrainKeys returns the pretraining-only keys whose values differ from the
// defaults.
func changedPretrainKeys(s *Spec) []string {
	d := DefaultSpec()
	var out []string
	for _, k := range pretrainOnly {
		var same bool
		switch k {
		case "sequence_lengths":
			same = slices.Equal(s.SequenceLengths, d.SequenceLengths)
		case "val_fraction":
			same = s.ValFraction == d.ValFraction
		case "seed":
			same = s.Seed == d.Seed
		case "eos":
			same = s.EOS == d.EOS
		case "bos":
			same = s.BOS == d.BOS
		case "remainder":
			same = s.Remainder == d.Remainder
		case "pad_id":
			same = s.PadID == nil
		case "max_reject_fraction":
			same = s.MaxRejectFraction == d.MaxRejectFraction
		case "output.formats":
			same = slices.Equal(s.Output.Formats, d.Output.Formats)
		case "output.dtype":
			same = s.Output.DType == d.Output.DType
		case "output.layout":
			same = s.Output.Layout == d.Output.Layout
		}
		if !same {
			out = append(out, k)
		}
	}
	return out
}
