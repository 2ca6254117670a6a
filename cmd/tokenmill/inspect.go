package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/input"
	"github.com/tokenmill/tokenmill/formats/npy"
	"github.com/tokenmill/tokenmill/formats/parquet"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/shard"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// inspectHelp is the part of `tokenmill inspect --help` after the summary.
const inspectHelp = `Prints what the data formats document's "Validate All Data" snippets print (columns, number of
examples, the first example) for PATH: a job output directory (manifest.json), a Hugging Face
save_to_disk or DatasetDict directory, a .npy file, or a JSONL (.gz, .zst), JSON array, CSV,
Parquet or text file. For token data the first sequence is decoded back to text with the job's
tokenizer (manifest.json in PATH's directory or the one above) or --tokenizer.
Exit status: 0 on success, 2 when PATH (or part of it) cannot be read.
`

// Truncation of the human output: enough to recognise the data, short enough for a terminal.
// --full lifts all of them; --json never truncates values (programs want the facts whole).
const (
	inspectMaxItems = 16  // list elements shown in a sample
	inspectMaxStr   = 200 // characters of a string shown in a sample
	inspectMaxText  = 500 // characters of decoded text shown
	// inspectSchemaRows is how many records of a JSON or CSV file the column types are inferred
	// from ("the first records"): the count still reads the whole file.
	inspectSchemaRows = 100
)

// inspection is what inspect found about one path. The human and the --json output are two
// renderings of it, so they always carry the same facts.
type inspection struct {
	Path string `json:"path"`
	// Kind is job, hf, hf_dict, npy, jsonl, json, csv, parquet, arrow or text.
	Kind     string          `json:"kind"`
	Columns  []inspectColumn `json:"columns,omitempty"`
	Shape    []int64         `json:"shape,omitempty"` // .npy only
	DType    string          `json:"dtype,omitempty"` // .npy only
	Examples int64           `json:"examples"`
	// Malformed counts records that could not be decoded (JSON and CSV inputs).
	Malformed int64 `json:"malformed,omitempty"`
	// First is the first example: a row object, or the first row of a .npy array.
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
	// Notes are other remarks (a schema that could not be unified, a manifest mismatch).
	Notes []string `json:"notes,omitempty"`
	// DataFiles is the number of .arrow files of an HF dataset.
	DataFiles int `json:"data_files,omitempty"`
	// Bucket and Check are set on the outputs of a job: which bucket of the manifest the output
	// belongs to, and whether what was found agrees with it ("ok" or what differs).
	Bucket *inspectBucket `json:"bucket,omitempty"`
	Check  string         `json:"check,omitempty"`
	// Detailed is set on the parts whose first example (and text) were read.
	Detailed bool `json:"detailed,omitempty"`
	// Error is set on a part that could not be read.
	Error string `json:"error,omitempty"`
	// Parts are the splits of a DatasetDict or the outputs of a job.
	Parts []*inspection `json:"parts,omitempty"`
	// Job is the manifest summary of a job output.
	Job *inspectJob `json:"job,omitempty"`

	schema    *arrow.Schema // for the Python-style rendering of First
	firstKeys []string
}

type inspectColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type inspectBucket struct {
	Split     string `json:"split"`
	SeqLen    int    `json:"seq_len"`
	Sequences int64  `json:"sequences"`
}

