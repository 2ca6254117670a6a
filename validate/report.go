package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// Report accumulates the results of checking the records of one stage: how many records were
// seen, valid and invalid, how many issues each message had, and the first MaxErrors issues
// with their locations. It is not safe for concurrent use; give each goroutine its own and
// Merge them in input order for a deterministic result.
type Report struct {
	stage     Stage
	maxErrors int
	records   int
	valid     int
	issues    int
	byMessage map[string]int
	errors    []ReportError
	unread    []ReadError
	inputs    []string
}

// ReadError is an input that could not be read to its end: one that could not be opened, or
// one that broke off (a truncated compressed stream, a corrupt Parquet page). The records read
// before the break stay counted, so a report with read errors has partial counts.
type ReadError struct {
	// File is the input as given (for a directory whose reading broke off inside one of its
	// files, the message names that file).
	File string `json:"file"`
	// Line is the 1-based line where reading stopped, for line-oriented inputs (JSONL, CSV):
	// the one after the last record read. Row is the 0-based row where it stopped, for
	// tabular inputs (Parquet, JSON arrays, HF .arrow files). Neither is set for an input that
	// could not be opened, or for a directory.
	Line int64  `json:"line,omitempty"`
	Row  *int64 `json:"row,omitempty"`
	// Records is the number of records read from the input before it stopped.
	Records int `json:"records"`
	// Message is the reader's error.
	Message string `json:"message"`
}

// position renders where reading stopped: "line N", "row N", or "" when not known.
func (e ReadError) position() string {
	switch {
	case e.Line > 0:
		return "line " + strconv.FormatInt(e.Line, 10)
	case e.Row != nil:
		return "row " + strconv.FormatInt(*e.Row, 10)
	}
	return ""
}

// ReportError is one issue with where it was found: "file:line" for line-oriented inputs,
// "file:row N" for tabular ones (see LineLocation and RowLocation).
type ReportError struct {
	Location string `json:"location"`
	Field    string `json:"field"`
	Message  string `json:"message"`
}

// NewReport returns an empty report for stage keeping the first maxErrors issues; a negative
// maxErrors keeps them all.
func NewReport(stage Stage, maxErrors int) *Report {
	return &Report{stage: stage, maxErrors: maxErrors, byMessage: map[string]int{}}
}

// LineLocation is the location of line (1-based) of file: "file:line".
func LineLocation(file string, line int) string { return file + ":" + strconv.Itoa(line) }

// RowLocation is the location of row (0-based, as datasets index) of file: "file:row N".
func RowLocation(file string, row int) string { return file + ":row " + strconv.Itoa(row) }

// Add records the result of checking one record found at location.
func (r *Report) Add(location string, issues []Issue) {
	r.records++
	if len(issues) == 0 {
		r.valid++
		return
	}
	for _, is := range issues {
		r.byMessage[is.Message]++
		r.keep(ReportError{Location: location, Field: is.Field, Message: is.Message})
	}
}

func (r *Report) keep(e ReportError) {
	r.issues++
	if r.maxErrors < 0 || len(r.errors) < r.maxErrors {
		r.errors = append(r.errors, e)
	}
}

// AddReadError records an input that could not be read to its end. The report's counts are
// partial from then on (Complete is false).
func (r *Report) AddReadError(e ReadError) { r.unread = append(r.unread, e) }

// SetInputs records the list of inputs the report covers, for a caller that chose them (the
// files of a directory); JSON then lists them. Reports without it leave the list out.
func (r *Report) SetInputs(files []string) { r.inputs = append([]string(nil), files...) }

// ReadErrors returns a copy of the read errors, in the order they were added.
func (r *Report) ReadErrors() []ReadError { return append([]ReadError(nil), r.unread...) }

// Complete reports whether every input was read to its end, so that the counts cover all of
// their records.
func (r *Report) Complete() bool { return len(r.unread) == 0 }

// Merge adds the counts, kept errors and read errors of o (for records that come after r's)
// to r.
func (r *Report) Merge(o *Report) {
	r.MergePartial(Partial{Records: o.records, Valid: o.valid, Issues: o.issues,
		ByMessage: o.byMessage, Errors: o.errors})
	r.unread = append(r.unread, o.unread...)
}

// Partial is a report's counts and kept errors as a plain JSON-serialisable value: what one
// shard of a validate job sends to the finalize step, which merges the shards' partials in
// shard order (MergePartial) into the job's report. A shard keeps its first MaxErrors
// errors, so the merge keeps the first MaxErrors of the whole input, whatever the sharding.
type Partial struct {
	Records   int            `json:"records"`
	Valid     int            `json:"valid"`
	Issues    int            `json:"issues"` // all issues, kept or not
	ByMessage map[string]int `json:"by_message"`
	Errors    []ReportError  `json:"errors"`
}

// Partial returns a copy of r's state.
func (r *Report) Partial() Partial {
	return Partial{Records: r.records, Valid: r.valid, Issues: r.issues,
		ByMessage: r.ByMessage(), Errors: r.Errors()}
}

