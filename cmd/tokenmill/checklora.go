package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/tokenmill/tokenmill/validate"
)

// cmdCheckLoRA implements `tokenmill check-lora CONFIG.yaml...`: section 6 of the data formats
// document. A LoRA config whose target_modules name the dense FFN projections (gate_proj,
// up_proj) without gate_up_proj silently trains no MoE expert layer on GPT-OSS; the check
// says which list to use instead. Exit 0 when every config is fine, 1 when one has an issue,
// 2 when one cannot be read or parsed.
func cmdCheckLoRA(args []string, stdout, stderr io.Writer) int {
	c := newCommand("check-lora", "CONFIG.yaml...",
		"Flag LoRA configs whose target_modules miss the MoE expert layers of GPT-OSS.",
		"exit:  0 every config is fine, 1 one has an issue, 2 one cannot be read (or bad usage)\n", stdout, stderr)
	fs := c.fs
	if done, code := c.parse(args); done {
		return code
	}
	if fs.NArg() == 0 {
		return c.usageError("missing CONFIG.yaml")
	}
	code := exitValid
	for _, path := range fs.Args() {
		cfg, err := readYAMLMap(path)
		if err != nil {
			fmt.Fprintf(stderr, "tokenmill check-lora: %s: %v\n", path, err)
			code = exitUnreadable
			continue
		}
		issues := validate.CheckLoRA(cfg)
		if len(issues) == 0 {
			fmt.Fprintf(stdout, "%s: ok\n", path)
			continue
		}
		for _, is := range issues {
			fmt.Fprintf(stdout, "%s: %s\n", path, is)
		}
		code = worse(code, exitInvalid)
	}
	return code
}

// readYAMLMap decodes the first YAML document of path into generic maps, as CheckLoRA takes
// it. The training configs are plain YAML: one document, a mapping at the top.
func readYAMLMap(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := yaml.NewDecoder(bytes.NewReader(b)).Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty config")
		}
		return nil, err
	}
	if cfg == nil {
		return nil, errors.New("empty config")
	}
	return cfg, nil
}
