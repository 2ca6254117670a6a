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
// They are the one implementation of validating and converting: `tokenmill validate` and
// `tokenmill convert` are jobs of these kinds (see runner.Publish), which use the two steps
// FinalizeRecords is made of, MergeReport and WriteConverted, without publishing a job
// directory.
//
// A validate shard checks its records (validate.CheckRows) and reports a validate.Partial:
// counts, issues by message and its first max_errors errors. MergeReport merges the partials
// in shard order, which gives the report of one sequential pass whatever the sharding;
// finalize writes it as report.json (the `tokenmill validate --json` object) and report.txt
// (its human form), with manifest.json and run.json. With Env.KeepReadErrors a shard whose
// input breaks off reports where instead of failing, and the report lists it.
//
// A convert shard decodes its records, fails on the first that is not a JSON object (with its
// location: conversion never drops data), and infers the Arrow schema of its records.
// WriteConverted merges the shards' schemas in shard order into the one schema of the output
// (a shard that does not fit those before is read again to name the record that does not),
// then reads the shards again, in order, and writes every record through one writer: a job's
// output.dir is the HF save_to_disk directory (to: hf), or holds data.jsonl or data.parquet.
// Writing is sequential because an HF directory or a Parquet file is one stream whose file
// names and row groups depend on what came before.

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
	// Unread says where reading the shard's part of its file stopped, with Env.KeepReadErrors
	// (validate jobs): Records and Line count from the shard's start when FirstLine is 0, and
	// MergeReport makes them the file's.
	Unread *validate.ReadError `json:"unread,omitempty"`
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
	if err != nil && env.KeepReadErrors && env.Job.Kind == job.KindValidate {
		res.Report, res.Unread = emptyPartial(env.Job), &validate.ReadError{File: spec.Path, Message: err.Error()}
		return res, nil
	}
	if err != nil {
		return res, err
	}
	defer rr.Close()
	switch env.Job.Kind {
	case job.KindValidate:
		err = validateShard(ctx, rr, spec, env, &res)
		if res.Unread != nil {
			return res, err // the reader broke off: its digest and line count mean nothing
		}
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

// validateShard checks the shard's records into res.Report. An input that breaks off fails
// the shard, or with env.KeepReadErrors is res.Unread.
func validateShard(ctx context.Context, rr formats.RowReader, spec Spec, env Env, res *RecordsResult) error {
	stage, err := validate.ParseStage(env.Job.Stage)
	if err != nil {
		return err
	}
	var opt validate.Options
	if env.Tokenizer != nil {
		opt.VocabSize = env.Tokenizer.VocabSize()
	}
	rep := validate.NewReport(stage, env.Job.MaxErrors)
	tr := &trackedRows{RowReader: rr}
	err = validate.CheckRows(ctx, rep, stage, tr, opt)
	if err != nil && (!env.KeepReadErrors || ctx.Err() != nil) {
		return err
	}
	if err != nil {
		e := tr.readError(spec.Path, err)
		res.Unread = &e
	}
	p := rep.Partial()
	res.Report, res.Records = &p, int64(rep.Records())
	return nil
}

// emptyPartial is the report of a shard that read no record.
func emptyPartial(spec *job.Spec) *validate.Partial {
	p := validate.NewReport("", spec.MaxErrors).Partial()
	return &p
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
// its location (by locate).
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
	rs, err := inShardOrder(shards, results)
	if err != nil {
		return nil, err
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
	switch spec.Kind {
	case job.KindValidate:
		err = finalizeValidate(spec, rs, tmp, m)
	case job.KindConvert:
		err = finalizeConvert(ctx, spec, shards, rs, tmp, m)
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

// inShardOrder returns the results (one per shard of shards, any order) sorted in shard
// order, and an error when they are not one per shard.
func inShardOrder(shards []Spec, results []RecordsResult) ([]RecordsResult, error) {
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
	return rs, nil
}

// recordsShifts returns, for results in shard order, what to add to each shard's line
// numbers (see lineShifts).
func recordsShifts(rs []RecordsResult) []int64 {
	spans := make([]lineSpan, len(rs))
	for i, r := range rs {
		spans[i] = lineSpan{source: r.Source, firstLine: r.FirstLine, lines: r.Lines}
	}
	return lineShifts(spans)
}

// MergeReport merges the partial reports of a validate job's shards (results: one per shard
// of shards, any order) in shard order into the job's report, with the error lines of shards
// that numbered from their own start made the file's. That is the report of one sequential
// pass over the inputs, whatever the sharding. A shard whose reading broke off
// (RecordsResult.Unread) adds a read error saying where in its file, after how many of the
// file's records; the later shards of that file are left out, as a sequential pass stops
// there. FinalizeRecords writes the report of a job; `tokenmill validate` prints it.
func MergeReport(spec *job.Spec, shards []Spec, results []RecordsResult) (*validate.Report, error) {
	rs, err := inShardOrder(shards, results)
	if err != nil {
		return nil, err
	}
	rep, err := NewReport(spec)
	if err != nil {
		return nil, err
	}
	shifts := recordsShifts(rs)
	var broken string     // the source whose reading broke off, while its shards last
	var fileRecords int64 // records of the earlier shards of the current source
	for i, r := range rs {
		if i > 0 && r.Source != rs[i-1].Source {
			broken, fileRecords = "", 0
		}
		if r.Source == broken {
			continue
		}
		if r.Report == nil {
			return nil, fmt.Errorf("finalize: shard %s has no validation report", r.Shard)
		}
		p, err := shiftPartial(*r.Report, r.Source, shifts[i])
		if err != nil {
			return nil, fmt.Errorf("finalize: shard %s: %w", r.Shard, err)
		}
		rep.MergePartial(p)
		if r.Unread != nil {
			rep.AddReadError(fileReadError(*r.Unread, shifts[i], fileRecords))
			broken = r.Source
		}
		fileRecords += r.Records
	}
	return rep, nil
}

// NewReport returns the empty report of a validate job: its stage, its max_errors.
func NewReport(spec *job.Spec) (*validate.Report, error) {
	stage, err := validate.ParseStage(spec.Stage)
	if err != nil {
		return nil, err
	}
	return validate.NewReport(stage, spec.MaxErrors), nil
}

// fileReadError makes a shard's read error its file's: lines shifted by shift, records and
// a row counted from the file's start (earlier: the records of the file's earlier shards).
func fileReadError(e validate.ReadError, shift, earlier int64) validate.ReadError {
	if e.Line > 0 {
		e.Line += shift
	}
	if e.Row != nil && *e.Row == 0 {
		row := earlier // no row read: the shard's first row is the file's next
		e.Row = &row
	}
	e.Records += int(earlier)
	return e
}

// finalizeValidate writes the merged report (MergeReport) into tmp.
func finalizeValidate(spec *job.Spec, rs []RecordsResult, tmp string, m *RecordsManifest) error {
	shards := make([]Spec, len(rs))
	for i, r := range rs {
		shards[i] = Spec{ID: r.Shard, Index: r.Index}
	}
	rep, err := MergeReport(spec, shards, rs)
	if err != nil {
		return err
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

// finalizeConvert writes the records into tmp (WriteConverted): tmp is the HF directory
// (to: hf), or holds data.jsonl or data.parquet.
func finalizeConvert(ctx context.Context, spec *job.Spec, shards []Spec, rs []RecordsResult, tmp string, m *RecordsManifest) error {
	path := tmp
	if spec.To != job.ConvertHF {
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			return err
		}
		name := "data." + string(spec.To)
		m.Outputs = []string{name}
		path = filepath.Join(tmp, name)
	}
	if _, err := WriteConverted(ctx, spec, shards, rs, path, false); err != nil {
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

// WriteConverted writes the records of a convert job's shards (results: one per shard of
// shards, any order) to path, in shard order, through one writer of spec.To: an HF
// save_to_disk directory (hf), a JSONL or a Parquet file. The schema is the shards' schemas
// merged in shard order. The shards are read again with their file's first line (from the
// results), so that an error names it. The writer publishes path atomically on success and
// removes its temporary files on failure; overwrite lets it replace an existing path (the
// caller has checked that it may: outdir.Check). It returns the number of records written.
// FinalizeRecords writes a job's data so; `tokenmill convert` writes its OUT so.
func WriteConverted(ctx context.Context, spec *job.Spec, shards []Spec, results []RecordsResult, path string, overwrite bool) (int64, error) {
	rs, err := inShardOrder(shards, results)
	if err != nil {
		return 0, err
	}
	var sb table.SchemaBuilder
	var records int64
	shifts := recordsShifts(rs)
	for i, r := range rs {
		s, err := decodeSchema(r.Schema)
		if err != nil {
			return 0, fmt.Errorf("finalize: shard %s: %w", r.Shard, err)
		}
		before := sb.Schema()
		if err := sb.AddSchema(s); err != nil {
			if located := locateClash(ctx, shards[i], r, shifts[i], before); located != nil {
				return 0, shardErr(shards[i], located)
			}
			return 0, fmt.Errorf("finalize: the records of %s do not fit those before: %w", r.Source, err)
		}
		records += r.Records
	}
	w, err := createTable(spec.To, path, sb.Schema(), overwrite)
	if err != nil {
		return 0, err
	}
	for i, sh := range shards {
		if err := writeShardRecords(ctx, w, sh, rs[i], shifts[i]); err != nil {
			w.Abort()
			return 0, fmt.Errorf("finalize: %w", shardErr(sh, err))
		}
	}
	if w.Rows() != records {
		w.Abort()
		return 0, fmt.Errorf("finalize: read %d records, the shards counted %d: an input changed during the job", w.Rows(), records)
	}
	return w.Rows(), w.Close()
}

// locateClash reads the records of a shard whose schema does not fit before (the schema of
// the records before it) and returns the error of the first record that does not, with its
// location, as one pass over all the records would report it; nil if none is found.
func locateClash(ctx context.Context, sh Spec, r RecordsResult, shift int64, before *arrow.Schema) error {
	var sb table.SchemaBuilder
	if err := sb.AddSchema(before); err != nil {
		return nil
	}
	rr, err := openShardRows(sh, 0, shardFirstLine(sh, r, shift))
	if err != nil {
		return nil
	}
	defer rr.Close()
	var seen *arrow.Schema
	return eachObject(ctx, rr, validate.Locate, func(row formats.Row, m map[string]any) error {
		if s := rr.Schema(); s != nil && s != seen {
			if err := sb.AddSchema(s); err != nil {
				return err
			}
			seen = s
		}
		return sb.AddRecord(m, row.Keys, row.Order)
	})
}

// shardFirstLine is the file line to number a shard's rows from when it is read again: its
// file's, from shift, for a byte range that numbered from its own start; 0 otherwise (the
// reader's own numbering is the file's).
func shardFirstLine(sh Spec, r RecordsResult, shift int64) int64 {
	if r.FirstLine <= 0 && sh.Kind == KindBytes {
		return shift + 1
	}
	return 0
}

// createTable opens the writer of a convert output.
func createTable(to job.ConvertTo, path string, schema *arrow.Schema, overwrite bool) (table.Writer, error) {
	switch to {
	case job.ConvertHF:
		// The HF writer builds path itself (under its own temporary name) on Close.
		return hf.CreateTable(path, schema, hf.Options{Overwrite: overwrite})
	case job.ConvertJSONL:
		return table.CreateJSONL(path, schema)
	case job.ConvertParquet:
		return parquet.Create(path, schema)
	}
	return nil, fmt.Errorf("to: unknown output %q", to)
}

// writeShardRecords writes the records of one shard through w; a shard that numbered its
// lines from its own start is read with its file's first line (shift + 1).
func writeShardRecords(ctx context.Context, w table.Writer, sh Spec, r RecordsResult, shift int64) error {
	rr, err := openShardRows(sh, 0, shardFirstLine(sh, r, shift))
	if err != nil {
		return err
	}
	defer rr.Close()
	return eachObject(ctx, rr, validate.Locate, func(_ formats.Row, rec map[string]any) error { return w.WriteRecord(rec) })
}
