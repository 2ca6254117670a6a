package job

import (
	"flag"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Input keys that only exist for Set and flags: inputs is a list of mappings in YAML.
const (
	KeyInputPath      = "inputs.path"       // appends an input with this path
	KeyInputFormat    = "inputs.format"     // sets the format of every input
	KeyInputTextField = "inputs.text_field" // sets the text field of every input
)

// Key describes one key settable with Set.
type Key struct {
	Key   string // as in YAML, dotted below output: "output.dtype"
	Flag  string // the flag name BindFlags registers: "output-dtype"
	List  bool   // the value is a comma-separated list
	Bool  bool   // the value is true or false; a flag given alone means true
	Usage string
}

// Keys lists every key Set accepts, in documentation order.
func Keys() []Key {
	var ks []Key
	for _, f := range fields {
		if f.set == nil || f.key == "inputs" {
			continue
		}
		ks = append(ks, Key{Key: f.key, Flag: flagName(f.key), List: f.list,
			Bool: isBool(f.key), Usage: f.usage})
		if f.key == "name" {
			ks = append(ks,
				Key{Key: KeyInputPath, Flag: flagName(KeyInputPath), Usage: "input file, directory or glob (repeatable; replaces the spec's inputs)"},
				Key{Key: KeyInputFormat, Flag: flagName(KeyInputFormat), Usage: "format of every input: auto, jsonl, json, parquet, csv, text, lines, hf"},
				Key{Key: KeyInputTextField, Flag: flagName(KeyInputTextField), Usage: "text field of every input"})
		}
	}
	return ks
}

func isBool(key string) bool {
	return key == "eos" || key == "bos" || key == "output.overwrite"
}

func flagName(key string) string {
	switch key {
	case KeyInputPath:
		return "input"
	case KeyInputFormat:
		return "input-format"
	case KeyInputTextField:
		return "text-field"
	case "output.overwrite":
		return "overwrite"
	}
	return strings.NewReplacer(".", "-", "_", "-").Replace(key)
}

// Set sets one key from a command-line string, with the same types and the same errors as in
// YAML. Lists (sequence_lengths, output.formats) are comma-separated. KeyInputPath appends an
// input; KeyInputFormat and KeyInputTextField change every input present. Set does not
// validate the result: call Validate when done.
func (s *Spec) Set(key, value string) error {
	d := decoder{flag: true}
	switch key {
	case KeyInputPath:
		s.Inputs = append(s.Inputs, DefaultInput(value))
		return nil
	case KeyInputFormat, KeyInputTextField:
		if len(s.Inputs) == 0 {
			return &KeyError{Key: key, Msg: "no inputs to apply it to"}
		}
		for i := range s.Inputs {
			if key == KeyInputFormat {
				s.Inputs[i].Format = Format(value)
			} else {
				s.Inputs[i].TextField = value
			}
		}
		return nil
	}
	f := lookup(key)
	if f == nil || f.set == nil || key == "inputs" {
		return &KeyError{Key: key, Msg: "unknown key"}
	}
	n := &yaml.Node{Kind: yaml.ScalarNode, Value: value}
	if f.list {
		n = &yaml.Node{Kind: yaml.SequenceNode}
		if strings.TrimSpace(value) != "" {
			for _, part := range strings.Split(value, ",") {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(part)})
			}
		}
	}
	return f.set(d, n, key, s)
}

// Overrides collects key settings, typically from flags, to apply over a decoded spec.
// The zero value is ready to use.
type Overrides struct {
	sets []setting
}

type setting struct{ key, value string }

// Add records key = value, checking that the key exists and the value has its type.
func (o *Overrides) Add(key, value string) error {
	scratch := DefaultSpec()
	scratch.Inputs = []Input{DefaultInput("x")}
	if err := scratch.Set(key, value); err != nil {
		return err
	}
	o.sets = append(o.sets, setting{key, value})
	return nil
}

// Len returns the number of settings recorded.
func (o *Overrides) Len() int { return len(o.sets) }

// Apply sets the recorded keys on s. Input paths come first: if any was given, they replace the
// spec's inputs; then every other key, in the order given (the last setting of a key wins).
func (o *Overrides) Apply(s *Spec) error {
	replaced := false
	for _, st := range o.sets {
		if st.key != KeyInputPath {
			continue
		}
		if !replaced {
			s.Inputs, replaced = nil, true
		}
		if err := s.Set(st.key, st.value); err != nil {
			return err
		}
	}
	for _, st := range o.sets {
		if st.key == KeyInputPath {
			continue
		}
		if err := s.Set(st.key, st.value); err != nil {
			return err
		}
	}
	return nil
}

// BindFlags registers one flag per key of Keys on fs (named Key.Flag) and returns the
// Overrides they fill. Typical use: parse flags, Decode the YAML (or start from DefaultSpec),
// Apply the overrides, then Validate.
func BindFlags(fs *flag.FlagSet) *Overrides {
	o := &Overrides{}
	for _, k := range Keys() {
		usage := k.Usage
		if k.List {
			usage += " (comma-separated)"
		}
		fs.Var(&flagValue{o: o, key: k.Key, isBool: k.Bool}, k.Flag, fmt.Sprintf("%s [%s]", usage, k.Key))
	}
	return o
}

type flagValue struct {
	o      *Overrides
	key    string
	isBool bool
	last   string
}

func (v *flagValue) String() string { return v.last }

func (v *flagValue) Set(s string) error {
	if err := v.o.Add(v.key, s); err != nil {
		return err
	}
	v.last = s
	return nil
}

func (v *flagValue) IsBoolFlag() bool { return v.isBool }