// MergePartial adds p (for records that come after r's) to r, as Merge does.
func (r *Report) MergePartial(p Partial) {
	r.records += p.Records
	r.valid += p.Valid
	for m, n := range p.ByMessage {
		r.byMessage[m] += n
	}
	kept := 0
	for _, e := range p.Errors {
		r.keep(e)
		kept++
	}
	r.issues += p.Issues - kept
}

// Records is the number of records added.
func (r *Report) Records() int { return r.records }

// Valid is the number of records without issues.
func (r *Report) Valid() int { return r.valid }

// Invalid is the number of records with at least one issue.
func (r *Report) Invalid() int { return r.records - r.valid }

// Issues is the number of issues of all records, kept or not.
func (r *Report) Issues() int { return r.issues }

// ByMessage returns a copy of the issue counts per message.
func (r *Report) ByMessage() map[string]int {
	out := make(map[string]int, len(r.byMessage))
	for m, n := range r.byMessage {
		out[m] = n
	}
	return out
}

// Errors returns a copy of the kept issues, in the order they were added.
func (r *Report) Errors() []ReportError { return append([]ReportError(nil), r.errors...) }

// JSON renders the report as one object:
//
//	{"stage":..., "records":N, "valid":N, "invalid":N, "by_message":{...}, "errors":[{"location":..., "field":..., "message":...}]}
//
// with by_message keys sorted, errors in order ([] when none), and <, >, & left unescaped so
// that Harmony tokens read as themselves. When an input could not be read to its end, the
// counts are partial and the object says so: "unreadable" (after "invalid") is the number of
// such inputs and "read_errors" (last) lists them, each {"file", "line" or "row", "records",
// "message"} (see ReadError). Both are absent from the report of inputs read whole. A report
// given its inputs (SetInputs) lists them as "inputs", after "stage".
func (r *Report) JSON() []byte {
	v := struct {
		Stage      Stage          `json:"stage"`
		Inputs     []string       `json:"inputs,omitempty"`
		Records    int            `json:"records"`
		Valid      int            `json:"valid"`
		Invalid    int            `json:"invalid"`
		Unreadable int            `json:"unreadable,omitempty"`
		ByMessage  map[string]int `json:"by_message"`
		Errors     []ReportError  `json:"errors"`
		ReadErrors []ReadError    `json:"read_errors,omitempty"`
	}{r.stage, r.inputs, r.records, r.valid, r.Invalid(), len(r.unread), r.byMessage, r.errors, r.unread}
	if v.ByMessage == nil {
		v.ByMessage = map[string]int{}
	}
	if v.Errors == nil {
		v.Errors = []ReportError{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // strings and ints only: encoding cannot fail
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// MarshalJSON is JSON, for embedding a report in other values. Note that json.Marshal escapes
// <, > and & in its output; an Encoder with SetEscapeHTML(false) keeps them.
func (r *Report) MarshalJSON() ([]byte, error) { return r.JSON(), nil }

// WriteText writes the human summary: the counts, the issue counts by message (most frequent
// first, ties by message), then the kept errors as "location: field: message". When an input
// could not be read to its end, the first line says so before the counts, which it calls
// partial, and the summary ends with where each such input stopped (the reader's error itself
// is the caller's to print).
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	if n := len(r.unread); n > 0 {
		fmt.Fprintf(&b, "stage %s: %s could not be read to the end; partial counts: %d records, %d valid, %d invalid\n",
			r.stage, plural(n, "input"), r.records, r.valid, r.Invalid())
	} else {
		fmt.Fprintf(&b, "stage %s: %d records, %d valid, %d invalid\n", r.stage, r.records, r.valid, r.Invalid())
	}
	if len(r.byMessage) > 0 {
		msgs := make([]string, 0, len(r.byMessage))
		for m := range r.byMessage {
			msgs = append(msgs, m)
		}
		sort.Slice(msgs, func(i, j int) bool {
			ni, nj := r.byMessage[msgs[i]], r.byMessage[msgs[j]]
			return ni > nj || (ni == nj && msgs[i] < msgs[j])
		})
		b.WriteString("by message:\n")
		for _, m := range msgs {
			fmt.Fprintf(&b, "%8d  %s\n", r.byMessage[m], m)
		}
	}
	if len(r.errors) > 0 {
		fmt.Fprintf(&b, "errors (first %d of %d):\n", len(r.errors), r.issues)
		for _, e := range r.errors {
			if e.Field == "" {
				fmt.Fprintf(&b, "  %s: %s\n", e.Location, e.Message)
			} else {
				fmt.Fprintf(&b, "  %s: %s: %s\n", e.Location, e.Field, e.Message)
			}
		}
	}
	if len(r.unread) > 0 {
		b.WriteString("could not be read:\n")
		for _, e := range r.unread {
			switch pos := e.position(); {
			case pos != "" && e.Records == 0:
				fmt.Fprintf(&b, "  %s: stopped at %s, before the first record\n", e.File, pos)
			case pos != "":
				fmt.Fprintf(&b, "  %s: stopped at %s, after %s\n", e.File, pos, plural(e.Records, "record"))
			case e.Records > 0:
				fmt.Fprintf(&b, "  %s: stopped after %s\n", e.File, plural(e.Records, "record"))
			default:
				fmt.Fprintf(&b, "  %s: stopped before the first record\n", e.File)
			}
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// plural renders "1 record", "2 records".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
