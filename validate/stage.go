package validate

import (
	"fmt"
	"strings"
)

// Stage names one stage of the training pipeline, as the data formats document lists them.
type Stage string

// The stages of the data formats document, in its order.
const (
	StagePretrain  Stage = "pretrain"   // packed token sequences: input_ids
	StageSFT       Stage = "sft"        // messages or text
	StageDPO       Stage = "dpo"        // prompt, chosen, rejected
	StageLoRA      Stage = "lora"       // text or messages
	StageRustLang  Stage = "rust-lang"  // Harmony text
	StageRustAgent Stage = "rust-agent" // Harmony text with tool calls
	StageMutations Stage = "mutations"  // buggy_code, error_message, fixed_code
	StageIPO       Stage = "ipo"        // prompt + Harmony chosen/rejected
	StageGRPO      Stage = "grpo"       // description, starter_code, tests
	StageEval      Stage = "eval"       // description, tests
)

// Stages returns every stage in the document's order (a fresh slice each call).
func Stages() []Stage {
	return []Stage{
		StagePretrain, StageSFT, StageDPO, StageLoRA, StageRustLang,
		StageRustAgent, StageMutations, StageIPO, StageGRPO, StageEval,
	}
}

// ParseStage returns the stage named s, or an error listing the valid names.
func ParseStage(s string) (Stage, error) {
	for _, st := range Stages() {
		if string(st) == s {
			return st, nil
		}
	}
	names := make([]string, 0, 10)
	for _, st := range Stages() {
		names = append(names, string(st))
	}
	return "", fmt.Errorf("unknown stage %q (want one of %s)", s, strings.Join(names, ", "))
}

// Issue is one rule violation in one record. Field is the path of the offending value
// ("input_ids", "messages[2].role", "chosen"; empty for the record as a whole); Message is the
// rule's message, worded as the data formats document words it. Messages never contain the
// record index or a nested path, so that counting them by message groups equal rules.
type Issue struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// String renders the issue as "field: message" (or just the message when there is no field).
func (i Issue) String() string {
	if i.Field == "" {
		return i.Message
	}
	return i.Field + ": " + i.Message
}

// Options parameterise the rules that depend on the run rather than on the record.
type Options struct {
	// VocabSize is the tokenizer's vocabulary size: pretraining token ids must lie in
	// [0, VocabSize). Zero disables the upper bound (negative ids are always out of range).
	VocabSize int
	// SeqLen is the expected number of tokens per pretraining sequence, e.g. from the
	// curriculum directory name (see SeqLenFromPath). Zero disables the length check.
	SeqLen int
}

// Check applies the rules of stage to one decoded record and returns its issues, in rule order;
// nil means the record is valid. It never panics and never does I/O. An unknown stage yields a
// single issue naming it.
func Check(stage Stage, rec map[string]any, opt Options) []Issue {
	var is issues
	switch stage {
	case StagePretrain:
		checkPretrain(&is, rec, opt)
	case StageSFT, StageLoRA:
		checkChat(&is, rec)
	case StageDPO:
		checkPreference(&is, rec, false)
	case StageIPO:
		checkPreference(&is, rec, true)
	case StageRustLang:
		checkHarmonyText(&is, rec, false)
	case StageRustAgent:
		checkHarmonyText(&is, rec, true)
	case StageMutations:
		checkMutation(&is, rec)
	case StageGRPO:
		checkTask(&is, rec, true)
	case StageEval:
		checkTask(&is, rec, false)
	default:
		is.add("", fmt.Sprintf("Unknown stage '%s'", stage))
	}
	return is
}

// CheckValue is Check for a record that may not be a JSON object at all (a line holding an
// array or a number): such a record gets the single issue "Record must be an object".
func CheckValue(stage Stage, v any, opt Options) []Issue {
	rec, ok := v.(map[string]any)
	if !ok {
		return []Issue{{Message: msgRecordNotObject}}
	}
	return Check(stage, rec, opt)
}
