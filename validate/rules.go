package validate

import (
	"regexp"
	"slices"
	"strings"
)

// Rule is one rule that Check applies, as the rule table lists it for people: the `tokenmill
// validate --rules` listing and docs/validation-rules.md are printed from Rules. The tests hold
// the table to the code both ways: every rule's Example breaks it (Check reports its message
// on its field), and every issue Check reports matches a rule of its stage (MatchRule).
type Rule struct {
	// ID names the rule, unique within a stage; rules shared by stages keep their ID.
	ID string
	// Stages are the stages whose records the rule applies to.
	Stages []Stage
	// Field is the Issue.Field of the rule's issues: a path ("messages[<i>].role", where <i>
	// stands for an index), several fields separated by ", " when the rule applies to each,
	// or "" for the record as a whole.
	Field string
	// Check says what is checked, in a sentence.
	Check string
	// Message is the issue's message; <x> (lower-case letters between angle brackets) stands
	// for a value filled in, such as a field name or a token id.
	Message string
	// Source says whose words Message is: "document" for the data formats document's,
	// "pipeline" for the training pipeline's validate_harmony_format, "" for tokenmill's own
	// (in the same style, where the document has no words for the rule).
	Source string
	// Example is a record, one JSON line, that breaks the rule (it may break others too).
	Example string
	// SeqLen is the sequence length the Example is checked with (Options.SeqLen).
	SeqLen int
}

// StageInfo describes one stage as the data formats document's overview table does.
type StageInfo struct {
	Stage Stage
	Name  string // the document's name of the stage
	Dir   string // where its data lives under data/
	// Fields are the record's key fields.
	Fields string
}

// StageInfos returns the document's overview of the stages, in its order.
func StageInfos() []StageInfo {
	return []StageInfo{
		{StagePretrain, "Pretraining", "data/packed/", "input_ids"},
		{StageSFT, "SFT", "data/sft/", "messages or text"},
		{StageDPO, "DPO", "data/dpo/", "prompt, chosen, rejected"},
		{StageLoRA, "LoRA", "data/domain/", "text or messages"},
		{StageRustLang, "Rust Lang Adapter", "data/rust/lang_rust/", "text (Harmony)"},
		{StageRustAgent, "Rust Agent Trajectories", "data/rust/core_agent/", "text (Harmony, with tool calls)"},
		{StageMutations, "Rust Mutations", "data/rust/mutations/", "buggy_code, error_message, fixed_code"},
		{StageIPO, "Rust IPO Preferences", "data/rust/ipo/", "prompt, chosen, rejected (Harmony)"},
		{StageGRPO, "Rust GRPO Tasks", "data/rust/grpo/", "description, starter_code, tests"},
		{StageEval, "Rust Eval Tasks", "data/rust/eval/", "description, tests"},
	}
}

// Rules returns the rule table: the rules of every stage, each stage's in the order Check
// applies them (the record rules first).
func Rules() []Rule {
	var rs []Rule
	rs = append(rs, recordRules()...)
	rs = append(rs, pretrainRules()...)
	rs = append(rs, chatRules()...)
	rs = append(rs, preferenceRules()...)
	rs = append(rs, harmonyRules([]Stage{StageIPO}, "chosen, rejected", func(text string) string {
		return `{"prompt": "p", "chosen": ` + text + `, "rejected": "<|user|>\nhi\n<|assistant|>\nno\n<|endoftext|>"}`
	})...)
	rs = append(rs, stringRules("text", []Stage{StageRustLang, StageRustAgent}, "text", `{"content": "x"}`, `{"text": 1}`, `{"text": " \n"}`)...)
	rs = append(rs, harmonyRules([]Stage{StageRustLang, StageRustAgent}, "text", func(text string) string {
		return `{"text": ` + text + `}`
	})...)
	rs = append(rs, Rule{ID: "agent.tool_calls", Stages: []Stage{StageRustAgent}, Field: "text",
		Check:   "the trajectory holds at least one <|tool_call|>",
		Message: msgNoToolCalls, Example: `{"text": "<|user|>\nhi\n<|assistant|>\nhello\n<|endoftext|>"}`})
	rs = append(rs, mutationRules()...)
	rs = append(rs, taskRules(StageGRPO, "description, starter_code, tests")...)
	rs = append(rs, taskRules(StageEval, "description, tests")...)
	return rs
}

// StageRules returns the rules of one stage, in table order.
func StageRules(stage Stage) []Rule {
	var out []Rule
	for _, r := range Rules() {
		if slices.Contains(r.Stages, stage) {
			out = append(out, r)
		}
	}
	return out
}

