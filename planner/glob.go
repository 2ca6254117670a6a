package planner

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// hasMeta reports whether a path holds glob metacharacters.
func hasMeta(p string) bool {
	return strings.ContainsAny(p, `*?[\`)
}

// glob expands a pattern like filepath.Glob, and also "**" as a whole path element, which
// matches zero or more directories ("corpus/**/*.jsonl"). Results are sorted.
func glob(pattern string) ([]string, error) {
	if !strings.Contains(pattern, "**") {
		return filepath.Glob(pattern)
	}
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	// The walk starts at the longest leading run of elements without metacharacters.
	elems := strings.Split(filepath.ToSlash(pattern), "/")
	i := 0
	for i < len(elems)-1 && !hasMeta(elems[i]) {
		i++
	}
	root := filepath.FromSlash(strings.Join(elems[:i], "/"))
	switch {
	case root == "" && strings.HasPrefix(pattern, "/"):
		root = "/"
	case root == "":
		root = "."
	}
	rest := elems[i:]
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return nil // a missing root matches nothing, as with filepath.Glob
			}
			return err
		}
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil || rel == "." {
			return nil
		}
		if matchElems(rest, strings.Split(filepath.ToSlash(rel), "/")) {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// matchElems matches path elements against pattern elements, "**" matching any number.
func matchElems(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for skip := 0; skip <= len(name); skip++ {
				if matchElems(pat[1:], name[skip:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := filepath.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
