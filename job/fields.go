package job

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// field decodes the value of one key into a spec.
type field struct {
	key   string
	list  bool // the value is a list; a flag gives it comma-separated
	usage string
	set   func(d decoder, n *yaml.Node, key string, s *Spec) error
}

// fields lists every key below the top level and below output, in documentation order. inputs
// is decoded by inputs(); its flag forms are in set.go.
var fields = []field{
	{key: "name", usage: "job name", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Name, err = d.str(n, k)
		return err
	}},
	{key: "kind", usage: "job kind: pretrain, validate or convert", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		v, err := d.str(n, k)
		s.Kind = Kind(v)
		return err
	}},
	{key: "inputs", list: true, usage: "input files, directories or globs", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Inputs, err = d.inputs(n, k)
		return err
	}},
	{key: "tokenizer", usage: "built-in encoding name, .tiktoken, tokenizer.json or SentencePiece .model path", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Tokenizer, err = d.str(n, k)
		return err
	}},
	{key: "stage", usage: "validate: the pipeline stage whose rules apply", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Stage, err = d.str(n, k)
		return err
	}},
	{key: "max_errors", usage: "validate: errors listed in the report (negative: all)", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		v, err := d.integer(n, k)
		if err != nil {
			return err
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return d.errf(n, k, "%d is out of range", v)
		}
		s.MaxErrors = int(v)
		return nil
	}},
	{key: "to", usage: "convert: output format hf, jsonl or parquet", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		v, err := d.str(n, k)
		s.To = ConvertTo(v)
		return err
	}},
	{key: "sequence_lengths", list: true, usage: "packed row lengths in tokens, e.g. 512,1024,2048", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		items, err := d.seq(n, k)
		if err != nil {
			return err
		}
		out := make([]int, 0, len(items))
		for i, it := range items {
			v, err := d.integer(it, index(k, i))
			if err != nil {
				return err
			}
			if v < math.MinInt32 || v > math.MaxInt32 {
				return d.errf(it, index(k, i), "%d is out of range", v)
			}
			out = append(out, int(v))
		}
		s.SequenceLengths = out
		return nil
	}},
	{key: "val_fraction", usage: "fraction of documents in the validation split", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.ValFraction, err = d.float(n, k)
		return err
	}},
	{key: "seed", usage: "seed of the train/validation split", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Seed, err = d.unsigned(n, k, 64)
		return err
	}},
	{key: "shard_size", usage: "target input bytes per shard, e.g. 64MiB", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.ShardSize, err = d.size(n, k)
		return err
	}},
	{key: "max_record_bytes", usage: "longest record read, e.g. 64MiB; longer ones are rejected", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.MaxRecordBytes, err = d.size(n, k)
		return err
	}},
	{key: "eos", usage: "append the end-of-text token after each document", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.EOS, err = d.boolean(n, k)
		return err
	}},
	{key: "bos", usage: "prepend the begin-of-text token before each document", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.BOS, err = d.boolean(n, k)
		return err
	}},
	{key: "remainder", usage: "last partial row of each split and length: drop or pad", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		v, err := d.str(n, k)
		s.Remainder = Remainder(v)
		return err
	}},
	{key: "pad_id", usage: "token id for remainder pad (default: end-of-text)", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		v, err := d.unsigned(n, k, 32)
		if err != nil {
			return err
		}
		id := uint32(v)
		s.PadID = &id
		return nil
	}},
	{key: "max_reject_fraction", usage: "fail the job above this fraction of rejected records", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.MaxRejectFraction, err = d.float(n, k)
		return err
	}},
	{key: "max_attempts", usage: "cluster: runs of a task before the job fails", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		v, err := d.integer(n, k)
		if err != nil {
			return err
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			return d.errf(n, k, "%d is out of range", v)
		}
		s.MaxAttempts = int(v)
		return nil
	}},
	{key: "constraints", list: true, usage: "cluster: worker tags the job's tasks need, e.g. gpu=h100,zone!=b,ssd", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		items, err := d.seq(n, k)
		if err != nil {
			return err
		}
		out := make([]Constraint, 0, len(items))
		for i, it := range items {
			v, err := d.str(it, index(k, i))
			if err != nil {
				return err
			}
			c, err := ParseConstraint(v)
			if err != nil {
				return d.errf(it, index(k, i), "%v", err)
			}
			out = append(out, c)
		}
		s.Constraints = out
		return nil
	}},
	{key: "output", usage: "output section"}, // a mapping of the output.* keys, see spec()
	{key: "output.dir", usage: "output directory", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Output.Dir, err = d.str(n, k)
		return err
	}},
	{key: "output.formats", list: true, usage: "output formats: hf, npy", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		items, err := d.seq(n, k)
		if err != nil {
			return err
		}
		out := make([]OutputFormat, 0, len(items))
		for i, it := range items {
			v, err := d.str(it, index(k, i))
			if err != nil {
				return err
			}
			out = append(out, OutputFormat(v))
		}
		s.Output.Formats = out
		return nil
	}},
	{key: "output.dtype", usage: "token id type: int64, int32, uint32, uint16 or auto", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		v, err := d.str(n, k)
		s.Output.DType = DType(v)
		return err
	}},
	{key: "output.layout", usage: "output names: curriculum or seed", set: func(d decoder, n *yaml.Node, k string, s *Spec) error {
		v, err := d.str(n, k)
		s.Output.Layout = Layout(v)
		return err
	}},
	{key: "output.overwrite", usage: "replace an existing output directory", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Output.Overwrite, err = d.boolean(n, k)
		return err
	}},
}

