package validate

import (
	"strings"
	"testing"
)

// agentText is the document's example messages as EncodeHarmony writes them.
const agentText = `<|developer|>\nYou are a Rust coding agent.\n<|user|>\nFix the failing test in src/parser.rs\n` +
	`<|thinking|>\nLet me check the test output...\n<|/thinking|>\n` +
	`<|tool_call|>\n{\"id\": \"1\", \"name\": \"run_tests\", \"arguments\": {\"cmd\": \"cargo test\"}}\n` +
	`<|tool_result|>\n<|tool_call_id|>1\nFAILED: test_parse_expr\n<|assistant|>\nThe issue is...\n<|endoftext|>`

const codeText = `<|developer|>\nYou are a Rust programming expert. File: src/lib.rs\n<|assistant|>\npub fn add(a: i32, b: i32) -> i32 { a + b }\n<|endoftext|>`

func TestCheck_RustLang(t *testing.T) {
	runStageCases(t, StageRustLang, []stageCase{
		{"code file", `{"text": "` + codeText + `"}`, Options{}, nil},
		{"agent text is fine too", `{"text": "` + agentText + `"}`, Options{}, nil},
		{"missing", `{"content": "fn main() {}"}`, Options{}, []string{"text: Missing required field 'text'"}},
		{"blank", `{"text": "\n"}`, Options{}, []string{"text: Field 'text' is empty after stripping"}},
		{"not harmony", `{"text": "fn main() {}"}`, Options{}, []string{
			"text: Missing <|endoftext|> token", "text: No role tokens found"}},
		{"chatml", `{"text": "<|im_start|>user\nhi<|im_end|>\n<|assistant|>\nhello\n<|endoftext|>"}`, Options{}, []string{
			"text: Text before the first role token",
			"text: Unknown Harmony token '<|im_start|>'",
			"text: Unknown Harmony token '<|im_end|>'"}},
	})
}

func TestCheck_RustAgent(t *testing.T) {
	runStageCases(t, StageRustAgent, []stageCase{
		{"document example", `{"text": "` + agentText + `"}`, Options{}, nil},
		{"no tool calls", `{"text": "` + codeText + `"}`, Options{}, []string{"text: Agent trajectory has no tool calls"}},
		{"bad tool call", `{"text": "<|user|>\nx\n<|tool_call|>\nrun_tests(cargo test)\n<|tool_result|>\nok\n<|endoftext|>"}`, Options{},
			[]string{"text: Tool call is not a JSON object"}},
	})
}

func TestCheck_Mutations(t *testing.T) {
	runStageCases(t, StageMutations, []stageCase{
		{"document example", `{"buggy_code": "fn add(a: i32, b: i32) -> i32 { a - b }",
			"error_message": "test test_add failed: assertion 3 != -1",
			"fixed_code": "fn add(a: i32, b: i32) -> i32 { a + b }",
			"repo": "example/math-utils", "file": "src/lib.rs"}`, Options{}, nil},
		{"repo and file optional", `{"buggy_code": "a", "error_message": "e", "fixed_code": "b", "repo": null}`, Options{}, nil},
		{"missing", `{"buggy_code": "a"}`, Options{}, []string{
			"error_message: Missing required field 'error_message'",
			"fixed_code: Missing required field 'fixed_code'"}},
		{"identical", `{"buggy_code": "fn f() {}", "error_message": "e", "fixed_code": "fn f() {}"}`, Options{},
			[]string{"Buggy and fixed code are identical"}},
		{"identical but surrounding space", `{"buggy_code": "fn f() {}\n", "error_message": "e", "fixed_code": "  fn f() {}"}`, Options{},
			[]string{"Buggy and fixed code are identical"}},
		{"inner space differs", `{"buggy_code": "fn f() {}", "error_message": "e", "fixed_code": "fn f() { }"}`, Options{}, nil},
		{"types", `{"buggy_code": 1, "error_message": "", "fixed_code": "b", "repo": 2, "file": ["x"]}`, Options{}, []string{
			"buggy_code: Field 'buggy_code' must be a string",
			"error_message: Field 'error_message' is empty after stripping",
			"repo: Field 'repo' must be a string",
			"file: Field 'file' must be a string"}},
	})
}

