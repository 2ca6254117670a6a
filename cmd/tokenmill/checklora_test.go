package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckLoRA_Configs(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, yaml string
		code       int
		out        string // after "PATH: "
	}{
		{"document's correct list", "lora:\n  target_modules:\n    - \"q_proj\"\n    - \"k_proj\"\n    - \"v_proj\"\n    - \"o_proj\"\n    - \"gate_up_proj\"\n    - \"down_proj\"\n",
			0, "ok\n"},
		{"document's wrong list", "# These SILENTLY MISS expert layers on MoE models:\ntarget_modules:\n  - \"gate_proj\"\n  - \"up_proj\"\n  - \"down_proj\"\n",
			1, "target_modules: Target modules gate_proj, up_proj without gate_up_proj silently miss MoE expert layers; use [gate_up_proj, down_proj]\n"},
		{"attention and dense ffn", "model: gpt-oss-20b\nlora:\n  r: 16\n  target_modules: [q_proj, v_proj, gate_proj, up_proj, down_proj]\n",
			1, "lora.target_modules: Target modules gate_proj, up_proj without gate_up_proj silently miss MoE expert layers; use [q_proj, v_proj, gate_up_proj, down_proj]\n"},
		{"regex string is not checked", "lora:\n  target_modules: all-linear\n", 0, "ok\n"},
		{"no target modules", "lora:\n  r: 8\n", 1, "lora.target_modules: Missing required field 'target_modules'\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".yaml"), c.yaml)
			code, out, errs := runCLI(t, "", "check-lora", path)
			if code != c.code || out != path+": "+c.out {
				t.Errorf("exit %d out %q (stderr %q), want %d %q", code, out, errs, c.code, path+": "+c.out)
			}
		})
	}
}

func TestCheckLoRA_Unreadable(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.yaml"), "target_modules: [q_proj, gate_up_proj]\n")
	cases := []struct {
		name string
		args []string
		err  string
	}{
		{"no args", nil, "usage"},
		{"missing file", []string{good, filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"bad yaml", []string{writeFile(t, filepath.Join(dir, "bad.yaml"), "lora: [\n")}, "bad.yaml"},
		{"not a mapping", []string{writeFile(t, filepath.Join(dir, "list.yaml"), "- a\n")}, "list.yaml"},
		{"empty", []string{writeFile(t, filepath.Join(dir, "empty.yaml"), "")}, "empty config"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, "", append([]string{"check-lora"}, c.args...)...)
			if code != 2 || !strings.Contains(errs, c.err) {
				t.Errorf("exit %d stderr %q, want 2 containing %q", code, errs, c.err)
			}
		})
	}
}
