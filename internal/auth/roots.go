package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrOutsideRoots is the error of a path outside the allowed roots.
var ErrOutsideRoots = errors.New("outside the allowed roots")

// Roots is a path allow-list (--allowed-roots): directories, each resolved (absolute,
// symlinks followed). The zero value allows every path.
type Roots struct {
	dirs []string
}

// NewRoots resolves the directories; each must exist. None gives a Roots that allows
// everything.
func NewRoots(dirs []string) (Roots, error) {
	var r Roots
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			return Roots{}, fmt.Errorf("allowed root %q: want an absolute path", d)
		}
		real, err := filepath.EvalSymlinks(d)
		if err != nil {
			return Roots{}, fmt.Errorf("allowed root: %w", err)
		}
		if fi, err := os.Stat(real); err != nil || !fi.IsDir() {
			return Roots{}, fmt.Errorf("allowed root %s: not a directory", d)
		}
		r.dirs = append(r.dirs, real)
	}
	return r, nil
}

// Enabled says the allow-list restricts paths.
func (r Roots) Enabled() bool { return len(r.dirs) > 0 }

// Dirs returns the resolved roots.
func (r Roots) Dirs() []string { return r.dirs }

// Check returns an error naming path when it resolves outside every root: its longest
// existing prefix has its symlinks and ".." resolved (filepath.EvalSymlinks) and the rest
// is appended, cleaned. A relative path is refused. A glob's
// pattern part is checked as written, the longest existing prefix being the directory
// before it.
func (r Roots) Check(path string) error {
	if !r.Enabled() {
		return nil
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("%s: a relative path cannot be checked against the allowed roots", path)
	}
	real, err := resolve(path)
	if err != nil {
		return fmt.Errorf("%s: resolving against the allowed roots: %w", path, err)
	}
	for _, d := range r.dirs {
		if within(real, d) {
			return nil
		}
	}
	if real != filepath.Clean(path) {
		return fmt.Errorf("%s (resolves to %s) is %w %s", path, real, ErrOutsideRoots, strings.Join(r.dirs, ", "))
	}
	return fmt.Errorf("%s is %w %s", path, ErrOutsideRoots, strings.Join(r.dirs, ", "))
}

// maxLinks bounds the dangling symlinks resolve follows, as the kernel bounds a path's.
const maxLinks = 40

// resolve returns path with the symlinks of its longest existing prefix resolved and the
// rest appended. The prefix is not cleaned first: EvalSymlinks applies each ".." to what the
// components before it resolve to, as the kernel does (dir/link/.. is the parent of link's
// target, not dir). A dangling symlink (whose target does not exist yet) is followed too,
// since creating the path would create its target.
func resolve(path string) (string, error) {
	for range maxLinks {
		next, done, err := resolveOnce(path)
		if err != nil || done {
			return next, err
		}
		path = next
	}
	return "", fmt.Errorf("more than %d dangling symlinks", maxLinks)
}

// resolveOnce resolves path's longest existing prefix (done), or returns the path through
// the dangling symlink that ends that prefix, to resolve again.
func resolveOnce(path string) (string, bool, error) {
	sep := string(filepath.Separator)
	comps := strings.Split(path, sep)
	for k := len(comps); k >= 1; k-- {
		prefix := strings.Join(comps[:k], sep) // not filepath.Join: no cleaning
		if prefix == "" {
			prefix = sep
		}
		real, err := filepath.EvalSymlinks(prefix)
		if err == nil {
			return filepath.Join(append([]string{real}, comps[k:]...)...), true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return "", false, err
		}
		if fi, lerr := os.Lstat(prefix); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(prefix)
			if err != nil {
				return "", false, err
			}
			if !filepath.IsAbs(target) {
				target = strings.Join(comps[:k-1], sep) + sep + target
			}
			return strings.Join(append([]string{target}, comps[k:]...), sep), false, nil
		}
	}
	return filepath.Clean(path), true, nil
}

// within says p is d or below it.
func within(p, d string) bool {
	if p == d {
		return true
	}
	if !strings.HasSuffix(d, string(filepath.Separator)) {
		d += string(filepath.Separator)
	}
	return strings.HasPrefix(p, d)
}