// inspectJob is the part of manifest.json inspect reports.
type inspectJob struct {
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

// inspector holds one invocation's options and the tokenizers it loaded (a cache scoped to
// the call, not global state: a job's buckets all decode with the same tokenizer).
type inspector struct {
	full     bool
	tokFlag  string
	loaded   map[string]*tokenizer.Tokenizer
	loadErrs map[string]error
}

// cmdInspect implements `tokenmill inspect`.
func cmdInspect(args []string, stdout, stderr io.Writer) int {
	c := newCommand("inspect", "[flags] PATH",
		"Show the columns, count and first example (decoded) of a job output, a dataset or a data file.",
		inspectHelp, stdout, stderr)
	fs := c.fs
	tok := fs.String("tokenizer", "", "decode token data with the tokenizer `NAME|PATH` instead of the manifest's")
	full := fs.Bool("full", false, "print whole samples and the whole decoded text")
	asJSON := fs.Bool("json", false, "print one JSON object with the same facts (values never truncated)")
	if done, code := c.parse(args); done {
		return code
	}
	switch {
	case fs.NArg() == 0:
		return c.usageError("missing PATH")
	case fs.NArg() > 1:
		return c.usageError("unexpected argument %q: one PATH at a time", fs.Arg(1))
	}
	in := &inspector{full: *full, tokFlag: *tok,
		loaded: map[string]*tokenizer.Tokenizer{}, loadErrs: map[string]error{}}
	res, err := in.inspect(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "tokenmill inspect:", cannotRead(fs.Arg(0), err.Error()))
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(jsonSafe(res)); err != nil {
			fmt.Fprintln(stderr, "tokenmill inspect:", err)
			return 1
		}
	} else {
		in.render(stdout, res)
	}
	code := 0
	for _, p := range res.Parts {
		if p.Error != "" {
			fmt.Fprintln(stderr, "tokenmill inspect:", cannotRead(p.Path, p.Error))
			code = 2
		}
	}
	return code
}

// cannotRead says that path could not be read and why, "cannot read PATH: msg", naming path
// once: without the "PATH: " that msg begins with when it comes from a reader.
func cannotRead(path, msg string) string {
	return fmt.Sprintf("cannot read %s: %s", path, strings.TrimPrefix(msg, path+": "))
}

