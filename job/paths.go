package job

import (
	"fmt"
	"path/filepath"
	"strings"
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
