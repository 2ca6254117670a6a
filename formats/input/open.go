package input

import (
	"fmt"
	"os"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/parquet"
)

// Open opens path for reading records. A directory is read as a Hugging Face save_to_disk
// directory (or DatasetDict: every split in order). The compression (gzip, zstd) and, unless
// opt.Format gives it, the format are detected by formats.DetectBytes, content first; a
// format still unknown under a compression is sniffed from the decompressed bytes.
func Open(path string, opt formats.Options) (formats.Reader, error) {
	opt = opt.WithDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() || opt.Format == formats.FormatHF {
		return hf.OpenRecords(path, opt)
	}
	head, err := formats.ReadHead(path)
	if err != nil {
		return nil, err
	}
	d := formats.DetectBytes(head, path)
	format := d.Format
	if opt.Format != formats.FormatAuto {
		format = opt.Format
	}
	switch format {
	case formats.FormatParquet:
		if err := d.CheckReadable(path, format); err != nil {
			return nil, err
		}
		return parquet.Open(path, opt)
	case formats.FormatHF:
		if err := d.CheckReadable(path, format); err != nil {
			return nil, err
		}
		if opt.Range != nil || opt.RowGroups != nil {
			return nil, fmt.Errorf("%s: byte ranges and row groups do not apply to Arrow files", path)
		}
		return hf.OpenFile(path, opt)
	}
	return formats.OpenStream(path, opt)
}

// OpenRows opens path (any format Open reads except plain text) for reading whole records.
// opt.Format forces a format. A directory is an HF save_to_disk directory (or DatasetDict);
// a file with Format FormatHF is one .arrow data file of such a directory, as the planner
// lists them. opt.Range selects the lines of an uncompressed JSONL file that start in it,
// and opt.RowGroups a run of a Parquet file's row groups (rows keep their index in the whole
// file), so that a job shard reads exactly its part.
func OpenRows(path string, opt formats.Options) (formats.RowReader, error) {
	opt = opt.WithDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	format := opt.Format
	if fi.IsDir() {
		format = formats.FormatHF
	} else if format == formats.FormatAuto {
		if format, err = detectFile(path); err != nil {
			return nil, err
		}
	}
	if opt.Range != nil && format != formats.FormatJSONL {
		return nil, fmt.Errorf("%s: byte ranges apply to JSONL records, not %v", path, format)
	}
	if opt.RowGroups != nil && format != formats.FormatParquet {
		return nil, fmt.Errorf("%s: row groups apply to Parquet only", path)
	}
	switch format {
	case formats.FormatHF:
		if !fi.IsDir() {
			return hf.OpenFileRows(path), nil
		}
		return hf.OpenRows(path)
	case formats.FormatParquet:
		return parquet.OpenRows(path, opt.RowGroups)
	}
	return formats.OpenStreamRows(path, format, opt)
}

// detectFile finds the format of a file as Open does (formats.Detect), refusing what no
// reader takes.
func detectFile(path string) (formats.Format, error) {
	d, err := formats.Detect(path)
	if err != nil {
		return 0, err
	}
	if err := d.Unreadable(path); err != nil {
		return 0, err
	}
	return d.Format, nil
}
