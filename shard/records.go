package shard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/input"
	"github.com/tokenmill/tokenmill/formats/parquet"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/internal/atomicfile"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/validate"
)

// Validate and convert jobs (job.KindValidate, job.KindConvert) look at whole records rather
// than one text field. They share the planner's shards with pretraining (byte ranges of plain
// JSONL, row-group runs of Parquet, whole other files) but have their own executor and
// finalize:
//
//	ExecuteRecords(ctx, spec, env) -> RecordsResult              // small, JSON-serialisable
//	FinalizeRecords(ctx, job, shards, results, env) -> RecordsManifest
//
// A validate shard checks its records (validate.CheckRows, as `tokenmill validate` does) and
// reports a validate.Partial: counts, issues by message and its first max_errors errors.
// Finalize merges the partials in shard order, which gives the report of one sequential pass
// whatever the sharding, and writes report.json (the `tokenmill validate --json` object),
// report.txt (its human form), manifest.json and run.json.
//
// A convert shard decodes its records, fails on the first that is not a JSON object (with its
// location: conversion never drops data), and infers the Arrow schema of its records.
// Finalize merges the shards' schemas in shard order into the one schema of the output, then
// reads the shards again, in order, and writes every record through one writer: output.dir is
// the HF save_to_disk directory (to: hf), or holds data.jsonl or data.parquet. The two passes
// are those of `tokenmill convert`, and so are the output bytes; writing is sequential because
// an HF directory or a Parquet file is one stream whose file names and row groups depend on
// what came before.

// RecordsResult is what one successful shard attempt of a validate or convert job reports.
type RecordsResult struct {
	Shard   string `json:"shard"`
	Index   int    `json:"index"`
	Attempt int    `json:"attempt"`
	Source  string `json:"source"`
	Bytes   int64  `json:"bytes"`
	Records int64  `json:"records"`
	// Report is the shard's partial validation report (validate jobs).
	Report *validate.Partial `json:"report,omitempty"`
	// Schema is the Arrow schema inferred from the shard's records, as an Arrow IPC stream
	// holding the schema alone (convert jobs).
	Schema []byte `json:"schema,omitempty"`
	// FirstLine and Lines are Result's: with FirstLine 0 the line numbers of Report's errors
	// count from the shard's first line, and FinalizeRecords shifts them.
	FirstLine int64 `json:"first_line,omitempty"`
	Lines     int64 `json:"lines,omitempty"`
	// Input is Result's: the digest of the part of its file the shard owns.
	Input InputDigest `json:"input"`
}

// ExecuteRecords runs one shard of a validate or convert job. It writes nothing: the result
// holds everything finalize needs. An unreadable or corrupt input fails the shard with an error
// naming the file and position.
func ExecuteRecords(ctx context.Context, spec Spec, env Env) (res RecordsResult, err error) {
	res = RecordsResult{Shard: spec.ID, Index: spec.Index, Attempt: env.Attempt, Source: spec.Path,
		Bytes: PlannedBytes(spec), FirstLine: firstLineOf(spec)}
	defer func() {
		if err != nil {
			err = shardErr(spec, err)
		}
	}()
	if spec.Kind == KindFiles { // the planner groups files for pretraining only
		return res, fmt.Errorf("a %s job's shard reads one file, not %d", env.Job.Kind, len(spec.Files))
	}
	rr, err := openShardRows(spec, recordLimit(env.Job), 0)
	if err != nil {
		return res, err
	}
	defer rr.Close()
	switch env.Job.Kind {
	case job.KindValidate:
		err = validateShard(ctx, rr, env, &res)
	case job.KindConvert:
		err = inferShard(ctx, rr, lineLocator(spec), &res)
	default:
		err = fmt.Errorf("ExecuteRecords: a %s job", env.Job.Kind)
	}
	if err != nil {
		return RecordsResult{}, err
	}
	res.Lines = linesRead(rr)
	if res.Input, err = digestInput(spec, rr); err != nil {
		return RecordsResult{}, err
	}
	if pr := env.Progress; pr != nil {
		pr.Bytes.Add(res.Bytes)
		pr.Documents.Add(res.Records)
		if res.Report != nil {
			pr.Rejected.Add(int64(res.Report.Records - res.Report.Valid))
		}
		pr.Shards.Add(1)
	}
	return res, nil
}