// inspect dispatches on what path is.
func (in *inspector) inspect(path string) (*inspection, error) {
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

// inspectJob lists every output of every bucket briefly, checked against the manifest, and
// reads the first example of the first non-empty bucket of each split in detail (its HF
// directory, else its .npy): the rest are `tokenmill inspect DIR/OUTPUT` away.
func (in *inspector) inspectJob(dir string) (*inspection, error) {
	mpath := filepath.Join(dir, "manifest.json")
	m, err := readManifest(mpath)
	if err != nil {
		return nil, err
	}
	var spec struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(m.Job, &spec) // the name is informative only
	res := &inspection{Path: dir, Kind: "job", Job: &inspectJob{Name: spec.Name, Fingerprint: m.JobFingerprint,
		FormatVersion: m.FormatVersion, Tokenizer: m.Tokenizer, DType: m.DType, Documents: m.Documents,
		Tokens: m.Tokens, Rejects: m.Rejects, Inputs: m.Inputs}}
	detailed := map[string]bool{}
	for _, b := range m.Buckets {
		wantDetail := b.Sequences > 0 && !detailed[b.Split]
		for _, rel := range b.Paths {
			p := filepath.Join(dir, filepath.FromSlash(rel))
			detail := wantDetail && !detailed[b.Split]
			var part *inspection
			if strings.HasSuffix(rel, ".npy") {
				part, err = in.inspectNpy(p, detail, mpath)
			} else {
				part, err = in.inspectHF(p, detail, mpath)
			}
			if err != nil {
				part = &inspection{Path: p, Kind: outputKind(rel), Error: err.Error()}
			} else {
				part.Check = checkBucket(part, b, m.DType)
				detailed[b.Split] = detailed[b.Split] || detail
			}
			part.Bucket = &inspectBucket{Split: b.Split, SeqLen: b.SeqLen, Sequences: b.Sequences}
			res.Parts = append(res.Parts, part)
		}
	}
	return res, nil
}

func outputKind(rel string) string {
	if strings.HasSuffix(rel, ".npy") {
		return "npy"
	}
	return "hf"
}

// checkBucket compares an output with its manifest entry: rows = sequences, row length =
// seq_len, element type = the manifest's dtype.
func checkBucket(p *inspection, b shard.BucketInfo, dtype string) string {
	var diffs []string
	if p.Examples != b.Sequences {
		diffs = append(diffs, fmt.Sprintf("%d rows, manifest says %d", p.Examples, b.Sequences))
	}
	switch p.Kind {
	case "npy":
		if len(p.Shape) != 2 || p.Shape[1] != int64(b.SeqLen) {
			diffs = append(diffs, fmt.Sprintf("shape %s, want (%d, %d)", pyShape(p.Shape), b.Sequences, b.SeqLen))
		}
		if p.DType != dtype {
			diffs = append(diffs, fmt.Sprintf("dtype %s, manifest says %s", p.DType, dtype))
		}
	case "hf":
		if want := "list<" + dtype + ">"; p.TokenColumn == "" || columnType(p.Columns, p.TokenColumn) != want {
			diffs = append(diffs, fmt.Sprintf("no input_ids column of type %s", want))
		}
		if n, ok := tokenCount(p.First); ok && n != b.SeqLen {
			diffs = append(diffs, fmt.Sprintf("first row has %d tokens, seq_len is %d", n, b.SeqLen))
		}
	}
	if len(diffs) == 0 {
		return "ok"
	}
	return strings.Join(diffs, "; ")
}

func columnType(cols []inspectColumn, name string) string {
	for _, c := range cols {
		if c.Name == name {
			return c.Type
		}
	}
	return ""
}

func tokenCount(first any) (int, bool) {
	m, ok := first.(map[string]any)
	if !ok {
		return 0, false
	}
	ids, ok := tokenIDs(m["input_ids"])
	return len(ids), ok
}

// inspectDict reads every split of a DatasetDict in full: there are few, and each is what
// load_from_disk(dir)[split] would show.
func (in *inspector) inspectDict(dir string) (*inspection, error) {
	dirs, err := hf.SplitDirs(dir)
	if err != nil {
		return nil, err
	}
	res := &inspection{Path: dir, Kind: "hf_dict"}
	mpath := manifestNear(dir)
	for _, d := range dirs {
		part, err := in.inspectHF(d, true, mpath)
		if err != nil {
			part = &inspection{Path: d, Kind: "hf", Error: err.Error()}
		}
		res.Examples += part.Examples
		res.Parts = append(res.Parts, part)
	}
	return res, nil
}

// inspectHF reads one save_to_disk directory: the Arrow schema, the row count (the sum of its
// record batches, as len(ds)) and, when detail is set, the first row and its decoded tokens.
func (in *inspector) inspectHF(dir string, detail bool, manifest string) (*inspection, error) {
	st, err := hf.ReadState(dir)
	if err != nil {
		return nil, err
	}
	br, err := hf.OpenBatches(dir)
	if err != nil {
		return nil, err
	}
	defer br.Close()
	res := &inspection{Path: dir, Kind: "hf", DataFiles: len(st.DataFiles)}
	for {
		rb, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if res.schema == nil {
			res.schema = rb.Schema()
		}
		if detail && res.First == nil && rb.NumRows() > 0 {
			m := make(map[string]any, rb.NumCols())
			for k, f := range rb.Schema().Fields() {
				m[f.Name] = table.Value(rb.Column(k), 0)
				res.firstKeys = append(res.firstKeys, f.Name)
			}
			res.First = m
		}
		res.Examples += rb.NumRows()
	}
	if res.schema == nil { // no record batch at all: the schema message is still there
		if res.schema, err = arrowStreamSchema(filepath.Join(dir, st.DataFiles[0].Filename)); err != nil {
			return nil, err
		}
	}
	res.setColumns(res.schema)
	res.Detailed = detail
	if detail {
		in.decodeFirst(res, manifest)
	}
	return res, nil
}

// arrowStreamSchema reads the schema message of an Arrow IPC stream.
func arrowStreamSchema(path string) (*arrow.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r, err := hf.NewStreamReader(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: not an Arrow IPC stream: %w", path, err)
	}
	defer r.Release()
	return r.Schema(), nil
}

func (res *inspection) setColumns(s *arrow.Schema) {
	for _, f := range s.Fields() {
		res.Columns = append(res.Columns, inspectColumn{Name: f.Name, Type: typeName(f.Type)})
	}
	for _, name := range []string{"input_ids", "ids", "token_ids", "tokens"} {
		if i := s.FieldIndices(name); len(i) > 0 && isIntList(s.Field(i[0]).Type) {
			res.TokenColumn = name
			return
		}
	}
}

func isIntList(t arrow.DataType) bool {
	l, ok := t.(arrow.ListLikeType)
	return ok && arrow.IsInteger(l.Elem().ID())
}

// typeName spells an Arrow type the way the datasets features name it: string, int64,
// list<int32>, struct<role: string, content: string>.
func typeName(t arrow.DataType) string {
	switch x := t.(type) {
	case arrow.ListLikeType:
		return "list<" + typeName(x.Elem()) + ">"
	case *arrow.StructType:
		parts := make([]string, x.NumFields())
		for i, f := range x.Fields() {
			parts[i] = f.Name + ": " + typeName(f.Type)
		}
		return "struct<" + strings.Join(parts, ", ") + ">"
	case *arrow.DictionaryType:
		return typeName(x.ValueType)
	}
	switch t.ID() {
	case arrow.STRING, arrow.STRING_VIEW:
		return "string"
	case arrow.LARGE_STRING:
		return "large_string"
	case arrow.BOOL:
		return "bool"
	}
	return t.String()
}

// inspectNpy reads a .npy header and, when detail is set, its first row. A 2-D array has one
// example per row; a 1-D array (a flat token stream) is shown as one example of its first
// elements, up to 2048.
func (in *inspector) inspectNpy(path string, detail bool, manifest string) (*inspection, error) {
	r, err := npy.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	h := r.Header()
	res := &inspection{Path: path, Kind: "npy", Shape: h.Shape, DType: r.DType().String(), Examples: r.Rows(), Detailed: detail}
	if len(h.Shape) == 1 {
		res.Notes = append(res.Notes, "a 1-D array: the sample is its first elements")
	}
	if !detail || h.Elements() == 0 {
		return res, nil
	}
	var row []int64
	if len(h.Shape) <= 1 {
		row, err = r.Elements(0, min(h.Elements(), 2048), nil)
	} else {
		row, err = r.Row(0, nil)
	}
	if err != nil {
		return nil, err
	}
	res.First = row
	in.decodeFirst(res, manifest)
	return res, nil
}

// inspectRecords reads a record file: the column types inferred from the first records (as
// datasets.Dataset.from_list would type them), every record counted, the first one kept.
// The format is formats.Detect's (content first); where the content contradicts the name, a
// note says so.
func (in *inspector) inspectRecords(path string) (*inspection, error) {
	d, err := formats.Detect(path)
	if err != nil {
		return nil, err
	}
	if err := d.Unreadable(path); err != nil {
		return nil, err
	}
	var res *inspection
	if d.Format == formats.FormatText {
		res, err = in.inspectText(path)
	} else {
		res, err = in.inspectRows(path, d.Format)
	}
	if err != nil {
		return nil, err
	}
	if d.Conflict != "" {
		res.Notes = append(res.Notes, "read by its content: "+d.Conflict)
	}
	return res, nil
}

// inspectRows reads a record file of a known format with formats.OpenRows.
func (in *inspector) inspectRows(path string, format formats.Format) (*inspection, error) {
	rr, err := input.OpenRows(path, formats.Options{Format: format})
	if err != nil {
		return nil, err
	}
	defer rr.Close()
	res := &inspection{Path: path, Kind: recordKind(format)}
	var sb table.SchemaBuilder
	var schemaErr error
	for {
		row, err := rr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if row.Err != nil {
			if res.Malformed == 0 {
				res.Notes = append(res.Notes, fmt.Sprintf("first malformed record: %s: %v", rowLocation(row), row.Err))
			}
			res.Malformed++
			continue
		}
		res.Examples++
		if res.Examples > inspectSchemaRows {
			if res.Kind == "parquet" {
				break // the footer has the count
			}
			continue
		}
		obj, ok := row.Value.(map[string]any)
		if !ok {
			if schemaErr == nil {
				schemaErr = fmt.Errorf("%s: a record that is not an object (%T)", rowLocation(row), row.Value)
			}
			continue
		}
		if res.First == nil {
			res.First, res.firstKeys = obj, row.Keys
		}
		if schemaErr == nil {
			if s := rr.Schema(); s != nil {
				schemaErr = sb.AddSchema(s)
			} else {
				schemaErr = sb.AddRecord(obj, row.Keys, row.Order)
			}
		}
	}
	if res.Kind == "parquet" {
		groups, err := parquet.RowGroups(path)
		if err != nil {
			return nil, err
		}
		res.Examples = 0
		for _, g := range groups {
			res.Examples += g.Rows
		}
	}
	if schemaErr != nil {
		res.Notes = append(res.Notes, "column types: "+schemaErr.Error())
	}
	res.schema = sb.Schema()
	res.setColumns(res.schema)
	res.Detailed = true
	in.decodeFirst(res, manifestNear(filepath.Dir(path)))
	return res, nil
}

// recordKind names a record format as inspection.Kind does: an Arrow IPC stream outside a
// save_to_disk directory is "arrow".
func recordKind(f formats.Format) string {
	if f == formats.FormatHF {
		return "arrow"
	}
	return f.String()
}

// inspectText reads a plain text file, which a job reads as one document.
func (in *inspector) inspectText(path string) (*inspection, error) {
	r, err := input.Open(path, formats.Options{Format: formats.FormatText})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	res := &inspection{Path: path, Kind: "text", Columns: []inspectColumn{{"text", "string"}}, Detailed: true}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if res.Examples == 0 {
			text, _, err := rec.Extract("text")
			if err != nil {
				return nil, err
			}
			res.First, res.firstKeys = map[string]any{"text": text}, []string{"text"}
		}
		res.Examples++
	}
	return res, nil
}

