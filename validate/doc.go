// Package validate holds the per-stage record rules of the data formats document
// (formats/DATA_FORMATS.md), with its error messages, as pure functions: no file I/O, no
// global mutable state, safe for concurrent use (a Report is the one stateful value and is
// owned by one goroutine). Readers in formats/ decode records; the CLI and the shard pipeline
// feed them here.
//
// # Records
//
// A record is the map[string]any that encoding/json produces with Decoder.UseNumber (numbers
// as json.Number), or a similar generic value from a columnar reader: integers of any Go type,
// integral float64, []any or typed slices ([]int64, []int32, []uint16, ...) for token ids,
// []any or []map[string]any for messages. A JSON null counts as present with the wrong type,
// except in the SFT/LoRA "messages or text" choice, where it counts as absent.
//
// # Stages and rules
//
// Rules is the table of every rule (id, stages, field, what it checks, message, a record that
// breaks it), from which `tokenmill validate --rules` and docs/validation-rules.md are printed;
// its tests hold it to Check. In short:
//
//	pretrain    input_ids: a non-empty list of integers in [0, VocabSize), of length SeqLen
//	sft, lora   messages: list of {role in system/user/assistant, content: string}, or text
//	dpo         prompt, chosen, rejected: non-empty strings; chosen != rejected
//	ipo         as dpo, and chosen/rejected well-formed Harmony (CheckHarmony)
//	rust-lang   text: non-empty, well-formed Harmony
//	rust-agent  as rust-lang, with at least one <|tool_call|>
//	mutations   buggy_code, error_message, fixed_code: non-empty; repo, file: strings if set;
//	            buggy and fixed code differ (ignoring surrounding white space)
//	grpo        description, starter_code, tests: non-empty; tests look like #[test] functions
//	eval        description, tests: as grpo
//
// # Messages
//
// Quoted verbatim from the document: "Missing required field '<f>'", "Field '<f>' must be a
// list", "Field '<f>' is empty after stripping", "Token ID <n> out of vocabulary range",
// "Responses are identical", "Must have 'messages' or 'text' field"; from the pipeline's
// validate_harmony_format: "Empty text", "Missing <|endoftext|> token", "No role tokens found".
// The document gives no words for the others, which are:
//
//	Record must be an object
//	Field '<f>' must be a string | an object | a list of integers | a list of strings
//	Field '<f>' must be a list of objects             (messages)
//	Field '<f>' is empty                               (empty list, or text == "")
//	Invalid role '<r>' (must be one of: system, user, assistant)
//	Sequence length <n> does not match expected <m>
//	Buggy and fixed code are identical
//	Agent trajectory has no tool calls
//	Field 'tests' has no #[test] function
//	Field 'tests' has a #[test] attribute not followed by a function
//	Field 'tests' has unbalanced delimiters
//	Field 'tests' has an unterminated string or comment
//	Text before the first role token
//	Unknown Harmony token '<|x|>'
//	Role token '<|system|>' after the conversation started
//	Tool result without a preceding tool call
//	Unmatched <|/thinking|>
//	Token '<|tool_call_id|>' outside a tool result header
//	Unexpected <|endoftext|> before the end of the text
//	Tool call is not a JSON object
//	Tool call has no 'name'
//	Target modules <m...> without gate_up_proj silently miss MoE expert layers; use [<m...>]
//	Unknown stage '<s>'
//
// A message never holds a path or index (those go in Issue.Field, e.g. "messages[2].role" or
// "input_ids[17]"), so counting by message counts rules. Pretraining reports only the first bad
// token id of a sequence. Python's str.strip is followed for "empty after stripping".
//
// # Harmony
//
// EncodeHarmony reproduces encode_harmony_messages (the pipeline's manual encoding, byte for
// byte, including its <|/thinking|> closer and <|tool_call_id|>/<|name|> result headers);
// CheckHarmony checks a text for the shape that encoder writes. CheckLoRA flags LoRA
// target_modules that miss MoE expert layers in a config the caller decoded from YAML.
package validate
