package inspect

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tokenmill/tokenmill/shard"
)

// Truncation of the text form: enough to recognise the data, short enough for a terminal.
// Options.Full lifts all of them; WriteJSON never truncates values (programs want the facts
// whole).
const (
	maxItems  = 16  // list elements shown in a sample
	maxStr    = 200 // characters of a string shown in a sample
	maxText   = 500 // characters of decoded text shown
	maxInputs = 8   // input files of a job listed; manifest.json has them all
)

// kindTitles are the names WriteText gives each Kind of a dataset.
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

// textWriter renders the text form; full is Options.Full.
type textWriter struct {
	full bool
}

// WriteText writes the human form of res: for a dataset what the data formats document's
// "Validate All Data" snippets print (Columns, Examples, Sample) with the column types and the
// decoded text added; for a DatasetDict a table of its splits, then each split; for a job
// output the manifest summary and one line per output, then the outputs read in detail.
// Samples and text are shortened unless res was made with Options.Full.
func WriteText(w io.Writer, res *Inspection) error {
	var b bytes.Buffer
	tw := textWriter{full: res.full}
	switch res.Kind {
	case "job":
		tw.job(&b, res)
	case "hf_dict":
		tw.dict(&b, res)
	default:
		tw.detail(&b, res)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// dict prints the splits of a DatasetDict with their counts, then each readable split.
func (tw textWriter) dict(w io.Writer, res *Inspection) {
	names := make([]string, len(res.Parts))
	for i, p := range res.Parts {
		names[i] = filepath.Base(p.Path)
	}
	fmt.Fprintf(w, "%s: Hugging Face DatasetDict, splits: %s\n", res.Path, strings.Join(names, ", "))
	t := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(t, "SPLIT\tEXAMPLES\tCOLUMNS")
	for i, p := range res.Parts {
		fmt.Fprintf(t, "%s\t%s\t%s\n", names[i], countOrError(p), columnsLine(p.Columns))
	}
	t.Flush()
	for _, p := range res.Parts {
		if p.Error == "" {
			fmt.Fprintf(w, "\n== %s ==\n", p.Path)
			tw.detail(w, p)
		}
	}
}

// detail prints one dataset the way the document's snippet does (Columns, Examples, Sample),
// with the types and the decoded text added.
func (tw textWriter) detail(w io.Writer, res *Inspection) {
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
		fmt.Fprintf(w, "Sample: %s\n", tw.repr(res))
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	tw.text(w, res)
}

// text prints the decoded first sequence, or why it was not decoded.
func (tw textWriter) text(w io.Writer, res *Inspection) {
	switch {
	case res.TextNote != "":
		fmt.Fprintf(w, "Text: %s\n", res.TextNote)
	case res.Tokenizer != "":
		what := "the first row"
		if res.TokenColumn != "" {
			what = res.TokenColumn + " of the first example"
		}
		fmt.Fprintf(w, "Text (%s, %d tokens, decoded with %s):\n", what, res.Tokens, res.Tokenizer)
		text, cut := truncRunes(res.Text, tw.limit(maxText))
		fmt.Fprintln(w, text)
		if cut > 0 {
			fmt.Fprintf(w, "[... %d more characters; --full prints all]\n", cut)
		}
	}
}

// job prints the manifest summary, one line per output, then the detailed outputs.
func (tw textWriter) job(w io.Writer, res *Inspection) {
	j := res.Job
	fmt.Fprintf(w, "%s: tokenmill job output (manifest.json, format_version %d)\n", res.Path, j.FormatVersion)
	fmt.Fprintf(w, "Job: %s (fingerprint %s)\n", j.Name, short(j.Fingerprint))
	fmt.Fprintf(w, "Tokenizer: %s (vocab_size %d, sha256 %s)\n", j.Tokenizer.Name, j.Tokenizer.VocabSize, short(j.Tokenizer.SHA256))
	fmt.Fprintf(w, "DType: %s\n", j.DType)
	fmt.Fprintf(w, "Documents: %d read, %d written, %d rejected (%s)\n", j.Documents.Read, j.Documents.Written, j.Documents.Rejected, j.Rejects.Path)
	fmt.Fprintf(w, "Tokens: train %d, val %d\n", j.Tokens.Train, j.Tokens.Val)
	writeInputs(w, j.Inputs)
	fmt.Fprintln(w)
	t := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(t, "SPLIT\tSEQ_LEN\tSEQUENCES\tOUTPUT\tFOUND\tCHECK")
	for _, p := range res.Parts {
		found := "cannot read: " + p.Error
		if p.Error == "" {
			found = briefFound(p)
		}
		fmt.Fprintf(t, "%s\t%d\t%d\t%s\t%s\t%s\n", p.Bucket.Split, p.Bucket.SeqLen, p.Bucket.Sequences,
			filepath.Base(p.Path), found, p.Check)
	}
	t.Flush()
	for _, p := range res.Parts {
		if p.Detailed && p.Error == "" {
			fmt.Fprintf(w, "\n== %s ==\n", p.Path)
			tw.detail(w, p)
		}
	}
}

// writeInputs prints the job's input files with their sizes and fingerprints.
func writeInputs(w io.Writer, inputs []shard.InputInfo) {
	var total int64
	for _, in := range inputs {
		total += in.Size
	}
	fmt.Fprintf(w, "Inputs: %d file%s, %d bytes\n", len(inputs), plural(len(inputs)), total)
	for i, in := range inputs {
		if i == maxInputs {
			fmt.Fprintf(w, "  ... %d more (manifest.json lists them all)\n", len(inputs)-i)
			break
		}
		fmt.Fprintf(w, "  %s  %d bytes  crc32c %s\n", in.Path, in.Size, in.CRC32C)
	}
}

// briefFound is a job output's line in the table: its kind, count and type.
func briefFound(p *Inspection) string {
	if p.Kind == "npy" {
		return fmt.Sprintf("npy %s %s", pyShape(p.Shape), p.DType)
	}
	return fmt.Sprintf("hf %d row%s, %s", p.Examples, plural(int(p.Examples)), columnsLine(p.Columns))
}

func countOrError(p *Inspection) string {
	if p.Error != "" {
		return "cannot read: " + p.Error
	}
	return strconv.FormatInt(p.Examples, 10)
}

func columnsLine(cols []Column) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c.Name + ": " + c.Type
	}
	return strings.Join(s, ", ")
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// short is the first 12 hex digits of a hash.
func short(hex string) string {
	if len(hex) > 12 {
		return hex[:12]
	}
	return hex
}

// limit is n, or -1 (no limit) when the whole values are wanted.
func (tw textWriter) limit(n int) int {
	if tw.full {
		return -1
	}
	return n
}
