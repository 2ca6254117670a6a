package job

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ResolvePaths makes every relative path of the spec absolute against baseDir, itself taken
// against the current directory when relative ("" is the current directory): each input's
// path (a file, a directory or a glob), output.dir, and a tokenizer given as a file. A
// tokenizer with neither a '/' nor a '.' is a name (every built-in encoding's name is such a
// word) and stays as written; of "FILE.tiktoken:NAME" only FILE is resolved. Absolute and
// empty paths stay as they are (Validate reports an empty one). The result is cleaned
// (filepath.Join). Resolving twice is harmless: the second time finds only absolute paths.
//
// The CLI resolves a job file's paths against the file's directory and the paths of flags
// against the current directory (see Load); a cluster's submit does the same before sending
// the spec, so that the spec names the same files wherever it runs.
func (s *Spec) ResolvePaths(baseDir string) error {
	base, err := filepath.Abs(baseDir)
	if err != nil {
		return fmt.Errorf("resolving relative paths: %w", err)
	}
	for i := range s.Inputs {
		s.Inputs[i].Path = resolvePath(base, s.Inputs[i].Path)
	}
	s.Output.Dir = resolvePath(base, s.Output.Dir)
	s.Tokenizer = resolveTokenizer(base, s.Tokenizer)
	return nil
}

func resolvePath(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// resolveTokenizer resolves the file part of a tokenizer value; names stay names.
func resolveTokenizer(base, t string) string {
	if tokenizerName(t) {
		return t
	}
	file, name := t, ""
	if i := strings.LastIndexByte(t, ':'); i > 0 && tokenizerName(t[i+1:]) && t[i+1:] != "" {
		file, name = t[:i], t[i:]
	}
	return resolvePath(base, file) + name
}

// TokenizerPaths returns the files the job's tokenizer value may make a loader open, by the
// rules of tokenizer.Load: none for a built-in name; else the value, and when it ends in
// ":name" the part before it too; for each such file, the tokenizer.json inside it (a
// directory) and its sidecar (x.tiktoken -> x.json). Paths that do not exist are listed as
// well: a check against an allow-list must cover every file a load could reach, through a
// symlink too.
func (s *Spec) TokenizerPaths() []string {
	t := s.Tokenizer
	if t == "" || tokenizerName(t) {
		return nil
	}
	files := []string{t}
	if i := strings.LastIndexByte(t, ':'); i > 0 {
		files = append(files, t[:i])
	}
	var out []string
	for _, f := range files {
		out = append(out, f, filepath.Join(f, "tokenizer.json"), strings.TrimSuffix(f, filepath.Ext(f))+".json")
	}
	return out
}

// tokenizerName reports whether a tokenizer value is a name rather than a path: it holds no
// '/', '.' or ':' (tokenizer.Load tells a missing file from an unknown name the same way).
func tokenizerName(t string) bool {
	return !strings.ContainsAny(t, "/.:"+string(filepath.Separator))
}

// RelativePaths lists the paths of the spec that are relative, each as "key \"value\""
// (inputs[i].path, output.dir, tokenizer), by the rules of ResolvePaths: a tokenizer name is
// not a path. A cluster refuses such a spec, having no directory to resolve it against.
func (s *Spec) RelativePaths() []string {
	var rel []string
	for i, in := range s.Inputs {
		if in.Path != "" && !filepath.IsAbs(in.Path) {
			rel = append(rel, fmt.Sprintf("inputs[%d].path %q", i, in.Path))
		}
	}
	if s.Output.Dir != "" && !filepath.IsAbs(s.Output.Dir) {
		rel = append(rel, fmt.Sprintf("output.dir %q", s.Output.Dir))
	}
	if s.Tokenizer != "" && resolveTokenizer("/", s.Tokenizer) != s.Tokenizer {
		rel = append(rel, fmt.Sprintf("tokenizer %q", s.Tokenizer))
	}
	return rel
}

// ResolveFile returns the job file b (YAML or JSON) with its relative paths made absolute
// against baseDir by the rules of ResolvePaths: each input's path, output.dir and a
// tokenizer given as a file. Everything else of the document (keys, their order, comments)
// stays as written (a JSON file stays in flow style, which is YAML too). A cluster's submit sends this, so that the spec
// names the files `tokenmill run` of the same file would read. b is not validated (Load
// does that); a document that is not a mapping is returned re-encoded, unchanged.
func ResolveFile(b []byte, baseDir string) ([]byte, error) {
	base, err := filepath.Abs(baseDir)
	if err != nil {
		return nil, fmt.Errorf("resolving relative paths: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if len(doc.Content) == 1 {
		resolveNodes(deref(doc.Content[0]), base)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	return out.Bytes(), nil
}

// resolveNodes rewrites the path scalars of a job's top-level mapping.
func resolveNodes(m *yaml.Node, base string) {
	set := func(n *yaml.Node, resolve func(base, p string) string) {
		if n = deref(n); n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			n.Value = resolve(base, n.Value)
		}
	}
	eachKey(m, func(key string, v *yaml.Node) {
		switch key {
		case "tokenizer":
			set(v, resolveTokenizer)
		case "output":
			eachKey(deref(v), func(key string, v *yaml.Node) {
				if key == "dir" {
					set(v, resolvePath)
				}
			})
		case "inputs":
			if v = deref(v); v.Kind != yaml.SequenceNode {
				return
			}
			for _, in := range v.Content {
				eachKey(deref(in), func(key string, v *yaml.Node) {
					if key == "path" {
						set(v, resolvePath)
					}
				})
			}
		}
	})
}

// eachKey calls f with each key and value of a mapping node; other nodes have none.
func eachKey(m *yaml.Node, f func(key string, v *yaml.Node)) {
	if m.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		f(m.Content[i].Value, m.Content[i+1])
	}
}