// decodeFirst decodes the first example's token ids with the --tokenizer or the manifest's
// tokenizer. Not being able to decode is a note, not an error: the data was read.
func (in *inspector) decodeFirst(res *inspection, manifest string) {
	var ids []uint32
	var ok bool
	if res.Kind == "npy" {
		ids, ok = tokenIDs(res.First)
	} else if m, isMap := res.First.(map[string]any); isMap && res.TokenColumn != "" {
		ids, ok = tokenIDs(m[res.TokenColumn])
	} else {
		return // no token data
	}
	if !ok {
		res.TextNote = "not decoded: the first sequence holds values that are not token ids"
		return
	}
	tk, label, err := in.tokenizerFor(manifest)
	if err != nil {
		res.TextNote = "not decoded: " + err.Error()
		return
	}
	text, err := tk.Decode(ids)
	if err != nil {
		res.TextNote = fmt.Sprintf("not decoded with %s: %v", label, err)
		return
	}
	res.Tokenizer, res.Tokens = label, len(ids)
	res.Text = strings.ToValidUTF8(string(text), "\uFFFD")
}

// tokenIDs converts a list of non-negative integers to token ids.
func tokenIDs(v any) ([]uint32, bool) {
	rv := reflect.ValueOf(v)
	if v == nil || rv.Kind() != reflect.Slice || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	ids := make([]uint32, rv.Len())
	for i := range ids {
		e := rv.Index(i)
		if e.Kind() == reflect.Interface {
			e = e.Elem()
		}
		var n int64
		switch e.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n = e.Int()
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if e.Uint() > math.MaxUint32 {
				return nil, false
			}
			n = int64(e.Uint())
		case reflect.String: // json.Number
			var err error
			if n, err = strconv.ParseInt(e.String(), 10, 64); err != nil {
				return nil, false
			}
		default:
			return nil, false
		}
		if n < 0 || n > math.MaxUint32 {
			return nil, false
		}
		ids[i] = uint32(n)
	}
	return ids, true
}