const docTests = `#[test]\nfn test_basic() { assert_eq!(merge_sorted(&[1,3], &[2,4]), vec![1,2,3,4]); }`

func TestCheck_GRPO(t *testing.T) {
	runStageCases(t, StageGRPO, []stageCase{
		{"document example", `{"description": "Implement a function that merges two sorted vectors.",
			"starter_code": "fn merge_sorted(a: &[i32], b: &[i32]) -> Vec<i32> { todo!() }",
			"tests": "` + docTests + `"}`, Options{}, nil},
		{"missing starter", `{"description": "d", "tests": "` + docTests + `"}`, Options{},
			[]string{"starter_code: Missing required field 'starter_code'"}},
		{"main instead of test", `{"description": "d", "starter_code": "fn f() {}", "tests": "fn main() { assert!(true); }"}`, Options{},
			[]string{"tests: Field 'tests' has no #[test] function"}},
		{"empty tests", `{"description": "d", "starter_code": "s", "tests": " "}`, Options{},
			[]string{"tests: Field 'tests' is empty after stripping"}},
	})
}

func TestCheck_Eval(t *testing.T) {
	runStageCases(t, StageEval, []stageCase{
		{"no starter needed", `{"description": "d", "tests": "` + docTests + `"}`, Options{}, nil},
		{"unbalanced", `{"description": "d", "tests": "#[test]\nfn t() { assert!(f(1);\n}"}`, Options{},
			[]string{"tests: Field 'tests' has unbalanced delimiters"}},
		{"missing all", `{}`, Options{}, []string{
			"description: Missing required field 'description'",
			"tests: Missing required field 'tests'"}},
	})
}

func TestCheckRustTests_Lexing(t *testing.T) {
	cases := []struct{ name, src, want string }{
		{"module with use", "#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn works() { assert_eq!(add(1, 2), 3); }\n}", ""},
		{"extra attributes", "#[test]\n#[should_panic(expected = \"boom\")]\npub fn t() { panic!(\"boom\") }", ""},
		{"generic async unsafe", "#[test] async unsafe fn t<T>() {}", ""},
		{"braces in strings and chars", "#[test]\nfn t() { let s = \"{{\"; let c = '{'; let r = r#\"}\"#; let b = b'('; let e = '\\''; }", ""},
		{"lifetimes", "#[test]\nfn t<'a>(x: &'a str) -> &'a str { 'outer: loop { break 'outer; } x }", ""},
		{"comments", "// #[test] fn fake() {\n/* nested /* { */ */\n#[test]\nfn t() {}", ""},
		{"commented test only", "// #[test]\n// fn t() {}\nfn main() {}", msgNoTestFn},
		{"test in string only", "fn main() { let s = \"#[test] fn t() {}\"; }", msgNoTestFn},
		{"cfg test is not a test", "#[cfg(test)]\nmod tests { fn helper() {} }", msgNoTestFn},
		{"orphan attribute", "#[test]\nfn t() {}\n#[test]\nstruct S;", msgTestAttrNoFn},
		{"unterminated string", "#[test]\nfn t() { let s = \"oops; }", msgTestsUnterminated},
		{"unterminated raw string", "#[test]\nfn t() { let s = r##\"oops\"#; }", msgTestsUnterminated},
		{"unterminated comment", "#[test]\nfn t() {} /* /* */", msgTestsUnterminated},
		{"mismatched", "#[test]\nfn t() { let v = vec![1, 2); }", msgTestsUnbalanced},
		{"raw identifier", "#[test]\nfn t() { let r#type = 1; }", ""},
		{"unicode char", "#[test]\nfn t() { let c = 'é'; let d = '}'; }", ""},
	}
	for _, c := range cases {
		var msgs []string
		for _, is := range CheckRustTests(c.src) {
			msgs = append(msgs, is.Message)
		}
		if got := strings.Join(msgs, "\n"); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
