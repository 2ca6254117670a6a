package planner

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// ListOptions configures List.
type ListOptions struct {
	// RowGroups returns a Parquet file's row groups (from its footer). Nil: Parquet files are
	// listed without row groups and planned as one shard each.
	RowGroups func(path string) ([]shard.RowGroup, error)
	// Logger receives one warning when the content of listed files contradicts their names
	// (see lister.file); nil: no warning.
	Logger *slog.Logger
}

// List expands the spec's inputs into files, sorted by path. An entry may be:
//   - a file: taken whatever its name; its format comes from the entry, else from its
//     content and its name (formats.DetectBytes: a signature such as Parquet's PAR1 wins over
//     the name, the name over text sniffing); a compressed file whose name does not tell the
//     inner format is listed with format auto, for the reader to tell after decompressing;
//   - a Hugging Face save_to_disk directory (formats.IsHFDir: it holds state.json or
//     dataset_info.json; state.json must be there): its .arrow data files, as
//     state.json lists them (so stray cache files are ignored); a DatasetDict directory (it
//     holds dataset_dict.json): the data files of each of its splits, as package formats
//     reads it;
//   - another directory: the files below it, recursively, whose extensions name a data format
//     (.jsonl, .ndjson, .json, .parquet, .pq, .csv, .txt, .text, .md, each also with .gz,
//     .gzip, .zst or .zstd; with an explicit format, extension-less files too), then detected
//     as a file named by the entry is, skipping names that start
//     with '.' or '_'; HF directories met on the way are taken as above;
//   - a glob, with "**" for any depth: each match as above.
//
// The same rules as package formats' readers, so that the planner and the reader agree on
// what a file is. An entry that yields no file is an error naming it. A file listed by two
// entries with the same format and text field is kept once; with different ones it is an
// error. Files whose content contradicts their names are reported in one warning to
// opts.Logger, with their count and the first of them.
func List(spec *job.Spec, opts ListOptions) ([]shard.Input, error) {
	var all []shard.Input
	var conflicts []string
	for i := range spec.Inputs {
		l, err := listEntry(spec, i, opts)
		if err != nil {
			return nil, fmt.Errorf("inputs[%d].path: %w", i, err)
		}
		all = append(all, l.out...)
		conflicts = append(conflicts, l.conflicts...)
	}
	warnConflicts(opts.Logger, conflicts)
	slices.SortStableFunc(all, func(a, b shard.Input) int { return cmp.Compare(a.Path, b.Path) })
	out := all[:0]
	for _, in := range all {
		if n := len(out); n > 0 && out[n-1].Path == in.Path {
			prev := out[n-1]
			if prev.Format != in.Format || prev.TextField != in.TextField {
				return nil, fmt.Errorf("inputs[%d].path: %s is also listed by inputs[%d] with another format or text field", in.Entry, in.Path, prev.Entry)
			}
			continue
		}
		out = append(out, in)
	}
	return out, nil
}

// ListEntry lists the files of the spec's input entry i as List does, in the order they are
// found rather than sorted: a directory's files in lexical order of each directory, a
// DatasetDict's splits in the order of its dataset_dict.json, glob matches sorted. The CLI
// commands whose records come "in the order of the arguments" (`tokenmill convert`,
// `tokenmill validate`) list their entries so, one by one. Its error names the entry's path
// (not its key, which the command's user did not write); the files whose content
// contradicts their names are reported in one warning to opts.Logger.
func ListEntry(spec *job.Spec, i int, opts ListOptions) ([]shard.Input, error) {
	l, err := listEntry(spec, i, opts)
	if err != nil {
		return nil, err
	}
	warnConflicts(opts.Logger, l.conflicts)
	return l.out, nil
}

// listEntry lists the files of entry i, in the order they are found.
func listEntry(spec *job.Spec, i int, opts ListOptions) (*lister, error) {
	e := spec.Inputs[i]
	l := &lister{entry: i, spec: e, opts: opts}
	p := e.Path
	if hasMeta(e.Path) {
		matches, err := glob(p)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", e.Path, err)
		}
		for _, m := range matches {
			if err := l.add(m, true); err != nil {
				return nil, err
			}
		}
	} else if err := l.add(p, false); err != nil {
		return nil, err
	}
	if len(l.out) == 0 {
		return nil, fmt.Errorf("%q: no input files found", e.Path)
	}
	return l, nil
}

