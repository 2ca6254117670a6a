package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/tokenizer"
	"github.com/tokenmill/tokenmill/validate"
)

// layoutStage is one row of the data formats document's overview table: where a stage's
// data lives under data/.
type layoutStage struct {
	stage validate.Stage
	dir   string // relative to the data directory
}

// dataLayout returns the overview table, in the document's order. LoRA data is one directory per
// domain (data/domain/<name>/{train,val}); the walk below finds them all.
func dataLayout() []layoutStage {
	return []layoutStage{
		{validate.StagePretrain, "packed"},
		{validate.StageSFT, "sft"},
		{validate.StageDPO, "dpo"},
		{validate.StageLoRA, "domain"},
		{validate.StageRustLang, "rust/lang_rust"},
		{validate.StageRustAgent, "rust/core_agent"},
		{validate.StageMutations, "rust/mutations"},
		{validate.StageIPO, "rust/ipo"},
		{validate.StageGRPO, "rust/grpo"},
		{validate.StageEval, "rust/eval"},
	}
}

// layoutResult is the outcome of one stage of a layout check. Inputs that could not be read
// (and a stage directory that could not be listed) are read errors of its report.
type layoutResult struct {
	stage  validate.Stage
	dir    string
	inputs []string
	rep    *validate.Report
}

// validateLayout checks every stage directory that exists under root (root itself or
// root/data, whichever holds the stage directories). Absent stage directories are skipped
// and listed as such: a project need not have every stage.
func validateLayout(root string, tk *tokenizer.Tokenizer, maxErrors int, asJSON bool, out, stderr io.Writer) int {
	dataDir := root
	if fi, err := os.Stat(filepath.Join(root, "data")); err == nil && fi.IsDir() {
		dataDir = filepath.Join(root, "data")
	}
	if fi, err := os.Stat(dataDir); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "tokenmill validate: %s is not a directory\n", root)
		return exitUnreadable
	}
	code := exitValid
	var results []layoutResult
	for _, ls := range dataLayout() {
		dir := filepath.Join(dataDir, filepath.FromSlash(ls.dir))
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		res := layoutResult{stage: ls.stage, dir: dir, rep: validate.NewReport(ls.stage, maxErrors)}
		inputs, _, err := stageInputs(dir)
		if err != nil {
			res.rep.AddReadError(validate.ReadError{File: dir, Message: err.Error()})
			fmt.Fprintln(stderr, "tokenmill validate:", err)
		}
		res.inputs = inputs
		if len(inputs) > 0 {
			r, err := validateFiles(ls.stage, inputs, tk, maxErrors, stderr)
			if err != nil {
				fmt.Fprintln(stderr, "tokenmill validate:", err)
				return exitUnreadable
			}
			res.rep.Merge(r)
		}
		code = worse(code, reportStatus(res.rep))
		results = append(results, res)
	}
	if asJSON {
		writeLayoutJSON(out, root, results)
	} else {
		writeLayoutText(out, dataDir, results)
	}
	return code
}

func writeLayoutText(out io.Writer, dataDir string, results []layoutResult) {
	if len(results) == 0 {
		fmt.Fprintf(out, "no stage directories under %s\n", dataDir)
	}
	for i, r := range results {
		if i > 0 {
			fmt.Fprintln(out)
		}
		fmt.Fprintf(out, "== %s: %s (%d inputs)\n", r.stage, r.dir, len(r.inputs))
		r.rep.WriteText(out)
	}
}

// writeLayoutJSON prints {"layout": DIR, "stages": [{"stage", "dir", "inputs", "report"}]}
// in the document's stage order; inputs that could not be read are the read_errors of their
// stage's report.
func writeLayoutJSON(out io.Writer, root string, results []layoutResult) {
	type stageJSON struct {
		Stage  validate.Stage   `json:"stage"`
		Dir    string           `json:"dir"`
		Inputs []string         `json:"inputs"`
		Report *validate.Report `json:"report"`
	}
	v := struct {
		Layout string      `json:"layout"`
		Stages []stageJSON `json:"stages"`
	}{Layout: root, Stages: []stageJSON{}}
	for _, r := range results {
		s := stageJSON{Stage: r.stage, Dir: r.dir, Inputs: r.inputs, Report: r.rep}
		if s.Inputs == nil {
			s.Inputs = []string{}
		}
		v.Stages = append(v.Stages, s)
	}
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// stageInputs lists the datasets under a directory, sorted: the directory itself when it is
// an HF dataset (or DatasetDict), else every HF directory and record file below it; skipped
// lists the other files (hidden ones aside), which validate does not read.
func stageInputs(dir string) (inputs, skipped []string, err error) {
	if formats.IsHFDir(dir) {
		return []string{dir}, nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		switch {
		case strings.HasPrefix(e.Name(), "."):
			// Hidden: a writer's temporary directory or editor files.
		case e.IsDir():
			in, sk, err := stageInputs(p)
			inputs, skipped = append(inputs, in...), append(skipped, sk...)
			if err != nil {
				return inputs, skipped, err
			}
		case isRecordFile(e.Name()):
			inputs = append(inputs, p)
		default:
			skipped = append(skipped, p)
		}
	}
	return inputs, skipped, nil
}

// recordFileKinds names the record files isRecordFile takes, for messages.
const recordFileKinds = ".jsonl, .ndjson, .json, .parquet, .pq, .csv, each also .gz, .gzip, .zst or .zstd"

// isRecordFile reports whether a file name is one of the record formats validate reads, by
// its extensions (formats.DetectName: .jsonl, .ndjson, .json, .parquet, .pq, .csv, each also
// compressed); the readers then detect the format from the content.
func isRecordFile(name string) bool {
	f, _, known := formats.DetectName(name)
	switch f {
	case formats.FormatJSONL, formats.FormatAuto, formats.FormatParquet, formats.FormatCSV:
		return known
	}
	return false
}
