package inspect

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/shard"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// Options control one Inspect call.
type Options struct {
	// Tokenizer decodes token data with this tokenizer (a built-in name or a path) instead of
	// the one manifest.json names. The notes and labels call it --tokenizer, the flag of
	// `tokenmill inspect` that sets it.
	Tokenizer string
	// Full makes WriteText print whole samples and the whole decoded text; WriteJSON always
	// writes values whole.
	Full bool
}

// Inspection is what Inspect found about one path. WriteText and WriteJSON are two renderings
// of it, so they carry the same facts. The JSON names of the fields are listed in the package
// documentation.
type Inspection struct {
	Path string `json:"path"`
	// Kind is job, hf, hf_dict, npy, jsonl, json, csv, parquet, arrow or text.
	Kind     string   `json:"kind"`
	Columns  []Column `json:"columns,omitempty"`
	Shape    []int64  `json:"shape,omitempty"` // .npy only
	DType    string   `json:"dtype,omitempty"` // .npy only
	Examples int64    `json:"examples"`
	// Malformed counts records that could not be decoded (JSON and CSV inputs).
	Malformed int64 `json:"malformed,omitempty"`
	// First is the first example: a row object (map[string]any), or the first row of a .npy
	// array ([]int64).
	First any `json:"first,omitempty"`
	// TokenColumn is the column holding token ids ("input_ids"), empty for a .npy.
	TokenColumn string `json:"token_column,omitempty"`
	// Tokenizer names the tokenizer Text was decoded with and where it came from.
	Tokenizer string `json:"tokenizer,omitempty"`
	// Tokens is the length of the decoded sequence.
	Tokens int    `json:"tokens,omitempty"`
	Text   string `json:"text,omitempty"`
	// TextNote says why token data was not decoded.
	TextNote string `json:"text_note,omitempty"`
	// Notes are other remarks: a 1-D array, the first malformed record, column types that
	// could not be unified, a content that contradicts the file's name.
	Notes []string `json:"notes,omitempty"`
	// DataFiles is the number of .arrow files of an HF dataset.
	DataFiles int `json:"data_files,omitempty"`
	// Bucket and Check are set on the outputs of a job: which bucket of the manifest the output
	// belongs to, and whether what was found agrees with it ("ok" or what differs).
	Bucket *Bucket `json:"bucket,omitempty"`
	Check  string  `json:"check,omitempty"`
	// Detailed is set on the parts whose first example (and text) were read.
	Detailed bool `json:"detailed,omitempty"`
	// Error is set on a part that could not be read.
	Error string `json:"error,omitempty"`
	// Parts are the splits of a DatasetDict or the outputs of a job.
	Parts []*Inspection `json:"parts,omitempty"`
	// Job is the manifest summary of a job output.
	Job *Job `json:"job,omitempty"`

	schema    *arrow.Schema // the Arrow types of First, for WriteText's Python-style rendering
	firstKeys []string      // First's keys in column order
	full      bool          // Options.Full
}

// Column is one column and its type, spelled as the datasets features name it.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Bucket is the manifest entry a job output belongs to.
type Bucket struct {
	Split     string `json:"split"`
	SeqLen    int    `json:"seq_len"`
	Sequences int64  `json:"sequences"`
}

// Job is the part of a job's manifest.json that an inspection reports.
type Job struct {
	Name          string              `json:"name"`
	Fingerprint   string              `json:"fingerprint"`
	FormatVersion int                 `json:"format_version"`
	Tokenizer     shard.TokenizerInfo `json:"tokenizer"`
	DType         string              `json:"dtype"`
	Documents     shard.Counts        `json:"documents"`
	Tokens        shard.Tokens        `json:"tokens"`
	Rejects       shard.RejectsInfo   `json:"rejects"`
	Inputs        []shard.InputInfo   `json:"inputs"`
}

// inspector holds one Inspect call's options and the tokenizers it loaded (a cache scoped to
// the call: a job's buckets all decode with the same tokenizer).
type inspector struct {
	opt      Options
	loaded   map[string]*tokenizer.Tokenizer
	loadErrs map[string]error
}

// Inspect reads path: a job output directory (manifest.json), a Hugging Face save_to_disk or
// DatasetDict directory, a .npy file, or a record file (JSONL, .gz, .zst, JSON array, CSV,
// Parquet, Arrow IPC stream, text), whose format formats.Detect finds by content. The error
// is for path itself; a part of a job or DatasetDict that cannot be read has its Error set.
func Inspect(path string, opt Options) (*Inspection, error) {
	in := &inspector{opt: opt, loaded: map[string]*tokenizer.Tokenizer{}, loadErrs: map[string]error{}}
	res, err := in.inspect(path)
	if err != nil {
		return nil, err
	}
	res.setFull(opt.Full)
	return res, nil
}

// setFull records Options.Full on res and its parts for WriteText.
func (res *Inspection) setFull(full bool) {
	res.full = full
	for _, p := range res.Parts {
		p.setFull(full)
	}
}

// inspect dispatches on what path is.
func (in *inspector) inspect(path string) (*Inspection, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		switch {
		case fileExists(filepath.Join(path, "manifest.json")):
			return in.inspectJob(path)
		case fileExists(filepath.Join(path, "dataset_dict.json")):
			return in.inspectDict(path)
		case formats.IsHFDir(path):
			return in.inspectHF(path, true, manifestNear(path))
		}
		return nil, errors.New("a directory without manifest.json (job output), dataset_dict.json (DatasetDict) or state.json (HF dataset)")
	}
	if strings.HasSuffix(strings.ToLower(path), ".npy") {
		return in.inspectNpy(path, true, manifestNear(filepath.Dir(path)))
	}
	return in.inspectRecords(path)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// manifestNear returns the manifest.json of dir or of its parent, where a job keeps it next to
// its HF directories and .npy files; "" when there is none.
func manifestNear(dir string) string {
	for _, d := range []string{dir, filepath.Dir(filepath.Clean(dir))} {
		if p := filepath.Join(d, "manifest.json"); fileExists(p) {
			return p
		}
	}
	return ""
}

func readManifest(path string) (*shard.Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m shard.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &m, nil
}
