package validate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// The golden file holds, per case, the messages, the developer instructions and the text the
// pipeline's Python encode_harmony_messages (its manual encoding) returned for them. The first
// case is the document's own example (section 5).
func TestEncodeHarmony_Golden(t *testing.T) {
	f, err := os.Open("testdata/harmony_golden.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// What CheckHarmony says of each encoded text: the encoder does not police order.
	checks := map[string]string{
		"document_agent_example":                       "[]",
		"document_sft_example_no_developer":            "[]",
		"openai_shape_string_arguments_and_named_tool": "[Tool result without a preceding tool call Role token '<|developer|>' after the conversation started]",
		"python_json_dumps_arguments":                  "[]",
		"empty_messages":                               "[No role tokens found]",
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var c struct {
			Name      string
			Messages  []Message
			Developer *string
			Want      string
		}
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		n++
		dev := ""
		if c.Developer != nil {
			dev = *c.Developer
		}
		got, err := EncodeHarmony(c.Messages, dev)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if got != c.Want {
			t.Errorf("%s:\n got %q\nwant %q", c.Name, got, c.Want)
		}
		if got, want := fmt.Sprint(CheckHarmony(got)), checks[c.Name]; got != want {
			t.Errorf("%s: CheckHarmony(encoded) = %s, want %s", c.Name, got, want)
		}
	}
	if n < 5 {
		t.Fatalf("read %d golden cases, want at least 5", n)
	}
}

func TestEncodeHarmony_DocumentExample(t *testing.T) {
	msgs := []Message{
		{Role: "user", Content: "Fix the failing test in src/parser.rs"},
		{Role: "assistant", Thinking: "Let me check the test output...",
			ToolCalls: []ToolCall{{ID: "1", Name: "run_tests", Arguments: json.RawMessage(`{"cmd": "cargo test"}`)}}},
		{Role: "tool", ToolCallID: "1", Content: "FAILED: test_parse_expr"},
		{Role: "assistant", Content: "The issue is..."},
	}
	got, err := EncodeHarmony(msgs, "You are a Rust coding agent.")
	if err != nil {
		t.Fatal(err)
	}
	want := "<|developer|>\nYou are a Rust coding agent.\n" +
		"<|user|>\nFix the failing test in src/parser.rs\n" +
		"<|thinking|>\nLet me check the test output...\n<|/thinking|>\n" +
		"<|tool_call|>\n{\"id\": \"1\", \"name\": \"run_tests\", \"arguments\": {\"cmd\": \"cargo test\"}}\n" +
		"<|tool_result|>\n<|tool_call_id|>1\nFAILED: test_parse_expr\n" +
		"<|assistant|>\nThe issue is...\n" +
		"<|endoftext|>"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestEncodeHarmony_Errors(t *testing.T) {
	_, err := EncodeHarmony([]Message{{Role: "robot", Content: "x"}}, "")
	if !errors.Is(err, ErrUnknownRole) {
		t.Errorf("unknown role: err = %v, want ErrUnknownRole", err)
	}
	_, err = EncodeHarmony([]Message{{Role: "assistant", ToolCalls: []ToolCall{{Name: "f", Arguments: json.RawMessage(`{"a":`)}}}}, "")
	if err == nil || !strings.Contains(err.Error(), "tool call 0") {
		t.Errorf("bad arguments: err = %v", err)
	}
}

func TestEncodeHarmony_EscapesUnsafeIDs(t *testing.T) {
	got, err := EncodeHarmony([]Message{{Role: "assistant", ToolCalls: []ToolCall{{ID: `a"b`, Name: "f\n"}}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "<|tool_call|>\n{\"id\": \"a\\\"b\", \"name\": \"f\\u000a\", \"arguments\": {}}\n<|endoftext|>"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if is := CheckHarmony(got); len(is) != 0 {
		t.Errorf("CheckHarmony = %v", is)
	}
}

func TestToolCall_UnmarshalShapes(t *testing.T) {
	var flat, nested ToolCall
	if err := json.Unmarshal([]byte(`{"id":"1","name":"f","arguments":{"b":1,"a":2}}`), &flat); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(`{"id":"1","type":"function","function":{"name":"f","arguments":"{\"b\":1}"}}`), &nested); err != nil {
		t.Fatal(err)
	}
	if flat.ID != "1" || flat.Name != "f" || string(flat.Arguments) != `{"b":1,"a":2}` {
		t.Errorf("flat = %+v", flat)
	}
	if nested.ID != "1" || nested.Name != "f" || string(nested.Arguments) != `"{\"b\":1}"` {
		t.Errorf("nested = %+v", nested)
	}
}

func TestToolCall_UnmarshalIDs(t *testing.T) {
	for in, want := range map[string]string{`{"id": 7}`: "7", `{"id": null}`: "", `{}`: "", `{"id": "a\u0062"}`: "ab"} {
		var tc ToolCall
		if err := json.Unmarshal([]byte(in), &tc); err != nil || tc.ID != want {
			t.Errorf("%s: id %q, err %v; want %q", in, tc.ID, err, want)
		}
	}
	var tc ToolCall
	if err := json.Unmarshal([]byte(`{"id": [1]}`), &tc); err == nil {
		t.Error("array id: no error")
	}
}