func lookup(key string) *field {
	for i := range fields {
		if fields[i].key == key {
			return &fields[i]
		}
	}
	return nil
}

func topKeys() []string {
	var ks []string
	for _, f := range fields {
		if !strings.Contains(f.key, ".") {
			ks = append(ks, f.key)
		}
	}
	return ks
}

func outputKeys() []string {
	var ks []string
	for _, f := range fields {
		if k, ok := strings.CutPrefix(f.key, "output."); ok {
			ks = append(ks, k)
		}
	}
	return ks
}

var inputKeys = []string{"path", "format", "text_field"}

// spec decodes the top-level mapping into s. Then, knowing the kind, it refuses the keys
// present that the kind does not take (with their lines), and drops the pretraining default
// of output.dir for the other kinds, so that a report or a conversion never lands in
// data/packed by accident: they must name their output.
func (d decoder) spec(n *yaml.Node, s *Spec) error {
	var seen []seenKey
	err := d.mapping(n, "", topKeys(), func(k string, v *yaml.Node, key string) error {
		seen = append(seen, seenKey{key, v})
		if k == "output" {
			return d.mapping(v, "output.", outputKeys(), func(_ string, v *yaml.Node, key string) error {
				seen = append(seen, seenKey{key, v})
				return lookup(key).set(d, v, key, s)
			})
		}
		if k == "inputs" {
			seen = append(seen, d.inputKeys(v, key)...)
		}
		return lookup(k).set(d, v, key, s)
	})
	if err != nil || !slices.Contains(kinds, s.Kind) {
		return err // an unknown kind is Validate's to report
	}
	allowed := KindKeys(s.Kind)
	for _, sk := range seen {
		k := sk.key
		if i := strings.Index(k, "]."); i >= 0 {
			k = "inputs." + k[i+2:] // inputs[3].text_field -> inputs.text_field
		}
		if k == "inputs.path" || k == "inputs.format" || slices.Contains(allowed, k) ||
			k == "inputs.text_field" && s.Kind == KindPretrain {
			continue
		}
		return &KeyError{Key: sk.key, Line: sk.node.Line, Msg: fmt.Sprintf("not a key of kind: %s", s.Kind)}
	}
	if s.Kind != KindPretrain && !slices.ContainsFunc(seen, func(sk seenKey) bool { return sk.key == "output.dir" }) {
		s.Output.Dir = ""
	}
	return nil
}

// inputs decodes the inputs list. An item is a mapping or, as a shorthand, a path string.
func (d decoder) inputs(n *yaml.Node, key string) ([]Input, error) {
	items, err := d.seq(n, key)
	if err != nil {
		return nil, err
	}
	out := make([]Input, 0, len(items))
	for i, it := range items {
		k := index(key, i)
		in := DefaultInput("")
		if deref(it).Kind == yaml.ScalarNode {
			if in.Path, err = d.str(it, k); err != nil {
				return nil, err
			}
			out = append(out, in)
			continue
		}
		err := d.mapping(it, k+".", inputKeys, func(sub string, v *yaml.Node, key string) (err error) {
			var str string
			str, err = d.str(v, key)
			switch sub {
			case "path":
				in.Path = str
			case "format":
				in.Format = Format(str)
			case "text_field":
				in.TextField = str
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

func index(key string, i int) string {
	return key + "[" + strconv.Itoa(i) + "]"
}

// seenKey is a key present in a spec, with its value's node (for the line).
type seenKey struct {
	key  string
	node *yaml.Node
}

// inputKeys lists the keys written in the mappings of an inputs list, as "inputs[i].key",
// with their value nodes; malformed lists are left to inputs() to report.
func (d decoder) inputKeys(n *yaml.Node, key string) []seenKey {
	var out []seenKey
	if n = deref(n); n.Kind != yaml.SequenceNode {
		return nil
	}
	for i, it := range n.Content {
		if it = deref(it); it.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(it.Content); j += 2 {
			out = append(out, seenKey{index(key, i) + "." + it.Content[j].Value, it.Content[j+1]})
		}
	}
	return out
}
