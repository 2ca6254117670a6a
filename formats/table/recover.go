package table

import (
	"fmt"
	"strconv"
	"strings"
)

// RecoverErr turns a panic in a third-party decoder into an error naming
// the file: readers must not crash a worker on bad input.
func RecoverErr(err *error, path, where string) {
	if r := recover(); r != nil {
		*err = panicErr(path, where, r)
	}
}

// RecoverAt is RecoverErr for the per-record and per-batch calls: the place is formatted
// only when a panic is recovered, not on every record, and file is asked for the path then,
// for a reader that goes from file to file. (A deferred call's arguments are evaluated when
// it is deferred: RecoverErr(&err, r.file, ...) named the file before the one being read, or
// none at the first call, "formats: : row 0".)
func RecoverAt(err *error, file func() string, what string, n int64) {
	if r := recover(); r != nil {
		*err = panicErr(file(), fmt.Sprintf("%s %d", what, n), r)
	}
}

func panicErr(path, where string, r any) error {
	return fmt.Errorf("%s: %s: corrupt input (decoder panic: %v)", path, where, r)
}

// QuoteNames lists column names for an error: "id", "body" (or "none").
func QuoteNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
