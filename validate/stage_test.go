package validate

import (
	"strings"
	"testing"
)

func TestStages_DocumentOrder(t *testing.T) {
	var names []string
	for _, s := range Stages() {
		names = append(names, string(s))
	}
	want := "pretrain sft dpo lora rust-lang rust-agent mutations ipo grpo eval"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("Stages() = %s, want %s", got, want)
	}
	Stages()[0] = "changed"
	if Stages()[0] != StagePretrain {
		t.Error("Stages shares its slice")
	}
}

func TestParseStage_KnownAndUnknown(t *testing.T) {
	for _, s := range Stages() {
		if got, err := ParseStage(string(s)); err != nil || got != s {
			t.Errorf("ParseStage(%q) = %q, %v", s, got, err)
		}
	}
	_, err := ParseStage("rlhf")
	if err == nil || !strings.Contains(err.Error(), `unknown stage "rlhf"`) || !strings.Contains(err.Error(), "rust-agent") {
		t.Errorf("ParseStage(rlhf) err = %v", err)
	}
}

func TestCheck_UnknownStageAndNonObject(t *testing.T) {
	if got := render(Check("rlhf", map[string]any{}, Options{})); got != "Unknown stage 'rlhf'" {
		t.Errorf("unknown stage: %q", got)
	}
	for _, v := range []any{nil, []any{1}, "text", 3.0} {
		if got := render(CheckValue(StageSFT, v, Options{})); got != "Record must be an object" {
			t.Errorf("CheckValue(%v) = %q", v, got)
		}
	}
	if got := CheckValue(StageSFT, map[string]any{"text": "x"}, Options{}); got != nil {
		t.Errorf("CheckValue(valid) = %v", got)
	}
}

func TestCheck_ValidIsNil(t *testing.T) {
	rec := map[string]any{"prompt": "p", "chosen": "a", "rejected": "b"}
	if got := Check(StageDPO, rec, Options{}); got != nil {
		t.Errorf("valid record: %#v, want nil", got)
	}
}

func TestIssue_String(t *testing.T) {
	if got := (Issue{Field: "text", Message: "m"}).String(); got != "text: m" {
		t.Errorf("got %q", got)
	}
	if got := (Issue{Message: "m"}).String(); got != "m" {
		t.Errorf("got %q", got)
	}
}
