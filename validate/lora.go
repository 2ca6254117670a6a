package validate

import (
	"fmt"
	"strings"
)

// CheckLoRA checks a decoded LoRA training config (the YAML of configs/lang_rust.yaml or
// core_agent.yaml, decoded into generic maps by the caller) for the document's "common mistake"
// on Mixture-of-Experts models (section 6): target_modules naming the dense FFN projections
// gate_proj/up_proj without gate_up_proj, which silently miss the fused expert layers. The
// message says what to use instead (SuggestLoRATargets).
//
// target_modules is looked up under "lora" and, failing that, at the top level (the document
// shows both). A module matches a name when equal to it or ending in "." + name, as PEFT
// matches. A string target_modules (PEFT's regex or "all-linear" form) is not checked.
func CheckLoRA(cfg map[string]any) []Issue {
	var is issues
	field, v, ok := "lora.target_modules", any(nil), false
	if l, has := cfg["lora"]; has {
		lm, isMap := l.(map[string]any)
		if !isMap {
			is.add("lora", msgMustBeObject("lora"))
			return is
		}
		v, ok = lm["target_modules"]
	}
	if !ok {
		if v, ok = cfg["target_modules"]; ok {
			field = "target_modules"
		}
	}
	if !ok {
		is.add(field, msgMissing("target_modules"))
		return is
	}
	if _, isString := v.(string); isString {
		return is
	}
	list, ok := asList(v)
	if !ok {
		is.add(field, msgMustBeList("target_modules"))
		return is
	}
	mods := make([]string, 0, len(list))
	for _, m := range list {
		s, ok := m.(string)
		if !ok {
			is.add(field, msgMustBeStrings("target_modules"))
			return is
		}
		mods = append(mods, s)
	}
	var dense []string
	fused := false
	for _, m := range mods {
		switch {
		case moduleIs(m, "gate_up_proj"):
			fused = true
		case moduleIs(m, "gate_proj"), moduleIs(m, "up_proj"):
			dense = append(dense, m)
		}
	}
	if len(dense) > 0 && !fused {
		is.add(field, fmt.Sprintf(
			"Target modules %s without gate_up_proj silently miss MoE expert layers; use [%s]",
			strings.Join(dense, ", "), strings.Join(SuggestLoRATargets(mods), ", ")))
	}
	return is
}

// SuggestLoRATargets returns mods corrected for MoE expert layers as the document's "Correct
// Target Modules" list has them: the first gate_proj or up_proj becomes gate_up_proj, other
// gate_proj/up_proj entries are dropped, gate_up_proj and down_proj are appended when missing,
// and every other module keeps its place.
func SuggestLoRATargets(mods []string) []string {
	out := make([]string, 0, len(mods)+1)
	fused, down := false, false
	for _, m := range mods {
		switch {
		case moduleIs(m, "gate_proj"), moduleIs(m, "up_proj"), moduleIs(m, "gate_up_proj"):
			if !fused {
				out = append(out, "gate_up_proj")
				fused = true
			}
		case moduleIs(m, "down_proj"):
			if !down {
				out = append(out, m)
				down = true
			}
		default:
			out = append(out, m)
		}
	}
	if !fused {
		out = append(out, "gate_up_proj")
	}
	if !down {
		out = append(out, "down_proj")
	}
	return out
}

// moduleIs reports whether the target module m names the module name, as PEFT matches it.
func moduleIs(m, name string) bool { return m == name || strings.HasSuffix(m, "."+name) }