// MatchRule returns the rule of stage that an issue of Check breaks: the one whose Message
// and Field patterns match the issue's. ok is false when no rule of the stage matches.
func MatchRule(stage Stage, is Issue) (r Rule, ok bool) {
	for _, r := range StageRules(stage) {
		if matchMessage(r.Message, is.Message) && matchField(r.Field, is.Field) {
			return r, true
		}
	}
	return Rule{}, false
}

// placeholder matches a value placeholder of a rule's Message or Field: <f>, <i>, <tok>.
var placeholder = regexp.MustCompile(`<[a-z]+>`)

// pattern turns a template with placeholders into an anchored regular expression in which
// each placeholder matches one or more characters.
func pattern(template string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, loc := range placeholder.FindAllStringIndex(template, -1) {
		b.WriteString(regexp.QuoteMeta(template[last:loc[0]]))
		b.WriteString(".+")
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(template[last:]))
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func matchMessage(template, msg string) bool { return pattern(template).MatchString(msg) }

// matchField reports whether field is one of the comma-separated alternatives of a rule's
// Field.
func matchField(template, field string) bool {
	if template == "" {
		return field == ""
	}
	for _, alt := range strings.Split(template, ", ") {
		if pattern(alt).MatchString(field) {
			return true
		}
	}
	return false
}

// recordRules apply to the records of every stage.
func recordRules() []Rule {
	all := Stages()
	return []Rule{
		{ID: "record.json", Stages: all, Check: "the line (or row) is JSON, within the record size limit",
			Message: MsgMalformed, Example: `{"text": "unterminated`},
		{ID: "record.object", Stages: all, Check: "the record is a JSON object",
			Message: msgRecordNotObject, Example: `["a", "list"]`},
	}
}

func pretrainRules() []Rule {
	st := []Stage{StagePretrain}
	return []Rule{
		{ID: "input_ids.present", Stages: st, Field: "input_ids", Check: "input_ids is present",
			Message: msgMissing("input_ids"), Source: "document", Example: `{"ids": [1, 2]}`},
		{ID: "input_ids.list", Stages: st, Field: "input_ids", Check: "input_ids is a list",
			Message: msgMustBeList("input_ids"), Source: "document", Example: `{"input_ids": 12}`},
		{ID: "input_ids.nonempty", Stages: st, Field: "input_ids", Check: "input_ids holds at least one id",
			Message: msgEmptyList("input_ids"), Example: `{"input_ids": []}`},
		{ID: "input_ids.integers", Stages: st, Field: "input_ids[<i>]",
			Check:   "every id is an integer (the first that is not is reported)",
			Message: msgMustBeIntegers("input_ids"), Example: `{"input_ids": [1, 2.5]}`},
		{ID: "input_ids.range", Stages: st, Field: "input_ids[<i>]",
			Check: "every id lies in [0, vocabulary size) of the --tokenizer given (without one, a negative id " +
				"is out of range); the first id out of range is reported",
			Message: "Token ID <n> out of vocabulary range", Source: "document", Example: `{"input_ids": [1, -1]}`},
		{ID: "input_ids.length", Stages: st, Field: "input_ids",
			Check: "the sequence has the length that its curriculum directory names (train_<n>, val_<n>, " +
				"or the .npy file of that name)",
			Message: "Sequence length <n> does not match expected <m>", Example: `{"input_ids": [1, 2, 3]}`, SeqLen: 4},
	}
}

func chatRules() []Rule {
	st := []Stage{StageSFT, StageLoRA}
	return []Rule{
		{ID: "chat.shape", Stages: st,
			Check:   "the record has a messages or a text field that is not null (messages is checked when it has both)",
			Message: msgMessagesOrText, Source: "document", Example: `{"prompt": "hi"}`},
		{ID: "chat.messages.list", Stages: st, Field: "messages", Check: "messages is a list",
			Message: msgMustBeList("messages"), Source: "document", Example: `{"messages": "hi"}`},
		{ID: "chat.messages.nonempty", Stages: st, Field: "messages", Check: "messages holds at least one message",
			Message: msgEmptyList("messages"), Example: `{"messages": []}`},
		{ID: "chat.messages.objects", Stages: st, Field: "messages[<i>]", Check: "every message is an object",
			Message: "Field 'messages' must be a list of objects", Example: `{"messages": ["hi"]}`},
		{ID: "chat.role.present", Stages: st, Field: "messages[<i>].role", Check: "every message has a role",
			Message: msgMissing("role"), Source: "document", Example: `{"messages": [{"content": "hi"}]}`},
		{ID: "chat.role.string", Stages: st, Field: "messages[<i>].role", Check: "the role is a string",
			Message: msgMustBeString("role"), Example: `{"messages": [{"role": 1, "content": "hi"}]}`},
		{ID: "chat.role.allowed", Stages: st, Field: "messages[<i>].role",
			Check:   "the role is system, user or assistant, as the document's validate_sft_example allows",
			Message: "Invalid role '<r>' (must be one of: system, user, assistant)",
			Example: `{"messages": [{"role": "tool", "content": "hi"}]}`},
		{ID: "chat.content.present", Stages: st, Field: "messages[<i>].content", Check: "every message has a content",
			Message: msgMissing("content"), Source: "document", Example: `{"messages": [{"role": "user"}]}`},
		{ID: "chat.content.string", Stages: st, Field: "messages[<i>].content", Check: "the content is a string",
			Message: msgMustBeString("content"), Example: `{"messages": [{"role": "user", "content": ["hi"]}]}`},
		{ID: "chat.text.string", Stages: st, Field: "text", Check: "text (when there are no messages) is a string",
			Message: msgMustBeString("text"), Example: `{"text": 12}`},
		{ID: "chat.text.nonempty", Stages: st, Field: "text", Check: "text is not the empty string",
			Message: msgEmptyList("text"), Example: `{"text": ""}`},
	}
}

// stringRules are the rules of required string fields (requireString with nonEmpty): present,
// a string, not empty after stripping white space as Python's str.strip does. The examples
// break each rule for the first field.
func stringRules(group string, st []Stage, fields, missing, notString, blank string) []Rule {
	return []Rule{
		{ID: group + ".present", Stages: st, Field: fields, Check: "each field is present",
			Message: "Missing required field '<f>'", Source: "document", Example: missing},
		{ID: group + ".string", Stages: st, Field: fields, Check: "each field is a string",
			Message: "Field '<f>' must be a string", Example: notString},
		{ID: group + ".nonempty", Stages: st, Field: fields,
			Check:   "each field holds more than white space (stripped as Python's str.strip does)",
			Message: "Field '<f>' is empty after stripping", Source: "document", Example: blank},
	}
}

func preferenceRules() []Rule {
	st := []Stage{StageDPO, StageIPO}
	rs := stringRules("preference", st, "prompt, chosen, rejected",
		`{"chosen": "c", "rejected": "r"}`, `{"prompt": 1, "chosen": "c", "rejected": "r"}`,
		`{"prompt": "  ", "chosen": "c", "rejected": "r"}`)
	return append(rs, Rule{ID: "preference.distinct", Stages: st, Check: "chosen and rejected differ",
		Message: msgResponsesIdentity, Source: "document",
		Example: `{"prompt": "p", "chosen": "<|user|>\nhi\n<|endoftext|>", "rejected": "<|user|>\nhi\n<|endoftext|>"}`})
}

// harmonyRules are the rules of CheckHarmony on the fields of stages; wrap makes a record of
// one Harmony text (a JSON string).
func harmonyRules(st []Stage, field string, wrap func(text string) string) []Rule {
	r := func(id, check, msg, source, text string) Rule {
		return Rule{ID: "harmony." + id, Stages: st, Field: field, Check: check, Message: msg, Source: source, Example: wrap(text)}
	}
	return []Rule{
		r("endoftext", "the text ends with <|endoftext|> (white space may follow)", msgHarmonyNoEOT, "pipeline",
			`"<|user|>\nhi\n<|assistant|>\nhello"`),
		r("roles", "the text holds a role token: system, developer, user, assistant, thinking, tool_call or tool_result",
			msgHarmonyNoRoles, "pipeline", `"hello<|endoftext|>"`),
		r("leading", "nothing but white space comes before the first role token", msgHarmonyLeading, "",
			`"hello <|user|>\nhi\n<|endoftext|>"`),
		r("known", "every token shaped <|...|> is a Harmony token", "Unknown Harmony token '<tok>'", "",
			`"<|user|>\nhi <|foo|>\n<|endoftext|>"`),
		r("order", "system and developer come before the conversation (user, assistant, thinking, tool calls) starts",
			"Role token '<tok>' after the conversation started", "", `"<|user|>\nhi\n<|system|>\nbe brief\n<|endoftext|>"`),
		r("tool_result", "every <|tool_result|> answers an earlier <|tool_call|>", msgHarmonyOrphanResult, "",
			`"<|user|>\nhi\n<|tool_result|>\n42\n<|endoftext|>"`),
		r("thinking", "<|/thinking|> closes a <|thinking|>", msgHarmonyOrphanThink, "",
			`"<|user|>\nhi\n<|/thinking|>\n<|endoftext|>"`),
		r("result_header", "<|tool_call_id|> and <|name|> appear only as the first line of a tool result",
			"Token '<tok>' outside a tool result header", "", `"<|user|>\n<|name|>f\n<|endoftext|>"`),
		r("endoftext_once", "<|endoftext|> appears only at the end", msgHarmonyEarlyEOT, "",
			`"<|user|>\nhi<|endoftext|>\n<|assistant|>\nhello\n<|endoftext|>"`),
		r("tool_call_json", "every tool call is a JSON object", msgHarmonyCallJSON, "",
			`"<|user|>\nhi\n<|tool_call|>\nnot json\n<|endoftext|>"`),
		r("tool_call_name", "every tool call has a non-empty string name", msgHarmonyCallName, "",
			`"<|user|>\nhi\n<|tool_call|>\n{\"arguments\": {}}\n<|endoftext|>"`),
	}
}

func mutationRules() []Rule {
	st := []Stage{StageMutations}
	rs := stringRules("mutation", st, "buggy_code, error_message, fixed_code",
		`{"error_message": "e", "fixed_code": "f"}`, `{"buggy_code": 1, "error_message": "e", "fixed_code": "f"}`,
		`{"buggy_code": "\n", "error_message": "e", "fixed_code": "f"}`)
	return append(rs,
		Rule{ID: "mutation.optional", Stages: st, Field: "repo, file", Check: "repo and file, when present and not null, are strings",
			Message: "Field '<f>' must be a string",
			Example: `{"buggy_code": "a", "error_message": "e", "fixed_code": "b", "repo": 7}`},
		Rule{ID: "mutation.distinct", Stages: st,
			Check:   "the buggy and fixed code differ once surrounding white space is stripped",
			Message: msgCodeIdentical, Example: `{"buggy_code": "fn f() {}", "error_message": "e", "fixed_code": " fn f() {}\n"}`})
}

// taskRules are the rules of a GRPO or eval task with the given required fields.
func taskRules(stage Stage, fields string) []Rule {
	st := []Stage{stage}
	task := func(tests string) string {
		if stage == StageGRPO {
			return `{"description": "d", "starter_code": "fn f() {}", "tests": ` + tests + `}`
		}
		return `{"description": "d", "tests": ` + tests + `}`
	}
	rs := stringRules("task", st, fields, `{"tests": "#[test]\nfn t() {}"}`,
		`{"description": 1, "starter_code": "s", "tests": "#[test]\nfn t() {}"}`,
		`{"description": " ", "starter_code": "s", "tests": "#[test]\nfn t() {}"}`)
	return append(rs,
		Rule{ID: "tests.terminated", Stages: st, Field: "tests", Check: "every string, char literal and block comment of tests is closed",
			Message: msgTestsUnterminated, Example: task(`"#[test]\nfn t() { let s = \"open; }"`)},
		Rule{ID: "tests.balanced", Stages: st, Field: "tests", Check: "the (), [] and {} of tests nest properly",
			Message: msgTestsUnbalanced, Example: task(`"#[test]\nfn t() { assert!(true); "`)},
		Rule{ID: "tests.test_fn", Stages: st, Field: "tests", Check: "tests holds at least one #[test] function",
			Message: msgNoTestFn, Example: task(`"fn helper() {}"`)},
		Rule{ID: "tests.attribute", Stages: st, Field: "tests", Check: "every #[test] attribute is followed by a function",
			Message: msgTestAttrNoFn, Example: task(`"#[test]\nfn t() {}\n#[test]\nstruct S;"`)})
}

// LoRAConfigRules returns the rules of CheckLoRA (`tokenmill check-lora`) on a LoRA training
// config; their Stages are empty and their Examples are configs as JSON.
func LoRAConfigRules() []Rule {
	return []Rule{
		{ID: "lora.section", Field: "lora", Check: "lora, when present, is a mapping",
			Message: msgMustBeObject("lora"), Example: `{"lora": ["q_proj"]}`},
		{ID: "lora.target_modules.present", Field: "lora.target_modules, target_modules",
			Check:   "target_modules is set, under lora or at the top level",
			Message: msgMissing("target_modules"), Source: "document", Example: `{"lora": {"r": 16}}`},
		{ID: "lora.target_modules.list", Field: "lora.target_modules, target_modules",
			Check:   "target_modules is a list (or a string, PEFT's regex or all-linear, which is not checked)",
			Message: msgMustBeList("target_modules"), Source: "document", Example: `{"lora": {"target_modules": 3}}`},
		{ID: "lora.target_modules.strings", Field: "lora.target_modules, target_modules",
			Check:   "every target module is a string",
			Message: msgMustBeStrings("target_modules"), Example: `{"lora": {"target_modules": ["q_proj", 1]}}`},
		{ID: "lora.moe_experts", Field: "lora.target_modules, target_modules",
			Check: "gate_proj or up_proj come with gate_up_proj, without which a Mixture-of-Experts model's " +
				"fused expert layers are silently left out (the document's section 6)",
			Message: "Target modules <m> without gate_up_proj silently miss MoE expert layers; use [<m>]",
			Example: `{"lora": {"target_modules": ["q_proj", "gate_proj", "up_proj", "down_proj"]}}`},
	}
}
