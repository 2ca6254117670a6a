package job

import (
	"math"
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
	{key: "inputs", list: true, usage: "input files, directories or globs", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Inputs, err = d.inputs(n, k)
		return err
	}},
	{key: "tokenizer", usage: "built-in encoding name, .tiktoken or tokenizer.json path", set: func(d decoder, n *yaml.Node, k string, s *Spec) (err error) {
		s.Tokenizer, err = d.str(n, k)
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

// spec decodes the top-level mapping into s.
func (d decoder) spec(n *yaml.Node, s *Spec) error {
	return d.mapping(n, "", topKeys(), func(k string, v *yaml.Node, key string) error {
		if k == "output" {
			return d.mapping(v, "output.", outputKeys(), func(_ string, v *yaml.Node, key string) error {
				return lookup(key).set(d, v, key, s)
			})
		}
		return lookup(k).set(d, v, key, s)
	})
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
