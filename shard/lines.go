package shard

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/validate"
)

// Line numbers of byte-range shards.
//
// A rejected record or a validation error names its file line. A byte-range shard of a big
// JSONL file does not know how many lines precede its range, and counting them would read the
// whole prefix of the file: O(file²/shard_size) over a job. So such a shard numbers its lines
// from 1 (formats.Range.Relative) and reports how many lines start in its range (Lines);
// finalize, which sees every shard in order, sums the Lines of the file's earlier shards and
// shifts the shard's numbers as it assembles its rejects (Finalize) or report errors
// (FinalizeRecords). Error messages of a failing shard still name absolute lines: the prefix
// is counted then, once, on the failure path only.

// shardRange is the formats range of a byte-range shard. firstLine, when > 0, is the file line
// number of the shard's first line (finalize knows it); otherwise the plan's StartLine is used
// when known, and else the lines are numbered from 1 (Relative).
func shardRange(spec Spec, firstLine int64) *formats.Range {
	r := &formats.Range{Start: spec.ByteStart, End: spec.ByteEnd, StartLine: spec.StartLine}
	if firstLine > 0 {
		r.StartLine = firstLine
	}
	r.Relative = r.StartLine <= 0
	return r
}

// relativeLines reports whether the shard numbers its lines from 1 at its range's start.
func relativeLines(spec Spec) bool {
	return spec.Kind == KindBytes && spec.StartLine <= 0
}

// firstLineOf is the FirstLine a result reports for spec: the plan's StartLine, or 0 when the
// shard's numbers are relative.
func firstLineOf(spec Spec) int64 {
	if relativeLines(spec) {
		return 0
	}
	return spec.StartLine
}

// linesRead is the reader's line count (formats.LineCounter), 0 for other readers.
func linesRead(r any) int64 {
	if lc, ok := r.(formats.LineCounter); ok {
		return lc.Lines()
	}
	return 0
}

// lineSpan is what lineShifts needs of one shard result.
type lineSpan struct {
	source    string
	firstLine int64 // the file line of the shard's first line; 0: relative
	lines     int64
}

// lineShifts returns, for shards in plan order, what to add to each shard's line numbers: 0
// for shards that numbered absolutely, the number of lines of the file's earlier shards for
// relative ones. Shards of one file are consecutive in a plan.
func lineShifts(spans []lineSpan) []int64 {
	shifts := make([]int64, len(spans))
	cur, next := "", int64(1) // next: the file line of the next line start
	for i, s := range spans {
		if i == 0 || s.source != cur {
			cur, next = s.source, 1
		}
		first := s.firstLine
		if first <= 0 {
			first = next
			shifts[i] = next - 1
		}
		next = first + s.lines
	}
	return shifts
}

// lineLocator returns how a shard locates its rows in error messages: validate.Locate, with
// the absolute line for relative shards (the prefix is counted at the first call: errors only).
func lineLocator(spec Spec) func(formats.Row) string {
	if !relativeLines(spec) {
		return validate.Locate
	}
	base := int64(-1)
	return func(row formats.Row) string {
		if row.Line <= 0 {
			return validate.Locate(row)
		}
		if base < 0 {
			first, err := formats.FirstLine(spec.Path, spec.ByteStart)
			if err != nil {
				return validate.Locate(row) + " of the range from byte " + strconv.FormatInt(spec.ByteStart, 10)
			}
			base = first - 1
		}
		row.Line += base
		return validate.Locate(row)
	}
}

// shiftLocation adds shift to the line of a "file:line" location of source.
func shiftLocation(loc, source string, shift int64) (string, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(loc, source+":"), 10, 64)
	if err != nil || !strings.HasPrefix(loc, source+":") {
		return "", fmt.Errorf("finalize: location %q is not a line of %s", loc, source)
	}
	return validate.LineLocation(source, int(n+shift)), nil
}

// shiftPartial returns p with its error locations shifted; p is not modified.
func shiftPartial(p validate.Partial, source string, shift int64) (validate.Partial, error) {
	if shift == 0 {
		return p, nil
	}
	errs := make([]validate.ReportError, len(p.Errors))
	for i, e := range p.Errors {
		loc, err := shiftLocation(e.Location, source, shift)
		if err != nil {
			return p, err
		}
		e.Location = loc
		errs[i] = e
	}
	p.Errors = errs
	return p, nil
}

// rejectLinePrefix is how every rejects.jsonl line of a line-oriented source starts, up to
// its line number: appendReject writes the source first, then the line.
func rejectLinePrefix(source string) ([]byte, error) {
	s, err := appendJSONLine(nil, source)
	if err != nil {
		return nil, err
	}
	p := append([]byte(`{"source":`), bytes.TrimSuffix(s, []byte{'\n'})...)
	return append(p, `,"line":`...), nil
}

// shiftRejectLine appends line (one rejects.jsonl line of a relative shard, with its newline)
// to dst with its line number shifted.
func shiftRejectLine(dst, line, prefix []byte, shift int64) ([]byte, error) {
	rest, ok := bytes.CutPrefix(line, prefix)
	digits := 0
	for ok && digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	if !ok || digits == 0 {
		return dst, fmt.Errorf("a staged reject has no line number: %.200s", line)
	}
	n, err := strconv.ParseInt(string(rest[:digits]), 10, 64)
	if err != nil {
		return dst, err
	}
	dst = append(dst, prefix...)
	dst = strconv.AppendInt(dst, n+shift, 10)
	return append(dst, rest[digits:]...), nil
}

// copyShiftedRejects copies the staged rejects of a relative shard from r to w, shifting every
// line number by shift.
func copyShiftedRejects(w io.Writer, r io.Reader, source string, shift int64) error {
	prefix, err := rejectLinePrefix(source)
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(r, 256<<10)
	var line, out []byte
	for {
		line = line[:0]
		for {
			chunk, err := br.ReadSlice('\n')
			line = append(line, chunk...)
			if errors.Is(err, bufio.ErrBufferFull) {
				continue
			}
			if err == io.EOF {
				if len(line) > 0 {
					return fmt.Errorf("a staged reject is cut short: %.200s", line)
				}
				return nil
			}
			if err != nil {
				return err
			}
			break
		}
		if out, err = shiftRejectLine(out[:0], line, prefix, shift); err != nil {
			return err
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
}
