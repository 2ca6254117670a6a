package validate

import "testing"

// sftCases hold for SFT and LoRA alike.
func sftCases() []stageCase {
	return []stageCase{
		{"document messages example", `{"messages": [
		{"role": "system", "content": "You are a helpful, harmless, and honest assistant."},
		{"role": "user", "content": "Explain machine learning in simple terms."},
		{"role": "assistant", "content": "Machine learning is a type of artificial intelligence..."},
		{"role": "user", "content": "Can you give an example?"},
		{"role": "assistant", "content": "Sure! A common example is email spam filtering..."}]}`, Options{}, nil},
		{"document text example", `{"text": "<|system|>You are helpful.<|user|>What is Python?<|assistant|>Python is..."}`, Options{}, nil},
		{"neither", `{"prompt": "x"}`, Options{}, []string{"Must have 'messages' or 'text' field"}},
		{"both null", `{"messages": null, "text": null}`, Options{}, []string{"Must have 'messages' or 'text' field"}},
		{"null messages falls back to text", `{"messages": null, "text": "hi"}`, Options{}, nil},
		{"messages win over bad text", `{"messages": [{"role": "user", "content": "hi"}], "text": 5}`, Options{}, nil},
		{"messages not a list", `{"messages": "hello"}`, Options{}, []string{"messages: Field 'messages' must be a list"}},
		{"messages empty", `{"messages": []}`, Options{}, []string{"messages: Field 'messages' is empty"}},
		{"message not an object", `{"messages": ["hi", {"role": "user", "content": "x"}]}`, Options{},
			[]string{"messages[0]: Field 'messages' must be a list of objects"}},
		{"missing role and content", `{"messages": [{"role": "user", "content": "x"}, {}]}`, Options{}, []string{
			"messages[1].role: Missing required field 'role'",
			"messages[1].content: Missing required field 'content'"}},
		{"tool role not allowed", `{"messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "out"}]}`, Options{},
			[]string{"messages[1].role: Invalid role 'tool' (must be one of: system, user, assistant)"}},
		{"role case matters", `{"messages": [{"role": "User", "content": "x"}]}`, Options{},
			[]string{"messages[0].role: Invalid role 'User' (must be one of: system, user, assistant)"}},
		{"wrong types", `{"messages": [{"role": 1, "content": null}, {"role": "assistant", "content": ["a"]}]}`, Options{}, []string{
			"messages[0].role: Field 'role' must be a string",
			"messages[0].content: Field 'content' must be a string",
			"messages[1].content: Field 'content' must be a string"}},
		{"empty content is allowed", `{"messages": [{"role": "assistant", "content": ""}]}`, Options{}, nil},
		{"text not a string", `{"text": ["a"]}`, Options{}, []string{"text: Field 'text' must be a string"}},
		{"text empty", `{"text": ""}`, Options{}, []string{"text: Field 'text' is empty"}},
		{"text blank passes as in the document", `{"text": "  "}`, Options{}, nil},
	}
}

func TestCheck_SFT(t *testing.T) { runStageCases(t, StageSFT, sftCases()) }

func TestCheck_LoRA(t *testing.T) {
	runStageCases(t, StageLoRA, sftCases())
	runStageCases(t, StageLoRA, []stageCase{
		{"document text example", `{"text": "def calculate_fibonacci(n):\n    if n <= 1:\n        return n..."}`, Options{}, nil},
		{"document messages example", `{"messages": [
			{"role": "user", "content": "Write a function to calculate factorial"},
			{"role": "assistant", "content": "def factorial(n):\n    ..."}]}`, Options{}, nil},
	})
}

func TestCheck_DPO(t *testing.T) {
	runStageCases(t, StageDPO, []stageCase{
		{"document example", `{"prompt": "Human: What's the best way to learn programming?\n\nAssistant:",
			"chosen": "The best way to learn programming is to start with fundamentals...",
			"rejected": "Just copy code from the internet and hope it works."}`, Options{}, nil},
		{"missing all", `{}`, Options{}, []string{
			"prompt: Missing required field 'prompt'",
			"chosen: Missing required field 'chosen'",
			"rejected: Missing required field 'rejected'"}},
		{"wrong types", `{"prompt": 1, "chosen": null, "rejected": ["x"]}`, Options{}, []string{
			"prompt: Field 'prompt' must be a string",
			"chosen: Field 'chosen' must be a string",
			"rejected: Field 'rejected' must be a string"}},
		{"document empty after stripping", `{"prompt": "p", "chosen": " \n\t", "rejected": "r"}`, Options{},
			[]string{"chosen: Field 'chosen' is empty after stripping"}},
		{"python whitespace", `{"prompt": "\u001f\u00a0\u2003", "chosen": "a", "rejected": "b"}`, Options{},
			[]string{"prompt: Field 'prompt' is empty after stripping"}},
		{"document identical", `{"prompt": "p", "chosen": "same", "rejected": "same"}`, Options{},
			[]string{"Responses are identical"}},
		{"identical only when both valid", `{"prompt": "p", "chosen": " ", "rejected": " "}`, Options{}, []string{
			"chosen: Field 'chosen' is empty after stripping",
			"rejected: Field 'rejected' is empty after stripping"}},
		{"differ in white space", `{"prompt": "p", "chosen": "same", "rejected": "same "}`, Options{}, nil},
	})
}

func TestCheck_IPO(t *testing.T) {
	good := `<|developer|>\nYou are a Rust programming expert.\n<|user|>\nFix this Rust code...\n<|assistant|>\n`
	runStageCases(t, StageIPO, []stageCase{
		{"harmony pair", `{"prompt": "Fix this Rust code...", "chosen": "` + good + `fn a() {}\n<|endoftext|>",
			"rejected": "` + good + `fn a() { todo!() }\n<|endoftext|>"}`, Options{}, nil},
		{"identical harmony", `{"prompt": "p", "chosen": "` + good + `x\n<|endoftext|>", "rejected": "` + good + `x\n<|endoftext|>"}`,
			Options{}, []string{"Responses are identical"}},
		{"plain text responses", `{"prompt": "p", "chosen": "fn a() {}", "rejected": "<|user|>\nx"}`, Options{}, []string{
			"chosen: Missing <|endoftext|> token",
			"chosen: No role tokens found",
			"rejected: Missing <|endoftext|> token"}},
		{"empty prompt", `{"prompt": "", "chosen": "` + good + `a\n<|endoftext|>", "rejected": "` + good + `b\n<|endoftext|>"}`,
			Options{}, []string{"prompt: Field 'prompt' is empty after stripping"}},
	})
}

// Columnar readers may hand over typed slices rather than []any.
func TestCheck_SFTTypedValues(t *testing.T) {
	rec := map[string]any{"messages": []map[string]any{
		{"role": "user", "content": "hi"}, {"role": "tool", "content": "x"}}}
	want := "messages[1].role: Invalid role 'tool' (must be one of: system, user, assistant)"
	if got := render(Check(StageSFT, rec, Options{})); got != want {
		t.Errorf("[]map: got %q, want %q", got, want)
	}
	rec = map[string]any{"messages": []string{"hi"}}
	if got := render(Check(StageSFT, rec, Options{})); got != "messages[0]: Field 'messages' must be a list of objects" {
		t.Errorf("[]string: got %q", got)
	}
	if got := CheckLoRA(map[string]any{"target_modules": []string{"q_proj", "gate_up_proj"}}); got != nil {
		t.Errorf("LoRA []string: %v", got)
	}
}