// tokenizerFor picks the tokenizer: --tokenizer, else the manifest's. The manifest names it
// twice: the job's "tokenizer" (a built-in name or the path the job was given) and
// tokenizer.name (the encoding or file name); the first that loads and whose vocabulary
// hash matches tokenizer.sha256 wins, so a different file under the same name is not used.
func (in *inspector) tokenizerFor(manifest string) (*tokenizer.Tokenizer, string, error) {
	if in.tokFlag != "" {
		tk, err := in.load(in.tokFlag)
		if err != nil {
			return nil, "", err
		}
		return tk, in.tokFlag + " from --tokenizer", nil
	}
	if manifest == "" {
		return nil, "", errors.New("no manifest.json next to it or one directory up; pass --tokenizer NAME")
	}
	m, err := readManifest(manifest)
	if err != nil {
		return nil, "", err
	}
	var spec struct {
		Tokenizer string `json:"tokenizer"`
	}
	_ = json.Unmarshal(m.Job, &spec)
	var tried []string
	for _, name := range []string{spec.Tokenizer, m.Tokenizer.Name} {
		if name == "" || slices.Contains(tried, name) {
			continue
		}
		tried = append(tried, name)
		tk, err := in.load(name)
		if err != nil {
			continue
		}
		if m.Tokenizer.SHA256 != "" && tk.SHA256() != m.Tokenizer.SHA256 {
			continue
		}
		return tk, name + " from " + manifest, nil
	}
	return nil, "", fmt.Errorf("tokenizer %q of %s cannot be loaded here (or its sha256 differs); pass --tokenizer",
		strings.Join(tried, `" / "`), manifest)
}