// shardErr names the shard's file when the error does not already. The shard's id is left
// out: the file and the position in it are what a user can act on.
func shardErr(spec Spec, err error) error { return namedErr(spec.Path, err) }

// namedErr is err naming path: as it is when it already does (the readers' errors name their
// file and position), else prefixed with path.
func namedErr(path string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

// openShardRows opens the whole records of a shard's part of its file; firstLine is as for
// shardRange.
func openShardRows(spec Spec, maxRecord, firstLine int64) (formats.RowReader, error) {
	opt := formats.Options{MaxRecord: maxRecord}
	if spec.Format != job.FormatAuto {
		f, err := formats.ParseFormat(string(spec.Format))
		if err != nil {
			return nil, err
		}
		opt.Format = f
	}
	switch spec.Kind {
	case KindBytes:
		opt.Range = shardRange(spec, firstLine)
	case KindRowGroups:
		opt.RowGroups = &formats.RowGroups{Start: spec.RowGroupStart, End: spec.RowGroupEnd}
	}
	return input.OpenRows(spec.Path, opt)
}

func validateShard(ctx context.Context, rr formats.RowReader, env Env, res *RecordsResult) error {
	stage, err := validate.ParseStage(env.Job.Stage)
	if err != nil {
		return err
	}
	var opt validate.Options
	if env.Tokenizer != nil {
		opt.VocabSize = env.Tokenizer.VocabSize()
	}
	rep := validate.NewReport(stage, env.Job.MaxErrors)
	if err := validate.CheckRows(ctx, rep, stage, rr, opt); err != nil {
		return err
	}
	p := rep.Partial()
	res.Report, res.Records = &p, int64(rep.Records())
	return nil
}

func inferShard(ctx context.Context, rr formats.RowReader, locate func(formats.Row) string, res *RecordsResult) error {
	var sb table.SchemaBuilder
	var seen *arrow.Schema
	err := eachObject(ctx, rr, locate, func(row formats.Row, m map[string]any) error {
		if s := rr.Schema(); s != nil && s != seen {
			// Arrow inputs: their declared types count, even of columns that are all null.
			if err := sb.AddSchema(s); err != nil {
				return err
			}
			seen = s
		}
		res.Records++
		return sb.AddRecord(m, row.Keys, row.Order)
	})
	if err != nil {
		return err
	}
	res.Schema, err = encodeSchema(sb.Schema())
	return err
}

// eachObject calls fn for every row of rr, failing on a row that is not a JSON object, with
// its location (by locate), as `tokenmill convert` does.
func eachObject(ctx context.Context, rr formats.RowReader, locate func(formats.Row) string, fn func(formats.Row, map[string]any) error) error {
	return formats.EachRow(ctx, rr, func(row formats.Row) error {
		if row.Err != nil {
			return fmt.Errorf("%s: %v", locate(row), row.Err)
		}
		m, ok := row.Value.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: record is not a JSON object", locate(row))
		}
		if err := fn(row, m); err != nil {
			return fmt.Errorf("%s: %w", locate(row), err)
		}
		return nil
	})
}

// encodeSchema serialises a schema as an Arrow IPC stream without batches: the exact types
// (nested fields, nullability) survive the trip to the coordinator.
func encodeSchema(s *arrow.Schema) ([]byte, error) {
	var b bytes.Buffer
	w := ipc.NewWriter(&b, ipc.WithSchema(s), ipc.WithAllocator(memory.DefaultAllocator))
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encoding the schema: %w", err)
	}
	return b.Bytes(), nil
}

