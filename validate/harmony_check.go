package validate

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Messages of CheckHarmony. The first three are those of the pipeline's own
// validate_harmony_format; the others name the order and tool-call rules.
const (
	msgHarmonyEmpty        = "Empty text"
	msgHarmonyNoEOT        = "Missing <|endoftext|> token"
	msgHarmonyNoRoles      = "No role tokens found"
	msgHarmonyLeading      = "Text before the first role token"
	msgHarmonyEarlyEOT     = "Unexpected <|endoftext|> before the end of the text"
	msgHarmonyOrphanResult = "Tool result without a preceding tool call"
	msgHarmonyOrphanThink  = "Unmatched <|/thinking|>"
	msgHarmonyCallJSON     = "Tool call is not a JSON object"
	msgHarmonyCallName     = "Tool call has no 'name'"
)

func msgHarmonyUnknown(tok string) string { return fmt.Sprintf("Unknown Harmony token '%s'", tok) }
func msgHarmonyLate(tok string) string {
	return fmt.Sprintf("Role token '%s' after the conversation started", tok)
}
func msgHarmonyHeader(tok string) string {
	return fmt.Sprintf("Token '%s' outside a tool result header", tok)
}

// harmonyToken matches anything shaped like a special token; CheckHarmony then tells known
// from unknown ones.
var harmonyToken = regexp.MustCompile(`<\|/?[A-Za-z_][A-Za-z0-9_]*\|>`)

// CheckHarmony reports whether text is well-formed Harmony as EncodeHarmony writes it:
//   - not empty, and ending in <|endoftext|> (trailing white space allowed), which appears
//     nowhere else;
//   - at least one role token (system, developer, user, assistant, tool_call, tool_result,
//     thinking), no unknown <|...|> token, nothing but white space before the first role token;
//   - a sensible order: system and developer only before the conversation (user, assistant,
//     thinking, tool calls and results) starts; every <|tool_result|> answers an earlier
//     <|tool_call|>; <|/thinking|> closes a <|thinking|>; <|tool_call_id|> and <|name|> only
//     as the first line of a tool result;
//   - every tool call is a JSON object with a non-empty string "name".
//
// Each distinct message is reported once, in the order first found. Issues carry no field.
func CheckHarmony(text string) []Issue {
	var is issues
	seen := map[string]bool{}
	add := func(msg string) {
		if !seen[msg] {
			seen[msg] = true
			is.add("", msg)
		}
	}
	if pyStrip(text) == "" {
		add(msgHarmonyEmpty)
		return is
	}
	if !strings.HasSuffix(pyStrip(text), tokEndOfText) {
		add(msgHarmonyNoEOT)
	}
	locs := harmonyToken.FindAllStringIndex(text, -1)
	firstRole := -1
	for _, l := range locs {
		if isRoleToken(text[l[0]:l[1]]) {
			firstRole = l[0]
			break
		}
	}
	if firstRole < 0 {
		add(msgHarmonyNoRoles)
		return is
	}
	if pyStrip(text[:firstRole]) != "" {
		add(msgHarmonyLeading)
	}
	started, thinking, calls := false, false, 0
	for k, l := range locs {
		tok := text[l[0]:l[1]]
		end := len(text)
		if k+1 < len(locs) {
			end = locs[k+1][0]
		}
		body := text[l[1]:end]
		switch tok {
		case tokSystem, tokDeveloper:
			if started {
				add(msgHarmonyLate(tok))
			}
		case tokUser, tokAssistant:
			started = true
		case tokThinking:
			started, thinking = true, true
		case tokThinkEnd:
			if !thinking {
				add(msgHarmonyOrphanThink)
			}
		case tokToolCall:
			started = true
			calls++
			checkToolCallBody(body, add)
		case tokToolResult:
			started = true
			if calls == 0 {
				add(msgHarmonyOrphanResult)
			} else {
				calls--
			}
		case tokToolCallID, tokName:
			if k == 0 || text[locs[k-1][0]:locs[k-1][1]] != tokToolResult || pyStrip(text[locs[k-1][1]:l[0]]) != "" {
				add(msgHarmonyHeader(tok))
			}
		case tokEndOfText:
			if k != len(locs)-1 {
				add(msgHarmonyEarlyEOT)
			}
		default:
			add(msgHarmonyUnknown(tok))
		}
		if tok != tokThinking && tok != tokToolCallID && tok != tokName {
			thinking = false
		}
	}
	return is
}

// isRoleToken reports whether tok is one of the role tokens validate_harmony_format looks for.
func isRoleToken(tok string) bool {
	switch tok {
	case tokSystem, tokDeveloper, tokUser, tokAssistant, tokToolCall, tokToolResult, tokThinking:
		return true
	}
	return false
}

// checkToolCallBody checks that the text after a <|tool_call|> token is a JSON object with a
// non-empty string "name".
func checkToolCallBody(body string, add func(string)) {
	var call map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &call); err != nil || call == nil {
		add(msgHarmonyCallJSON)
		return
	}
	if name, ok := call["name"].(string); !ok || name == "" {
		add(msgHarmonyCallName)
	}
}
