package validate

import (
	"strings"
	"testing"
)

func TestCheckHarmony_Rules(t *testing.T) {
	const eot = "<|endoftext|>"
	cases := []struct{ name, text, want string }{
		{"document 5b shape", "<|developer|>\nYou are a Rust coding agent...\n<|user|>\nFix the failing test...\n<|thinking|>\n...\n" +
			"<|tool_call|>\n{\"name\": \"run_tests\"}\n<|tool_result|>\n...\n<|assistant|>\n...\n" + eot, ""},
		{"trailing white space after end", "<|user|>\nhi\n" + eot + "\n\n", ""},
		{"empty", " \n", msgHarmonyEmpty},
		{"no end", "<|user|>\nhi\n", msgHarmonyNoEOT},
		{"generation prompt is not training data", "<|user|>\nhi\n<|assistant|>\n", msgHarmonyNoEOT},
		{"text after end", "<|user|>\nhi\n" + eot + "more", msgHarmonyNoEOT},
		{"no roles", "just text" + eot, msgHarmonyNoRoles},
		{"leading text", "hello <|user|>\nhi\n" + eot, msgHarmonyLeading},
		{"unknown token", "<|user|>\nhi <|start|> there\n" + eot, "Unknown Harmony token '<|start|>'"},
		{"reported once", "<|user|>\n<|x|><|x|>\n" + eot, "Unknown Harmony token '<|x|>'"},
		{"system late", "<|user|>\nhi\n<|system|>\nbe nice\n" + eot, "Role token '<|system|>' after the conversation started"},
		{"developer then system is a preamble", "<|developer|>\nd\n<|system|>\ns\n<|user|>\nu\n" + eot, ""},
		{"result without call", "<|user|>\nhi\n<|tool_result|>\nout\n" + eot, msgHarmonyOrphanResult},
		{"two results one call", "<|user|>\nu\n<|tool_call|>\n{\"name\": \"f\"}\n<|tool_result|>\na\n<|tool_result|>\nb\n" + eot, msgHarmonyOrphanResult},
		{"two calls two results", "<|user|>\nu\n<|tool_call|>\n{\"name\": \"f\"}\n<|tool_call|>\n{\"name\": \"g\"}\n<|tool_result|>\na\n<|tool_result|>\nb\n" + eot, ""},
		{"orphan thinking end", "<|user|>\nu\n<|/thinking|>\n" + eot, msgHarmonyOrphanThink},
		{"thinking end after other block", "<|thinking|>\nt\n<|assistant|>\na\n<|/thinking|>\n" + eot, msgHarmonyOrphanThink},
		{"call id outside result", "<|user|>\n<|tool_call_id|>1\n" + eot, "Token '<|tool_call_id|>' outside a tool result header"},
		{"name not first line of result", "<|user|>\nu\n<|tool_call|>\n{\"name\": \"f\"}\n<|tool_result|>\nout <|name|>f\n" + eot,
			"Token '<|name|>' outside a tool result header"},
		{"early end", "<|user|>\nhi\n" + eot + "<|assistant|>\nyo\n" + eot, msgHarmonyEarlyEOT},
		{"call not json", "<|user|>\nu\n<|tool_call|>\n{\"name\": f}\n" + eot, msgHarmonyCallJSON},
		{"call is array", "<|user|>\nu\n<|tool_call|>\n[1]\n" + eot, msgHarmonyCallJSON},
		{"call is null", "<|user|>\nu\n<|tool_call|>\nnull\n" + eot, msgHarmonyCallJSON},
		{"call without name", "<|user|>\nu\n<|tool_call|>\n{\"id\": \"1\", \"arguments\": {}}\n" + eot, msgHarmonyCallName},
		{"call with empty name", "<|user|>\nu\n<|tool_call|>\n{\"name\": \"\"}\n" + eot, msgHarmonyCallName},
		{"pipes in code are not tokens", "<|assistant|>\nlet f = |x| x + 1; a || b; Vec<|x|> \n" + eot, "Unknown Harmony token '<|x|>'"},
		{"closure text", "<|assistant|>\nlet f = |x| x + 1; if a || b {}\n" + eot, ""},
	}
	for _, c := range cases {
		var msgs []string
		for _, is := range CheckHarmony(c.text) {
			if is.Field != "" {
				t.Errorf("%s: issue with field %q", c.name, is.Field)
			}
			msgs = append(msgs, is.Message)
		}
		if got := strings.Join(msgs, "\n"); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
