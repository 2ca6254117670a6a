package outdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Temporary names beside an output out (base name B):
//
//	.B.tmp-<job>   the output a job is building (shard's assembler and finalize)
//	.B.old-<job>   the previous output, moved aside while the new one is published
//	.B.tmp         the dataset or file `tokenmill convert` and `harmony encode` are writing
//	B/.staging     the shards' partial outputs
//
// A run that ends, well or not, removes its own; a killed run leaves them, and the next run
// into out (whatever its job) removes them once it holds the lock, as `tokenmill clean` does.

// TempPath names a hidden directory beside out: .<base>.<kind>-<job>.
func TempPath(out, kind, jobName string) string {
	out = filepath.Clean(out)
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+"."+kind+"-"+jobName)
}

// Leftover is one temporary directory or file that an earlier run of an output left.
type Leftover struct {
	Path  string
	Bytes int64 // the sizes of the files under Path
}

// Leftovers lists the temporary files and directories of out: those beside it (beside the
// path as given and, when it differs, beside the resolved one) and its staging area. A
// temporary name that a longer existing sibling also explains (.a.tmp-b.tmp-j for an output
// a.tmp-b) belongs to that sibling and is not listed.
func Leftovers(out string) ([]Leftover, error) {
	given := filepath.Clean(out)
	r, err := Resolve(out)
	if err != nil {
		return nil, err
	}
	places := [][2]string{{filepath.Dir(given), filepath.Base(given)}}
	if abs, _ := filepath.Abs(given); abs != r {
		places = append(places, [2]string{filepath.Dir(r), filepath.Base(r)})
	}
	var paths []string
	seen := map[string]bool{}
	for _, pl := range places {
		dir, base := pl[0], pl[1]
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !isTemp(e.Name(), base, entries) {
				continue
			}
			p := filepath.Join(dir, e.Name())
			key, _ := Resolve(p)
			if !seen[key] {
				seen[key] = true
				paths = append(paths, p)
			}
		}
	}
	staging := filepath.Join(given, StagingName)
	if fi, err := os.Lstat(staging); err == nil && fi.IsDir() {
		paths = append(paths, staging)
	}
	ls := make([]Leftover, len(paths))
	for i, p := range paths {
		ls[i] = Leftover{Path: p, Bytes: treeBytes(p)}
	}
	return ls, nil
}

// isTemp reports whether name (in the directory of out, whose base name is base) is one of
// out's temporary names, and not one of a longer sibling's.
func isTemp(name, base string, siblings []os.DirEntry) bool {
	if !tempOf(name, base) {
		return false
	}
	for _, s := range siblings {
		n := s.Name()
		if len(n) > len(base) && strings.HasPrefix(n, base) && tempOf(name, n) {
			return false
		}
	}
	return true
}

func tempOf(name, base string) bool {
	rest, ok := strings.CutPrefix(name, "."+base+".")
	return ok && (rest == "tmp" || strings.HasPrefix(rest, "tmp-") || strings.HasPrefix(rest, "old-"))
}

// treeBytes sums the sizes of the files under p (p itself when it is a file).
func treeBytes(p string) int64 {
	var n int64
	filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// Clean removes out's leftovers (see Leftovers) and returns those it removed. The caller
// holds out's lock: without it, Clean would delete a running run's work.
func Clean(out string) ([]Leftover, error) {
	ls, err := Leftovers(out)
	if err != nil {
		return nil, err
	}
	var removed []Leftover
	var errs []error
	for _, l := range ls {
		if err := os.RemoveAll(l.Path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, l)
	}
	return removed, errors.Join(errs...)
}

// Describe lists leftovers as "PATH (N bytes), ...".
func Describe(ls []Leftover) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s (%d bytes)", l.Path, l.Bytes)
	}
	return strings.Join(parts, ", ")
}

// TotalBytes is the sum of the leftovers' sizes.
func TotalBytes(ls []Leftover) int64 {
	var n int64
	for _, l := range ls {
		n += l.Bytes
	}
	return n
}

// WithLeftovers adds to a failed run's error that leftovers of out remain, when some do
// (after the run removed its own): they may be why it failed, a full disk for one.
func WithLeftovers(err error, out string) error {
	if err == nil {
		return nil
	}
	ls, lerr := Leftovers(out)
	if lerr != nil || len(ls) == 0 {
		return err
	}
	return fmt.Errorf("%w (temporary files of an earlier run remain: %s; `tokenmill clean %s` removes them)", err, Describe(ls), out)
}

// NameOutput returns err with every mention of the temporary paths temps replaced by out,
// the output the user named; errors.Is and errors.As still see err.
func NameOutput(err error, out string, temps ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	named := msg
	for _, t := range temps {
		if t != "" {
			named = strings.ReplaceAll(named, t, filepath.Clean(out))
		}
	}
	if named == msg {
		return err
	}
	return &namedError{err: err, msg: named}
}

type namedError struct {
	err error
	msg string
}

func (e *namedError) Error() string { return e.msg }
func (e *namedError) Unwrap() error { return e.err }

// WriterTemp is the temporary sibling in which formats' dataset and file writers build out
// (`tokenmill convert`, `harmony encode`): .<base>.tmp.
func WriterTemp(out string) string {
	out = filepath.Clean(out)
	return filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp")
}

// Guard prepares a run that writes out from inputs, whatever the command (a job, convert,
// harmony encode): it takes out's lock, refuses an out that overlaps an input or may not be
// replaced (Check), and removes what killed runs into out left (Clean), returning what it
// removed for the caller to say. It holds the lock only when it succeeds; the caller
// releases it once out is published or the run failed.
func Guard(out string, inputs []string, kind Kind, overwrite bool) (*Lock, []Leftover, error) {
	lock, err := Acquire(out)
	if err != nil {
		return nil, nil, err
	}
	if err := Check(out, inputs, kind, overwrite); err != nil {
		lock.Release()
		return nil, nil, err
	}
	removed, err := Clean(out)
	if err != nil {
		lock.Release()
		return nil, removed, fmt.Errorf("output %s: removing the temporary files of an earlier run: %w (remove them, or run `tokenmill clean %s`)", out, err, out)
	}
	return lock, removed, nil
}