func (in *inspector) load(name string) (*tokenizer.Tokenizer, error) {
	if tk, ok := in.loaded[name]; ok {
		return tk, nil
	}
	if err, ok := in.loadErrs[name]; ok {
		return nil, err
	}
	tk, err := tokenizer.Load(name)
	if err != nil {
		in.loadErrs[name] = err
		return nil, err
	}
	in.loaded[name] = tk
	return tk, nil
}

// jsonSafe replaces the float values JSON cannot hold (NaN, ±Inf) by their Python spelling.
func jsonSafe(res *inspection) *inspection {
	var fix func(v any) any
	fix = func(v any) any {
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return pyFloat(x)
			}
		case float32:
			return fix(float64(x))
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = fix(e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = fix(e)
			}
			return out
		}
		return v
	}
	c := *res
	c.First = fix(res.First)
	c.Parts = nil
	for _, p := range res.Parts {
		c.Parts = append(c.Parts, jsonSafe(p))
	}
	return &c
}

// render writes the human form.
func (in *inspector) render(w io.Writer, res *inspection) {
	switch res.Kind {
	case "job":
		in.renderJob(w, res)
	case "hf_dict":
		names := make([]string, len(res.Parts))
		for i, p := range res.Parts {
			names[i] = filepath.Base(p.Path)
		}
		fmt.Fprintf(w, "%s: Hugging Face DatasetDict, splits: %s\n", res.Path, strings.Join(names, ", "))
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "SPLIT\tEXAMPLES\tCOLUMNS")
		for i, p := range res.Parts {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", names[i], countOrError(p), columnsLine(p.Columns))
		}
		tw.Flush()
		for _, p := range res.Parts {
			if p.Error == "" {
				fmt.Fprintf(w, "\n== %s ==\n", p.Path)
				in.renderDetail(w, p)
			}
		}
	default:
		in.renderDetail(w, res)
	}
}

func countOrError(p *inspection) string {
	if p.Error != "" {
		return "cannot read: " + p.Error
	}
	return strconv.FormatInt(p.Examples, 10)
}

func columnsLine(cols []inspectColumn) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c.Name + ": " + c.Type
	}
	return strings.Join(s, ", ")
}

var kindTitles = map[string]string{
	"hf":      "Hugging Face dataset (save_to_disk)",
	"npy":     "NumPy array",
	"jsonl":   "JSON Lines",
	"json":    "JSON array",
	"csv":     "CSV",
	"parquet": "Parquet",
	"arrow":   "Arrow IPC stream (a save_to_disk data file)",
	"text":    "plain text (one document)",
}