func decodeSchema(b []byte) (*arrow.Schema, error) {
	// A shard's result comes from a worker: its schema is read with the size checks of
	// formats' Arrow readers.
	r, err := hf.NewStreamReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("decoding a shard schema: %w", err)
	}
	defer r.Release()
	return r.Schema(), nil
}

// RecordsManifest is manifest.json of a validate or convert job: what it read and wrote. Like
// the pretraining manifest, its bytes depend on the inputs and the job spec only.
type RecordsManifest struct {
	FormatVersion  int             `json:"format_version"`
	Kind           job.Kind        `json:"kind"`
	Job            json.RawMessage `json:"job"` // the canonical JSON of the spec
	JobFingerprint string          `json:"job_fingerprint"`
	Inputs         []InputInfo     `json:"inputs"`
	Shards         int             `json:"shards"`
	Records        int64           `json:"records"`
	// Valid and Invalid count the records of a validate job.
	Valid   *int64 `json:"valid,omitempty"`
	Invalid *int64 `json:"invalid,omitempty"`
	// Outputs are the files written, relative to the output directory (manifest.json and
	// run.json aside).
	Outputs []string `json:"outputs"`
	// Report is the merged report of a validate job, for the caller; it is in report.json.
	Report *validate.Report `json:"-"`
}

// Output names of validate and convert jobs, relative to output.dir.
const (
	ReportJSONName = "report.json"
	ReportTextName = "report.txt"
)

