package validate

import (
	"reflect"
	"testing"
)

func TestCheckLoRA_TargetModules(t *testing.T) {
	cases := []struct {
		name, cfg string
		want      []string
	}{
		{"document correct", `{"lora": {"target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"]}}`, nil},
		{"document wrong", `{"target_modules": ["gate_proj", "up_proj", "down_proj"]}`, []string{
			"target_modules: Target modules gate_proj, up_proj without gate_up_proj silently miss MoE expert layers; use [gate_up_proj, down_proj]"}},
		{"attention plus dense", `{"lora": {"r": 16, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]}}`, []string{
			"lora.target_modules: Target modules gate_proj, up_proj without gate_up_proj silently miss MoE expert layers; use [q_proj, k_proj, v_proj, o_proj, gate_up_proj, down_proj]"}},
		{"qualified names", `{"lora": {"target_modules": ["q_proj", "mlp.up_proj"]}}`, []string{
			"lora.target_modules: Target modules mlp.up_proj without gate_up_proj silently miss MoE expert layers; use [q_proj, gate_up_proj, down_proj]"}},
		{"both dense and fused", `{"lora": {"target_modules": ["gate_proj", "gate_up_proj"]}}`, nil},
		{"attention only", `{"lora": {"target_modules": ["q_proj", "v_proj"]}}`, nil},
		{"string form not checked", `{"lora": {"target_modules": "all-linear"}}`, nil},
		{"missing", `{"lora": {"r": 8}}`, []string{"lora.target_modules: Missing required field 'target_modules'"}},
		{"missing everywhere", `{"model": "gpt-oss-20b"}`, []string{"lora.target_modules: Missing required field 'target_modules'"}},
		{"lora not a map", `{"lora": true}`, []string{"lora: Field 'lora' must be an object"}},
		{"not a list", `{"target_modules": 3}`, []string{"target_modules: Field 'target_modules' must be a list"}},
		{"not strings", `{"target_modules": ["q_proj", 3]}`, []string{"target_modules: Field 'target_modules' must be a list of strings"}},
	}
	for _, c := range cases {
		var got []string
		for _, is := range CheckLoRA(decode(t, c.cfg)) {
			got = append(got, is.String())
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestSuggestLoRATargets_Replacements(t *testing.T) {
	cases := []struct{ in, want []string }{
		{[]string{"gate_proj", "up_proj", "down_proj"}, []string{"gate_up_proj", "down_proj"}},
		{[]string{"q_proj", "up_proj"}, []string{"q_proj", "gate_up_proj", "down_proj"}},
		{[]string{"q_proj"}, []string{"q_proj", "gate_up_proj", "down_proj"}},
		{[]string{"down_proj", "gate_up_proj", "down_proj"}, []string{"down_proj", "gate_up_proj"}},
		{nil, []string{"gate_up_proj", "down_proj"}},
	}
	for _, c := range cases {
		if got := SuggestLoRATargets(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("SuggestLoRATargets(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
