// Package outdir keeps tokenmill's outputs from harming a user's files. Every command that
// publishes an output (tokenmill run, convert, harmony encode, and the cluster's finalize)
// goes through it:
//
//   - Check refuses an output that is an input, holds one at any depth, or lies inside a
//     directory (or the root of a glob) that an input names, with or without --overwrite,
//     and replaces an existing output only when tokenmill wrote all of it (see CheckReplace).
//   - Acquire takes the output's lock, a file beside it (.<base>.lock) held with flock for
//     the whole run, so that two runs into one output cannot delete each other's work.
//   - Leftovers and Clean find and remove what a killed run left behind: the hidden
//     temporary directories beside the output and its staging area.
//
// Paths are compared after filepath.Abs and filepath.EvalSymlinks of their longest existing
// prefix, so "./sb", "sb/../sb" and a symlink to sb are the same output.
//
// outdir imports the standard library only: it sits below shard and formats.
package outdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Kind is what an output is, which decides what may replace it.
type Kind int

const (
	// KindJob is the output directory of a job (tokenmill run, any job kind): it is replaced
	// only when its manifest.json is tokenmill's and it holds nothing the manifest does not
	// list.
	KindJob Kind = iota
	// KindHF is an HF save_to_disk directory that `tokenmill convert --to hf` or
	// `tokenmill harmony encode` writes: replaced only when it holds nothing but the files
	// of such a dataset.
	KindHF
	// KindFile is a single output file (`tokenmill convert --to jsonl|parquet`): an
	// existing regular file is replaced with overwrite; a directory is refused.
	KindFile
)

// StagingName is the staging area's directory inside a job's output directory.
const StagingName = ".staging"

// Check refuses out when it overlaps an input (CheckInputs) or when it exists and may not be
// replaced (CheckReplace).
func Check(out string, inputs []string, kind Kind, overwrite bool) error {
	if err := CheckInputs(out, inputs); err != nil {
		return err
	}
	return CheckReplace(out, kind, overwrite)
}

// CheckInputs refuses out when it is one of inputs, holds one of them at any depth, or lies
// inside a directory that an input names or inside the root of an input's glob (the
// leading path elements without glob metacharacters): the output would be read as input by
// the next run, and replacing it would delete the inputs. inputs are paths as a job names
// them (files, directories or globs), relative ones to the current directory. The error
// names out and the input as given.
func CheckInputs(out string, inputs []string) error {
	rout, err := Resolve(out)
	if err != nil {
		return fmt.Errorf("output %s: %w", out, err)
	}
	for _, in := range inputs {
		root, glob := in, hasMeta(in)
		if glob {
			root = globRoot(in)
		}
		rroot, err := Resolve(root)
		if err != nil {
			return fmt.Errorf("input %s: %w", in, err)
		}
		isDir := glob
		if fi, err := os.Stat(rroot); err == nil && fi.IsDir() {
			isDir = true
		}
		switch {
		case rout == rroot && isDir && glob:
			return fmt.Errorf("output %s is the directory that input %s reads; choose another output", out, in)
		case rout == rroot:
			return fmt.Errorf("output %s is the input %s; choose another output", out, in)
		case within(rroot, rout):
			return fmt.Errorf("output %s holds the input %s; choose another output", out, in)
		case isDir && within(rout, rroot) && glob:
			return fmt.Errorf("output %s lies inside %s, which input %s reads; choose another output", out, root, in)
		case isDir && within(rout, rroot):
			return fmt.Errorf("output %s lies inside the input directory %s; choose another output", out, in)
		}
	}
	return nil
}

// CheckReplace refuses an existing out that tokenmill may not replace, and, without
// overwrite, one that it may. A job's output directory (KindJob) may be replaced when it is
// empty, holds only the staging area, or is a previous tokenmill output: its manifest.json
// has tokenmill's shape and every entry is manifest.json, run.json, the staging area or an
// output the manifest lists (an HF directory among them holding only HF dataset files); an
// empty directory or one holding only the staging area is used without overwrite. An HF
// dataset (KindHF) may be replaced when it holds only HF dataset files. A file (KindFile) may
// be replaced when it is a regular file. The error names the entry that tokenmill did not
// write.
func CheckReplace(out string, kind Kind, overwrite bool) error {
	fi, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", out, err)
	}
	if kind == KindFile {
		switch {
		case fi.IsDir():
			return fmt.Errorf("output %s is a directory; the output is a file: choose another name", out)
		case !fi.Mode().IsRegular():
			return fmt.Errorf("output %s exists and is not a regular file; refusing to replace it", out)
		case !overwrite:
			return fmt.Errorf("output %s exists (use --overwrite to replace it)", out)
		}
		return nil
	}
	if !fi.IsDir() {
		return fmt.Errorf("output %s exists and is not a directory; refusing to replace it", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("output %s: %w", out, err)
	}
	if kind == KindHF {
		if err := checkHFDir(out, entries); err != nil {
			return err
		}
		if !overwrite {
			return fmt.Errorf("output %s exists (use --overwrite to replace it)", out)
		}
		return nil
	}
	if onlyStaging(entries) {
		return nil
	}
	if err := checkJobDir(out, entries); err != nil {
		return err
	}
	if !overwrite {
		return fmt.Errorf("output directory %s exists (use --overwrite or output.overwrite: true to replace it)", out)
	}
	return nil
}

func onlyStaging(entries []os.DirEntry) bool {
	for _, e := range entries {
		if e.Name() != StagingName {
			return false
		}
	}
	return true
}

// Resolve returns p made absolute, with the symbolic links of its longest existing prefix
// evaluated, so that paths naming the same file compare equal.
func Resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for cur := abs; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(r, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// within reports whether p lies strictly inside dir (both resolved).
func within(p, dir string) bool {
	if dir == string(filepath.Separator) {
		return p != dir
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}

// hasMeta reports whether p is a glob, as the planner decides.
func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// globRoot is the directory a glob's matches all lie in: its leading elements without
// metacharacters.
func globRoot(pattern string) string {
	elems := strings.Split(filepath.ToSlash(pattern), "/")
	i := 0
	for i < len(elems)-1 && !hasMeta(elems[i]) {
		i++
	}
	root := filepath.FromSlash(strings.Join(elems[:i], "/"))
	switch {
	case root == "" && strings.HasPrefix(pattern, "/"):
		return "/"
	case root == "":
		return "."
	}
	return root
}