// renderDetail prints one dataset the way the document's snippet does (Columns, Examples,
// Sample), with the types and the decoded text added.
func (in *inspector) renderDetail(w io.Writer, res *inspection) {
	title := kindTitles[res.Kind]
	if res.Kind == "hf" {
		title += fmt.Sprintf(", %d data file%s", res.DataFiles, plural(res.DataFiles))
	}
	fmt.Fprintf(w, "%s: %s\n", res.Path, title)
	if res.Kind == "npy" {
		fmt.Fprintf(w, "Shape: %s\n", pyShape(res.Shape))
		fmt.Fprintf(w, "DType: %s\n", res.DType)
	} else {
		names := make([]string, len(res.Columns))
		for i, c := range res.Columns {
			names[i] = pyString(c.Name, -1)
		}
		fmt.Fprintf(w, "Columns: [%s]\n", strings.Join(names, ", "))
		fmt.Fprintf(w, "Types: %s\n", columnsLine(res.Columns))
	}
	fmt.Fprintf(w, "Examples: %d\n", res.Examples)
	if res.Malformed > 0 {
		fmt.Fprintf(w, "Malformed: %d\n", res.Malformed)
	}
	if res.First != nil {
		fmt.Fprintf(w, "Sample: %s\n", in.repr(res))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	switch {
	case res.TextNote != "":
		fmt.Fprintf(w, "Text: %s\n", res.TextNote)
	case res.Tokenizer != "":
		what := "the first row"
		if res.TokenColumn != "" {
			what = res.TokenColumn + " of the first example"
		}
		fmt.Fprintf(w, "Text (%s, %d tokens, decoded with %s):\n", what, res.Tokens, res.Tokenizer)
		text, cut := truncRunes(res.Text, in.limit(inspectMaxText))
		fmt.Fprintln(w, text)
		if cut > 0 {
			fmt.Fprintf(w, "[... %d more characters; --full prints all]\n", cut)
		}
	}
}

// inspectMaxInputs is how many input files the summary lists; manifest.json has them all.
const inspectMaxInputs = 8

// renderInputs prints the job's input files with their sizes and fingerprints.
func renderInputs(w io.Writer, inputs []shard.InputInfo) {
	var total int64
	for _, in := range inputs {
		total += in.Size
	}
	fmt.Fprintf(w, "Inputs: %d file%s, %d bytes\n", len(inputs), plural(len(inputs)), total)
	for i, in := range inputs {
		if i == inspectMaxInputs {
			fmt.Fprintf(w, "  ... %d more (manifest.json lists them all)\n", len(inputs)-i)
			break
		}
		fmt.Fprintf(w, "  %s  %d bytes  crc32c %s\n", in.Path, in.Size, in.CRC32C)
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// renderJob prints the manifest summary, one line per output, then the detailed outputs.
func (in *inspector) renderJob(w io.Writer, res *inspection) {
	j := res.Job
	fmt.Fprintf(w, "%s: tokenmill job output (manifest.json, format_version %d)\n", res.Path, j.FormatVersion)
	fmt.Fprintf(w, "Job: %s (fingerprint %s)\n", j.Name, short(j.Fingerprint))
	fmt.Fprintf(w, "Tokenizer: %s (vocab_size %d, sha256 %s)\n", j.Tokenizer.Name, j.Tokenizer.VocabSize, short(j.Tokenizer.SHA256))
	fmt.Fprintf(w, "DType: %s\n", j.DType)
	fmt.Fprintf(w, "Documents: %d read, %d written, %d rejected (%s)\n", j.Documents.Read, j.Documents.Written, j.Documents.Rejected, j.Rejects.Path)
	fmt.Fprintf(w, "Tokens: train %d, val %d\n", j.Tokens.Train, j.Tokens.Val)
	renderInputs(w, j.Inputs)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SPLIT\tSEQ_LEN\tSEQUENCES\tOUTPUT\tFOUND\tCHECK")
	for _, p := range res.Parts {
		found := "cannot read: " + p.Error
		if p.Error == "" {
			found = briefFound(p)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", p.Bucket.Split, p.Bucket.SeqLen, p.Bucket.Sequences,
			filepath.Base(p.Path), found, p.Check)
	}
	tw.Flush()
	for _, p := range res.Parts {
		if p.Detailed && p.Error == "" {
			fmt.Fprintf(w, "\n== %s ==\n", p.Path)
			in.renderDetail(w, p)
		}
	}
}

func briefFound(p *inspection) string {
	if p.Kind == "npy" {
		return fmt.Sprintf("npy %s %s", pyShape(p.Shape), p.DType)
	}
	return fmt.Sprintf("hf %d row%s, %s", p.Examples, plural(int(p.Examples)), columnsLine(p.Columns))
}

func short(hex string) string {
	if len(hex) > 12 {
		return hex[:12]
	}
	return hex
}

// pyShape prints a shape as NumPy does: (3,), (659, 512), ().
func pyShape(s []int64) string {
	parts := make([]string, len(s))
	for i, n := range s {
		parts[i] = strconv.FormatInt(n, 10)
	}
	if len(s) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func (in *inspector) limit(n int) int {
	if in.full {
		return -1
	}
	return n
}

// truncRunes cuts s to n characters (n < 0: no limit) and returns how many were cut.
func truncRunes(s string, n int) (string, int) {
	if n < 0 || utf8.RuneCountInString(s) <= n {
		return s, 0
	}
	i, k := 0, 0
	for k < n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		k++
	}
	return s[:i], utf8.RuneCountInString(s[i:])
}

// repr prints the first example as Python prints ds[0]: a dict in column order, struct fields
// in schema order, long lists and strings shortened unless --full.
func (in *inspector) repr(res *inspection) string {
	var b strings.Builder
	if m, ok := res.First.(map[string]any); ok {
		keys := res.firstKeys
		if len(keys) == 0 {
			keys = sortedKeys(m)
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			var t arrow.DataType
			if res.schema != nil {
				if idx := res.schema.FieldIndices(k); len(idx) > 0 {
					t = res.schema.Field(idx[0]).Type
				}
			}
			b.WriteString(pyString(k, -1))
			b.WriteString(": ")
			in.pyRepr(&b, m[k], t)
		}
		b.WriteByte('}')
		return b.String()
	}
	in.pyRepr(&b, res.First, nil)
	return b.String()
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (in *inspector) pyRepr(b *strings.Builder, v any, t arrow.DataType) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case string:
		b.WriteString(pyString(x, in.limit(inspectMaxStr)))
	case json.Number:
		b.WriteString(x.String())
	case float64:
		b.WriteString(pyFloat(x))
	case float32:
		b.WriteString(pyFloat(float64(x)))
	case []byte:
		b.WriteString("b")
		b.WriteString(pyString(string(x), in.limit(inspectMaxStr)))
	case map[string]any:
		var keys []string
		if st, ok := t.(*arrow.StructType); ok {
			for _, f := range st.Fields() {
				if _, ok := x[f.Name]; ok {
					keys = append(keys, f.Name)
				}
			}
		}
		if len(keys) != len(x) {
			keys = sortedKeys(x)
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			var ft arrow.DataType
			if st, ok := t.(*arrow.StructType); ok {
				if f, ok := st.FieldByName(k); ok {
					ft = f.Type
				}
			}
			b.WriteString(pyString(k, -1))
			b.WriteString(": ")
			in.pyRepr(b, x[k], ft)
		}
		b.WriteByte('}')
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Slice {
			fmt.Fprint(b, v) // the integer types
			return
		}
		var elem arrow.DataType
		if l, ok := t.(arrow.ListLikeType); ok {
			elem = l.Elem()
		}
		n, limit := rv.Len(), in.limit(inspectMaxItems)
		shown := n
		if limit >= 0 && n > limit {
			shown = limit
		}
		b.WriteByte('[')
		for i := 0; i < shown; i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			in.pyRepr(b, rv.Index(i).Interface(), elem)
		}
		if shown < n {
			fmt.Fprintf(b, ", ... +%d more", n-shown)
		}
		b.WriteByte(']')
	}
}

// pyString quotes s as Python's repr does (single quotes unless s holds one and no double
// quote; \n, \t, \\ and control characters escaped), cut to limit characters (limit < 0: all).
func pyString(s string, limit int) string {
	s, cut := truncRunes(s, limit)
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	if cut > 0 {
		fmt.Fprintf(&b, "... +%d more characters", cut)
	}
	return b.String()
}

// pyFloat prints a float as Python's repr: 1.0, 0.25, 1e-05, 1e+16, nan, inf.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
