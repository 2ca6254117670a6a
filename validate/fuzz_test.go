package validate

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzCheck decodes arbitrary bytes as a record and runs every stage over it: no panic, and
// every issue has a message and matches a rule of the stage's table (Rules).
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"input_ids": [1, 50000, -3, 2.5, "x"]}`,
		`{"messages": [{"role": "tool"}, 3, {"content": null}]}`,
		`{"text": "<|user|>\nhi\n<|tool_call|>\n{\"name\": 1}\n<|endoftext|>"}`,
		`{"prompt": "p", "chosen": "<|assistant|>x<|endoftext|>", "rejected": ""}`,
		`{"buggy_code": "a", "error_message": "e", "fixed_code": " a "}`,
		`{"description": "d", "starter_code": "s", "tests": "#[test] fn t() { let c = '\\''; r#\"x\"#; }"}`,
		`[1, 2]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		for _, st := range append(Stages(), "nope") {
			for _, is := range CheckValue(st, v, Options{VocabSize: 100, SeqLen: 4}) {
				if is.Message == "" {
					t.Fatalf("%s: empty message for %s", st, data)
				}
				if _, ok := MatchRule(st, is); !ok && st != "nope" {
					t.Fatalf("%s: issue %q of %s is in no rule of the table", st, is, data)
				}
			}
		}
		if m, ok := v.(map[string]any); ok {
			CheckLoRA(m)
		}
	})
}

// FuzzCheckHarmony runs the Harmony and Rust test checkers over arbitrary text: no panic.
func FuzzCheckHarmony(f *testing.F) {
	for _, s := range []string{
		"<|developer|>\nd\n<|user|>\nu\n<|thinking|>\nt\n<|/thinking|>\n<|tool_call|>\n{\"name\": \"f\"}\n<|tool_result|>\n<|tool_call_id|>1\nout\n<|assistant|>\na\n<|endoftext|>",
		"<|x|><|endoftext|><|endoftext|>", "'", "r#\"", "/* /*", "#[test]", "#[test]\n#[", "b'\\",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		CheckHarmony(s)
		CheckRustTests(s)
		SeqLenFromPath(s)
	})
}

// FuzzEncodeHarmony encodes arbitrary messages without panicking, and checks that an agent
// turn (developer, user, assistant thinking + tool call + content, tool result) whose strings
// hold no special-token brackets always encodes to well-formed Harmony.
func FuzzEncodeHarmony(f *testing.F) {
	f.Add("assistant", "hello", "", "1", "run", `{"b": [1.5, {"a": null}]}`, "dev")
	f.Add("assistant", "", "think", "", "f", ``, "")
	f.Add("tool", "out", "", "7", "", `"{\"x\": 1}"`, "")
	f.Fuzz(func(t *testing.T, role, content, thinking, id, name, args, dev string) {
		msgs := []Message{
			{Role: "user", Content: "task"},
			{Role: role, Content: content, Thinking: thinking, ToolCalls: []ToolCall{{ID: id, Name: name, Arguments: json.RawMessage(args)}}},
			{Role: "tool", ToolCallID: id, Content: content},
		}
		text, err := EncodeHarmony(msgs, dev)
		if err != nil || role != "assistant" || name == "" {
			return
		}
		all := content + thinking + id + name + args + dev
		if strings.Contains(all, "<|") || strings.Contains(all, "|>") {
			return
		}
		trimmed := strings.TrimSpace(args)
		if trimmed != "" && trimmed != "null" && trimmed[0] != '{' {
			return // string arguments go in verbatim; other JSON values are not objects' fields
		}
		for _, is := range CheckHarmony(text) {
			if is.Message == msgHarmonyCallJSON && strings.Contains(text, "Infinity") {
				continue // Python writes an overflowing float as Infinity, which is not JSON
			}
			t.Fatalf("EncodeHarmony(%q, %q) = %q: %v", msgs, dev, text, is)
		}
	})
}