// FinalizeRecords merges the results of a validate or convert job (one per shard of the plan
// shards, any order) in shard order and publishes the job's output directory, replacing it
// only with env.Overwrite (see CheckOutput); its errors name the output directory where they
// concern the temporary one. env.Tokenizer, env.StagingDir and env.Workers are unused.
func FinalizeRecords(ctx context.Context, spec *job.Spec, shards []Spec, results []RecordsResult, env FinalizeEnv) (m *RecordsManifest, err error) {
	defer func() { err = namedOutput(err, env.OutDir, env.tempID(spec.Name)) }()
	rs := append([]RecordsResult(nil), results...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Index < rs[j].Index })
	if len(rs) != len(shards) {
		return nil, fmt.Errorf("finalize: %d results for %d shards", len(rs), len(shards))
	}
	for i := range rs {
		if rs[i].Index != i || rs[i].Shard != shards[i].ID {
			return nil, fmt.Errorf("finalize: shard results are not one per shard: position %d holds shard %s", i, rs[i].Shard)
		}
	}
	canon, err := spec.CanonicalJSON()
	if err != nil {
		return nil, err
	}
	fp, err := spec.Fingerprint()
	if err != nil {
		return nil, err
	}
	m = &RecordsManifest{FormatVersion: ManifestVersion, Kind: spec.Kind, Job: canon, JobFingerprint: fp,
		Inputs: []InputInfo{}, Shards: len(rs), Outputs: []string{}}
	digests := make([]shardDigest, len(rs))
	for i, r := range rs {
		m.Records += r.Records
		digests[i] = shardDigest{shard: r.Shard, source: r.Source, input: r.Input}
	}
	if m.Inputs, err = inputInfos(env.Inputs, digests); err != nil {
		return nil, err
	}
	if err := CheckOutput(spec, env.OutDir, env.Inputs, env.Overwrite); err != nil {
		return nil, err
	}
	tmp := tempSibling(env.OutDir, "tmp", env.tempID(spec.Name))
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	spans := make([]lineSpan, len(rs))
	for i, r := range rs {
		spans[i] = lineSpan{source: r.Source, firstLine: r.FirstLine, lines: r.Lines}
	}
	shifts := lineShifts(spans)
	switch spec.Kind {
	case job.KindValidate:
		err = finalizeValidate(spec, rs, shifts, tmp, m)
	case job.KindConvert:
		err = finalizeConvert(ctx, spec, shards, rs, shifts, tmp, m)
	default:
		err = fmt.Errorf("FinalizeRecords: a %s job", spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	if err := writeMetaAndPublish(tmp, spec, env, m); err != nil {
		return nil, err
	}
	return m, nil
}

// finalizeValidate merges the shards' partial reports, with the error lines of relative
// shards shifted by shifts.
func finalizeValidate(spec *job.Spec, rs []RecordsResult, shifts []int64, tmp string, m *RecordsManifest) error {
	stage, err := validate.ParseStage(spec.Stage)
	if err != nil {
		return err
	}
	rep := validate.NewReport(stage, spec.MaxErrors)
	for i, r := range rs {
		if r.Report == nil {
			return fmt.Errorf("finalize: shard %s has no validation report", r.Shard)
		}
		p, err := shiftPartial(*r.Report, r.Source, shifts[i])
		if err != nil {
			return fmt.Errorf("finalize: shard %s: %w", r.Shard, err)
		}
		rep.MergePartial(p)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	var txt bytes.Buffer
	rep.WriteText(&txt)
	for _, f := range []struct {
		name string
		data []byte
	}{{ReportJSONName, append(rep.JSON(), '\n')}, {ReportTextName, txt.Bytes()}} {
		if err := atomicfile.WriteFile(filepath.Join(tmp, f.name), f.data); err != nil {
			return err
		}
	}
	valid, invalid := int64(rep.Valid()), int64(rep.Invalid())
	m.Valid, m.Invalid, m.Report = &valid, &invalid, rep
	m.Outputs = []string{ReportJSONName, ReportTextName}
	return nil
}

// finalizeConvert writes the records of every shard, in order, through one writer; the
// shards are read with their absolute first line (from shifts), so that an error names it.
func finalizeConvert(ctx context.Context, spec *job.Spec, shards []Spec, rs []RecordsResult, shifts []int64, tmp string, m *RecordsManifest) (err error) {
	var sb table.SchemaBuilder
	for _, r := range rs {
		s, err := decodeSchema(r.Schema)
		if err != nil {
			return fmt.Errorf("finalize: shard %s: %w", r.Shard, err)
		}
		if err := sb.AddSchema(s); err != nil {
			return fmt.Errorf("finalize: the records of shard %s (%s) do not fit those before: %w", r.Shard, r.Source, err)
		}
	}
	schema := sb.Schema()
	var w table.Writer
	switch spec.To {
	case job.ConvertHF:
		// The HF writer builds tmp itself (under its own temporary name) on Close.
		w, err = hf.CreateTable(tmp, schema, hf.Options{})
	case job.ConvertJSONL, job.ConvertParquet:
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return err
		}
		name := "data." + string(spec.To)
		m.Outputs = []string{name}
		if spec.To == job.ConvertJSONL {
			w, err = table.CreateJSONL(filepath.Join(tmp, name), schema)
		} else {
			w, err = parquet.Create(filepath.Join(tmp, name), schema)
		}
	default:
		err = fmt.Errorf("to: unknown output %q", spec.To)
	}
	if err != nil {
		return err
	}
	for i, sh := range shards {
		err := func() error {
			first := int64(0)
			if rs[i].FirstLine <= 0 && sh.Kind == KindBytes {
				first = shifts[i] + 1
			}
			rr, err := openShardRows(sh, 0, first)
			if err != nil {
				return err
			}
			defer rr.Close()
			return eachObject(ctx, rr, validate.Locate, func(_ formats.Row, rec map[string]any) error { return w.WriteRecord(rec) })
		}()
		if err != nil {
			w.Abort()
			return fmt.Errorf("finalize: %w", shardErr(shards[i], err))
		}
	}
	if w.Rows() != m.Records {
		w.Abort()
		return fmt.Errorf("finalize: read %d records, the shards counted %d: an input changed during the job", w.Rows(), m.Records)
	}
	if err := w.Close(); err != nil {
		return err
	}
	if spec.To == job.ConvertHF {
		entries, err := os.ReadDir(tmp)
		if err != nil {
			return err
		}
		for _, e := range entries {
			m.Outputs = append(m.Outputs, e.Name())
		}
	}
	return nil
}
