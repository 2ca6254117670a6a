package job

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// KeyError is a problem with one key of a spec. Key is the key's path, e.g. "output.dtype" or
// "sequence_lengths[1]"; Line is the YAML line (0 when unknown, e.g. for flags); File is the
// job file the key was written in ("" when unknown: Decode and Validate do not know it, Load
// does).
type KeyError struct {
	File string
	Key  string
	Line int
	Msg  string
}

// Error says "job.yaml:5: sequence_lengths[0]: must be > 0, got 0" with a file and a line,
// "job.yaml: name: required" with a file only, "seed: expected ... (line 2)" with a line only.
func (e *KeyError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s: %s", e.File, e.Key, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s: %s (line %d)", e.Key, e.Msg, e.Line)
	}
	return fmt.Sprintf("%s: %s", e.Key, e.Msg)
}

// Parse decodes a YAML (or JSON) spec with Decode and validates it.
func Parse(b []byte) (*Spec, error) {
	s, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Decode decodes a YAML (or JSON) spec over DefaultSpec without validating it, so that flag
// overrides can complete it first. Decoding is strict, like yaml.v3's KnownFields and more: an
// unknown or duplicate key, a value of the wrong type (a quoted "5" for an integer), a null value
// or a second YAML document is an error naming the key.
func Decode(b []byte) (*Spec, error) {
	s, _, err := decode(b)
	if err != nil && !errors.As(err, new(*KeyError)) {
		return nil, fmt.Errorf("job: %w", err)
	}
	return s, err
}

// decode is Decode, also returning the line of each key written (see keyLines), and the YAML
// package's own errors unwrapped.
func decode(b []byte) (*Spec, keyLines, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	s := DefaultSpec()
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return s, keyLines{}, nil // empty document: defaults only
		}
		return nil, nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, nil, errors.New("a spec is one YAML document")
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return s, keyLines{}, nil
		}
		root = root.Content[0]
	}
	if err := (decoder{}).spec(root, s); err != nil {
		return nil, nil, err
	}
	lines := keyLines{}
	lines.add(root, "")
	return s, lines, nil
}

// decoder turns nodes into values. With flag set, nodes come from command-line strings: they
// carry no YAML tags and are parsed by the type of the key alone.
type decoder struct{ flag bool }

func (d decoder) errf(n *yaml.Node, key, format string, args ...any) error {
	return &KeyError{Key: key, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

// mapping calls set for each key of a mapping node, refusing unknown and duplicate keys.
func (d decoder) mapping(n *yaml.Node, prefix string, known []string, set func(k string, v *yaml.Node, key string) error) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		name := strings.TrimSuffix(prefix, ".")
		if name == "" {
			name = "spec"
		}
		return d.errf(n, name, "expected a mapping of keys, got %s", describe(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := deref(n.Content[i]), deref(n.Content[i+1])
		k := kn.Value
		key := prefix + k
		if kn.Kind != yaml.ScalarNode || !containsStr(known, k) {
			return d.errf(kn, key, "unknown key (known: %s)", strings.Join(known, ", "))
		}
		if seen[k] {
			return d.errf(kn, key, "duplicate key")
		}
		seen[k] = true
		if err := set(k, vn, key); err != nil {
			return err
		}
	}
	return nil
}

func (d decoder) scalar(n *yaml.Node, key, want string, tags ...string) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", d.errf(n, key, "expected %s, got %s", want, describe(n))
	}
	if d.flag {
		return n.Value, nil
	}
	tag := n.ShortTag()
	if tag == "!!null" {
		return "", d.errf(n, key, "missing value: expected %s", want)
	}
	if len(tags) > 0 && !containsStr(tags, tag) {
		return "", d.errf(n, key, "expected %s, got %s", want, describe(n))
	}
	return n.Value, nil
}

func (d decoder) str(n *yaml.Node, key string) (string, error) {
	return d.scalar(n, key, "a string")
}

func (d decoder) boolean(n *yaml.Node, key string) (bool, error) {
	v, err := d.scalar(n, key, "true or false", "!!bool")
	if err != nil {
		return false, err
	}
	var b bool
	if d.flag {
		b, err = strconv.ParseBool(v)
	} else {
		err = n.Decode(&b)
	}
	if err != nil {
		return false, d.errf(n, key, "expected true or false, got %q", v)
	}
	return b, nil
}

func (d decoder) integer(n *yaml.Node, key string) (int64, error) {
	v, err := d.scalar(n, key, "an integer", "!!int")
	if err != nil {
		return 0, err
	}
	var i int64
	if d.flag {
		i, err = strconv.ParseInt(v, 10, 64)
	} else {
		err = deref(n).Decode(&i)
	}
	if err != nil {
		return 0, d.errf(n, key, "expected an integer, got %q", v)
	}
	return i, nil
}

func (d decoder) unsigned(n *yaml.Node, key string, bits int) (uint64, error) {
	v, err := d.scalar(n, key, "a non-negative integer", "!!int")
	if err != nil {
		return 0, err
	}
	var u uint64
	if d.flag {
		u, err = strconv.ParseUint(v, 10, bits)
	} else if err = deref(n).Decode(&u); err == nil && bits < 64 && u >= 1<<bits {
		err = errors.New("out of range")
	}
	if err != nil {
		return 0, d.errf(n, key, "expected a non-negative integer below 2^%d, got %q", bits, v)
	}
	return u, nil
}

func (d decoder) float(n *yaml.Node, key string) (float64, error) {
	v, err := d.scalar(n, key, "a number", "!!float", "!!int")
	if err != nil {
		return 0, err
	}
	var f float64
	if d.flag {
		f, err = strconv.ParseFloat(v, 64)
	} else {
		err = deref(n).Decode(&f)
	}
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, d.errf(n, key, "expected a finite number, got %q", v)
	}
	return f, nil
}

func (d decoder) size(n *yaml.Node, key string) (ByteSize, error) {
	v, err := d.scalar(n, key, "a size such as 64MiB or a number of bytes", "!!int", "!!str", "!!float")
	if err != nil {
		return 0, err
	}
	s, err := ParseByteSize(v)
	if err != nil {
		return 0, d.errf(n, key, "%v", err)
	}
	return s, nil
}

// seq returns the items of a sequence node.
func (d decoder) seq(n *yaml.Node, key string) ([]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, d.errf(n, key, "expected a list, got %s", describe(n))
	}
	return n.Content, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		case "!!int":
			return fmt.Sprintf("the integer %s", n.Value)
		case "!!float":
			return fmt.Sprintf("the number %s", n.Value)
		case "!!bool":
			return fmt.Sprintf("the boolean %s", n.Value)
		case "!!null":
			return "no value"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported YAML node"
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
