package validate

import "strconv"

// checkChat applies the SFT rules (used for LoRA too, whose document section gives the same two
// shapes): a "messages" list of {role, content} with roles system/user/assistant, or else a
// non-empty "text" string, or else "Must have 'messages' or 'text' field". As in the document's
// validator, "messages" wins when both are present. A null field counts as absent here, since
// Hugging Face datasets fill a column missing from a row with None.
func checkChat(is *issues, rec map[string]any) {
	if v, ok := rec["messages"]; ok && v != nil {
		checkMessages(is, v)
		return
	}
	if v, ok := rec["text"]; ok && v != nil {
		s, ok := v.(string)
		switch {
		case !ok:
			is.add("text", msgMustBeString("text"))
		case s == "":
			is.add("text", msgEmptyList("text"))
		}
		return
	}
	is.add("", msgMessagesOrText)
}

// checkMessages checks a "messages" value: a non-empty list of objects, each with a string role
// among those allowedRole accepts and a string content.
func checkMessages(is *issues, v any) {
	msgs, ok := asList(v)
	if !ok {
		is.add("messages", msgMustBeList("messages"))
		return
	}
	if len(msgs) == 0 {
		is.add("messages", msgEmptyList("messages"))
		return
	}
	for i, m := range msgs {
		path := "messages[" + strconv.Itoa(i) + "]"
		msg, ok := m.(map[string]any)
		if !ok {
			is.add(path, "Field 'messages' must be a list of objects")
			continue
		}
		if role, ok := msg["role"]; !ok {
			is.add(path+".role", msgMissing("role"))
		} else if r, ok := role.(string); !ok {
			is.add(path+".role", msgMustBeString("role"))
		} else if !allowedRole(r) {
			is.add(path+".role", msgInvalidRole(r))
		}
		if content, ok := msg["content"]; !ok {
			is.add(path+".content", msgMissing("content"))
		} else if _, ok := content.(string); !ok {
			is.add(path+".content", msgMustBeString("content"))
		}
	}
}

// allowedRole reports whether r is one of the roles the document's validate_sft_example
// allows: system, user, assistant.
func allowedRole(r string) bool {
	switch r {
	case "system", "user", "assistant":
		return true
	}
	return false
}

// checkPreference applies the DPO rules (document: validate_dpo_example): prompt, chosen and
// rejected present, strings, not empty after stripping, and chosen != rejected. For IPO
// (harmony=true) chosen and rejected must also be well-formed Harmony text; the prompt is the
// plain task, as in the document's example.
func checkPreference(is *issues, rec map[string]any, harmony bool) {
	requireString(is, rec, "prompt", true)
	chosen, okC := requireString(is, rec, "chosen", true)
	rejected, okR := requireString(is, rec, "rejected", true)
	if okC && okR && chosen == rejected {
		is.add("", msgResponsesIdentity)
	}
	if !harmony {
		return
	}
	if okC {
		is.addAll("chosen", CheckHarmony(chosen))
	}
	if okR {
		is.addAll("rejected", CheckHarmony(rejected))
	}
}
