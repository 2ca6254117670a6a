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

// Merge adds the counts and kept errors of o (for records that come after r's) to r.
func (r *Report) Merge(o *Report) {
	r.MergePartial(Partial{Records: o.records, Valid: o.valid, Issues: o.issues,
		ByMessage: o.byMessage, Errors: o.errors})
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
// that Harmony tokens read as themselves.
func (r *Report) JSON() []byte {
	v := struct {
		Stage     Stage          `json:"stage"`
		Records   int            `json:"records"`
		Valid     int            `json:"valid"`
		Invalid   int            `json:"invalid"`
		ByMessage map[string]int `json:"by_message"`
		Errors    []ReportError  `json:"errors"`
	}{r.stage, r.records, r.valid, r.Invalid(), r.byMessage, r.errors}
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
// first, ties by message), then the kept errors as "location: field: message".
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "stage %s: %d records, %d valid, %d invalid\n", r.stage, r.records, r.valid, r.Invalid())
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
	_, err := w.Write(b.Bytes())
	return err
}
