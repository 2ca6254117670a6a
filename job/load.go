package job

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads the job file at path and decodes it (as Decode), makes its relative paths
// absolute against the file's directory (ResolvePaths), applies ov (may be nil), makes the
// relative paths ov gave absolute against the current directory, and validates the result.
// With path "", it starts from DefaultSpec and the current directory.
//
// Errors name the file: a file that cannot be read by its absolute path, a YAML syntax error
// by file and line, and each key error (from decoding or from Validate) by file, line and key
// ("job.yaml:5: sequence_lengths[0]: must be > 0, got 0"); the error of a key that ov set
// names the key alone, as the file did not give its value.
func Load(path string, ov *Overrides) (*Spec, error) {
	s, lines := DefaultSpec(), keyLines{}
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			return nil, err // *PathError: "open /abs/job.yaml: no such file or directory"
		}
		if s, lines, err = decode(b); err != nil {
			return nil, fileError(path, lines, err)
		}
		if err := s.ResolvePaths(filepath.Dir(abs)); err != nil {
			return nil, err
		}
	}
	if ov != nil {
		if err := ov.Apply(s); err != nil {
			return nil, err
		}
		lines.forget(ov, len(s.Inputs))
	}
	if err := s.ResolvePaths(""); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		if path == "" {
			return nil, err
		}
		return nil, fileError(path, lines, err)
	}
	return s, nil
}

// yamlLine matches the YAML package's located errors: "yaml: line 3: did not find ...".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// fileError places err in the job file: each *KeyError (also inside errors.Join) gets the file
// and, when the key was written there, its line; a YAML error becomes "file:line: msg".
func fileError(file string, lines keyLines, err error) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs := joined.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = fileError(file, lines, e)
		}
		return errors.Join(out...)
	}
	var ke *KeyError
	if errors.As(err, &ke) {
		line := lines.find(ke.Key)
		if line < 0 {
			return err // set by a flag, not in the file
		}
		located := *ke
		located.File = file
		if located.Line == 0 {
			located.Line = line
		}
		return &located
	}
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", file, m[1], msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %s", file, strings.TrimPrefix(msg, "yaml: "))
}

// keyLines maps each key written in a job file to the line of its value, by the paths
// Validate names keys with: "seed", "output.dir", "sequence_lengths[1]", "inputs[0].path". A
// line of -1 marks a key whose value came from elsewhere (a flag).
type keyLines map[string]int

// add records the keys of node n and below, n's own path being prefix.
func (l keyLines) add(n *yaml.Node, prefix string) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if prefix != "" {
				key = prefix + "." + key
			}
			l[key] = n.Content[i].Line
			l.add(n.Content[i+1], key)
		}
	case yaml.SequenceNode:
		for i, it := range n.Content {
			key := index(prefix, i)
			l[key] = deref(it).Line
			l.add(it, key)
		}
	}
}

// find returns the line of key, else of the nearest enclosing key written in the file
// (the line of inputs[0] for a missing inputs[0].path), else 0; -1 for a key set by a flag.
func (l keyLines) find(key string) int {
	for key != "" {
		if line, ok := l[key]; ok {
			return line
		}
		if i := strings.LastIndexAny(key, ".["); i >= 0 {
			key = key[:i]
		} else {
			key = ""
		}
	}
	return 0
}

// forget marks the keys that ov set as set by flags: their lines no longer apply. inputs is
// the number of inputs after ov was applied.
func (l keyLines) forget(ov *Overrides, inputs int) {
	for _, st := range ov.sets {
		switch st.key {
		case KeyInputPath: // the flags' inputs replace the file's
			for k := range l {
				if strings.HasPrefix(k, "inputs[") {
					delete(l, k)
				}
			}
			l["inputs"] = -1
		case KeyInputFormat, KeyInputTextField:
			sub := strings.TrimPrefix(st.key, "inputs.")
			for i := range inputs {
				l[index("inputs", i)+"."+sub] = -1
			}
		default:
			for k := range l {
				if strings.HasPrefix(k, st.key+"[") || strings.HasPrefix(k, st.key+".") {
					delete(l, k)
				}
			}
			l[st.key] = -1
		}
	}
}
