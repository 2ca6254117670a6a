package validate

import "strings"

// checkHarmonyText applies the rules of the Harmony text stages: rust-lang (continued
// pretraining on Rust code) and rust-agent (tool-use trajectories). The "text" field must be a
// non-empty string that is well-formed Harmony (CheckHarmony); an agent trajectory must also
// contain at least one tool call, as the document's table says ("text (with tool calls)").
func checkHarmonyText(is *issues, rec map[string]any, agent bool) {
	text, ok := requireString(is, rec, "text", true)
	if !ok {
		return
	}
	is.addAll("text", CheckHarmony(text))
	if agent && !strings.Contains(text, tokToolCall) {
		is.add("text", msgNoToolCalls)
	}
}

// checkMutation applies the rules of the mutation stage (document 5a): buggy_code,
// error_message and fixed_code present, strings and not empty after stripping; repo and file,
// when present, strings; and the buggy and fixed code must differ once leading and trailing
// whitespace is ignored (a mutation that only changes surrounding whitespace teaches nothing).
func checkMutation(is *issues, rec map[string]any) {
	buggy, okB := requireString(is, rec, "buggy_code", true)
	requireString(is, rec, "error_message", true)
	fixed, okF := requireString(is, rec, "fixed_code", true)
	optionalString(is, rec, "repo")
	optionalString(is, rec, "file")
	if okB && okF && pyStrip(buggy) == pyStrip(fixed) {
		is.add("", msgCodeIdentical)
	}
}

// checkTask applies the rules of the GRPO (grpo=true) and eval task stages (document 5d and the
// table): description and tests, plus starter_code for GRPO, present, strings and not empty
// after stripping; and tests must look like Rust #[test] functions (CheckRustTests).
func checkTask(is *issues, rec map[string]any, grpo bool) {
	requireString(is, rec, "description", true)
	if grpo {
		requireString(is, rec, "starter_code", true)
	}
	tests, ok := requireString(is, rec, "tests", true)
	if ok {
		is.addAll("tests", CheckRustTests(tests))
	}
}