// warnConflicts reports the files whose content contradicts their names in one warning, with
// their count and the first of them.
func warnConflicts(log *slog.Logger, conflicts []string) {
	if len(conflicts) > 0 && log != nil {
		log.Warn("inputs read by their content, which their names contradict", "files", len(conflicts), "first", conflicts[0])
	}
}

type lister struct {
	entry     int
	spec      job.Input
	opts      ListOptions
	out       []shard.Input
	conflicts []string // "PATH: how the content contradicts the name", in listing order
}

// add lists a path named by the entry or matched by its glob.
func (l *lister) add(p string, matched bool) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		if !fi.Mode().IsRegular() {
			if matched {
				return nil
			}
			return fmt.Errorf("%s: not a regular file", p)
		}
		return l.file(p, fi.Size())
	}
	return l.dir(p)
}

// dir lists a directory: an HF dataset, or the data files below it.
func (l *lister) dir(root string) error {
	if formats.IsHFDir(root) {
		return l.hf(root)
	}
	if l.spec.Format == job.FormatHF {
		return fmt.Errorf("%s: format hf needs a save_to_disk directory (with state.json or dataset_dict.json)", root)
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && formats.IsHFDir(p) {
				if err := l.hf(p); err != nil {
					return err
				}
				return filepath.SkipDir
			}
			return nil
		}
		explicit := l.spec.Format != job.FormatAuto
		if !d.Type().IsRegular() || !isDataName(name) && !(explicit && filepath.Ext(name) == "") {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return l.file(p, fi.Size())
	})
}

// hf lists the data files of a save_to_disk directory from its state.json.
func (l *lister) hf(dir string) error {
	if b, err := os.ReadFile(filepath.Join(dir, "dataset_dict.json")); err == nil {
		var dd struct {
			Splits []string `json:"splits"`
		}
		if err := json.Unmarshal(b, &dd); err != nil {
			return fmt.Errorf("%s: %w", filepath.Join(dir, "dataset_dict.json"), err)
		}
		for _, split := range dd.Splits {
			if split == "" || filepath.Base(split) != split || split == ".." {
				return fmt.Errorf("%s: dataset_dict.json: bad split name %q", dir, split)
			}
			if err := l.hf(filepath.Join(dir, split)); err != nil {
				return err
			}
		}
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return err
	}
	var st struct {
		DataFiles []struct {
			Filename string `json:"filename"`
		} `json:"_data_files"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "state.json"), err)
	}
	if len(st.DataFiles) == 0 {
		return fmt.Errorf("%s: state.json lists no data files", dir)
	}
	for _, df := range st.DataFiles {
		if df.Filename == "" || strings.ContainsAny(df.Filename, `/\`) || df.Filename == ".." {
			return fmt.Errorf("%s: state.json: bad data file name %q", dir, df.Filename)
		}
		p := filepath.Join(dir, df.Filename)
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		l.out = append(l.out, shard.Input{Path: p, Entry: l.entry, Format: job.FormatHF,
			Size: fi.Size(), TextField: l.spec.TextField})
	}
	return nil
}

// file lists one file. Its compression is the one formats.DetectBytes tells from the file's
// first formats.HeadLen bytes and its name, content first; its format is the entry's, else
// the detected one (a compressed file whose signature and name do not tell the format under
// the compression is listed with format auto, for the reader to tell after decompressing).
// Every non-empty file's first bytes are read, whatever its name: a Parquet file named .jsonl
// must not be planned as byte ranges of JSON Lines. A detection that contradicts the name is
// recorded in l.conflicts.
func (l *lister) file(p string, size int64) error {
	var head []byte
	if size > 0 {
		var err error
		if head, err = formats.ReadHead(p); err != nil {
			return err
		}
	}
	d := formats.DetectBytes(head, p)
	format := l.spec.Format
	if format == job.FormatAuto {
		if err := d.Unreadable(p); err != nil {
			return err
		}
		format = job.Format(d.Format.String())
		if d.Conflict != "" {
			l.conflicts = append(l.conflicts, p+": "+d.Conflict)
		}
	}
	in := shard.Input{Path: p, Entry: l.entry, Format: format, Compression: compressionOf(d.Compression), Size: size, TextField: l.spec.TextField}
	if format == job.FormatParquet && l.opts.RowGroups != nil {
		rgs, err := l.opts.RowGroups(p)
		if err != nil {
			return namedErr(p, err)
		}
		in.RowGroups = rgs
	}
	l.out = append(l.out, in)
	return nil
}

// namedErr is err naming path: as it is when it already does (the readers' errors name their
// file), else prefixed with path.
func namedErr(path string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}
