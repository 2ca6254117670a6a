package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// The Harmony special tokens the document lists, plus those its encoder writes: the thinking
// closer and the tool-result headers.
const (
	tokSystem     = "<|system|>"
	tokDeveloper  = "<|developer|>"
	tokUser       = "<|user|>"
	tokAssistant  = "<|assistant|>"
	tokToolCall   = "<|tool_call|>"
	tokToolResult = "<|tool_result|>"
	tokThinking   = "<|thinking|>"
	tokThinkEnd   = "<|/thinking|>"
	tokToolCallID = "<|tool_call_id|>"
	tokName       = "<|name|>"
	tokEndOfText  = "<|endoftext|>"
)

// ErrUnknownRole is returned by EncodeHarmony for a message whose role is not one of system,
// developer, user, assistant, tool.
var ErrUnknownRole = errors.New("unknown Harmony role")

// Message is one chat message as encode_harmony_messages takes it. It decodes from the
// document's JSON shape: {"role", "content", "thinking", "tool_calls", "tool_call_id", "name"};
// a null content decodes as "".
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content,omitempty"`
	Thinking   string     `json:"thinking,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
	Name       string     `json:"name,omitempty"`
}

// ToolCall is one tool call of an assistant message. Arguments holds the raw JSON of the
// arguments (an object, or a string holding the encoded arguments, as OpenAI-style calls carry
// them), so that key order survives decoding. It decodes from the flat shape {"id", "name",
// "arguments"} and from the OpenAI shape {"id", "type", "function": {"name", "arguments"}}.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
}

// UnmarshalJSON accepts both tool call shapes (see ToolCall); a numeric id is kept as its
// digits, as Python's f-string writes it.
func (tc *ToolCall) UnmarshalJSON(data []byte) error {
	type fn struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	var v struct {
		ID json.RawMessage `json:"id"`
		fn
		Function *fn `json:"function"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*tc = ToolCall{Name: v.Name, Arguments: v.Arguments}
	if v.Function != nil {
		tc.Name, tc.Arguments = v.Function.Name, v.Function.Arguments
	}
	id := bytes.TrimSpace(v.ID)
	switch {
	case len(id) == 0 || string(id) == "null":
	case id[0] == '"':
		return json.Unmarshal(id, &tc.ID)
	case id[0] == '-' || (id[0] >= '0' && id[0] <= '9'):
		tc.ID = string(id)
	default:
		return fmt.Errorf("tool call id must be a string or a number, got %s", id)
	}
	return nil
}

// EncodeHarmony renders messages as the document's encode_harmony_messages(messages,
// developer_instructions=...) does (its manual encoding, used when openai-harmony is absent):
//
//	<|developer|>\n{developer_instructions}\n      when given
//	<|system|>\n{content}\n  (and developer, user alike)
//	<|thinking|>\n{thinking}\n<|/thinking|>\n     assistant, when thinking is set
//	<|tool_call|>\n{"id": "..", "name": "..", "arguments": {..}}\n   per tool call
//	<|assistant|>\n{content}\n                      when content is set
//	<|tool_result|>\n<|tool_call_id|>{id}\n{content}\n   tool (or <|name|>{name}, or neither)
//	<|endoftext|>
//
// Arguments given as an object are written as Python's json.dumps writes them (", " and ": ",
// ensure_ascii, key order kept); given as a string, verbatim; absent or null, as {}. Where the
// Python f-string would write an id or name containing a quote, backslash or control
// character unescaped (and so produce invalid JSON), EncodeHarmony escapes it. A message with
// an unknown role is an error (ErrUnknownRole) rather than silently dropped.
func EncodeHarmony(messages []Message, developerInstructions string) (string, error) {
	var b strings.Builder
	block := func(tok, body string) {
		b.WriteString(tok)
		b.WriteByte('\n')
		b.WriteString(body)
		b.WriteByte('\n')
	}
	if developerInstructions != "" {
		block(tokDeveloper, developerInstructions)
	}
	for i, m := range messages {
		switch m.Role {
		case "system":
			block(tokSystem, m.Content)
		case "developer":
			block(tokDeveloper, m.Content)
		case "user":
			block(tokUser, m.Content)
		case "assistant":
			if m.Thinking != "" {
				block(tokThinking, m.Thinking+"\n"+tokThinkEnd)
			}
			for j, tc := range m.ToolCalls {
				args, err := toolArguments(tc.Arguments)
				if err != nil {
					return "", fmt.Errorf("message %d: tool call %d: %w", i, j, err)
				}
				block(tokToolCall, `{"id": `+jsonMinimal(tc.ID)+`, "name": `+jsonMinimal(tc.Name)+`, "arguments": `+args+`}`)
			}
			if m.Content != "" {
				block(tokAssistant, m.Content)
			}
		case "tool":
			switch {
			case m.ToolCallID != "":
				block(tokToolResult, tokToolCallID+m.ToolCallID+"\n"+m.Content)
			case m.Name != "":
				block(tokToolResult, tokName+m.Name+"\n"+m.Content)
			default:
				block(tokToolResult, m.Content)
			}
		default:
			return "", fmt.Errorf("%w %q in message %d", ErrUnknownRole, m.Role, i)
		}
	}
	b.WriteString(tokEndOfText)
	return b.String(), nil
}

// toolArguments renders a tool call's raw arguments as the encoder writes them.
func toolArguments(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("arguments: %w", err)
		}
		return s, nil
	}
	s, err := pyDumps(raw)
	if err != nil {
		return "", fmt.Errorf("arguments: %w", err)
	}
	return s, nil
}
