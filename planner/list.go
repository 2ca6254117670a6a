package planner

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tokenmill/tokenmill/job"
)

// ListOptions configures List.
type ListOptions struct {
	// BaseDir resolves relative input paths (e.g. the directory of the job file); "" means the
	// current directory. Listed paths are BaseDir joined with the spec's path.
	BaseDir string
	// RowGroups returns a Parquet file's row groups (from its footer). Nil: Parquet files are
	// listed without row groups and planned as one shard each.
	RowGroups func(path string) ([]RowGroup, error)
}

// List expands the spec's inputs into files, sorted by path. An entry may be:
//   - a file: taken whatever its name; its format comes from the entry, else from its
//     extensions (DetectByName), else from its first bytes (DetectByMagic); a compressed file
//     whose name does not tell the inner format is listed with format auto, for the reader to
//     tell after decompressing;
//   - a Hugging Face save_to_disk directory (it holds state.json): its .arrow data files, as
//     state.json lists them (so stray cache files are ignored); a DatasetDict directory (it
//     holds dataset_dict.json): the data files of each of its splits, as package formats
//     reads it;
//   - another directory: the files below it, recursively, whose extensions name a data format
//     (.jsonl, .ndjson, .json, .parquet, .pq, .csv, .txt, .text, .md, each also with .gz or
//     .zst; with an explicit format, extension-less files too), skipping names that start
//     with '.' or '_'; HF directories met on the way are taken as above;
//   - a glob, with "**" for any depth: each match as above.
//
// The same rules as package formats' readers, so that the planner and the reader agree on
// what a file is. An entry that yields no file is an error naming it. A file listed by two
// entries with the same format and text field is kept once; with different ones it is an
// error.
func List(spec *job.Spec, opts ListOptions) ([]Input, error) {
	var all []Input
	for i, e := range spec.Inputs {
		key := fmt.Sprintf("inputs[%d].path", i)
		l := lister{entry: i, spec: e, opts: opts}
		p := e.Path
		if opts.BaseDir != "" && !filepath.IsAbs(p) {
			p = filepath.Join(opts.BaseDir, p)
		}
		if hasMeta(e.Path) {
			matches, err := glob(p)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", key, e.Path, err)
			}
			for _, m := range matches {
				if err := l.add(m, true); err != nil {
					return nil, fmt.Errorf("%s: %w", key, err)
				}
			}
		} else if err := l.add(p, false); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		if len(l.out) == 0 {
			return nil, fmt.Errorf("%s: %q: no input files found", key, e.Path)
		}
		all = append(all, l.out...)
	}
	slices.SortStableFunc(all, func(a, b Input) int { return cmp.Compare(a.Path, b.Path) })
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

type lister struct {
	entry int
	spec  job.Input
	opts  ListOptions
	out   []Input
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
	if isHF(root) {
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
			if p != root && isHF(p) {
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

func isHF(dir string) bool {
	return isFile(filepath.Join(dir, "state.json")) || isFile(filepath.Join(dir, "dataset_dict.json"))
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
		l.out = append(l.out, Input{Path: p, Entry: l.entry, Format: job.FormatHF,
			Size: fi.Size(), TextField: l.spec.TextField})
	}
	return nil
}

// file lists one file, resolving its format and compression; it reads the file's first bytes
// when the name tells neither the format nor the compression.
func (l *lister) file(p string, size int64) error {
	nameFormat, comp := DetectByName(p)
	format := l.spec.Format
	if format == job.FormatAuto {
		format = nameFormat
	}
	if (format == "" || comp == CompressionNone && nameFormat == "") && size > 0 {
		head, err := readHead(p)
		if err != nil {
			return err
		}
		mf, mc := DetectByMagic(head)
		if comp == CompressionNone {
			comp = mc
		}
		if format == "" {
			format = mf
		}
	}
	switch {
	case format == "" && comp != CompressionNone:
		format = job.FormatAuto // the reader tells, after decompressing
	case format == "":
		format = job.FormatText // an empty file of unknown format: nothing to read
	}
	in := Input{Path: p, Entry: l.entry, Format: format, Compression: comp, Size: size, TextField: l.spec.TextField}
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

func readHead(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return head[:n], nil
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// namedErr is err naming path: as it is when it already does (the readers' errors name their
// file), else prefixed with path.
func namedErr(path string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}
