package validate

import (
	"context"

	"github.com/tokenmill/tokenmill/formats"
)

// MsgMalformed is the issue of a record that is not JSON at all (or too long to decode). The
// document has no words for it; a broken line is an invalid record, not an unreadable input,
// so that one bad line among millions is counted and located like any other rule.
const MsgMalformed = "Malformed JSON"

// CheckRows checks every row of rr against stage into rep, in order. It is the record loop
// shared by `tokenmill validate` and the shards of a kind: validate job, so that both count
// and locate alike. For pretraining, the expected sequence length comes from each source
// file's curriculum directory name (SeqLenFromPath), overriding opt.SeqLen. It returns the
// reader's error when the input breaks off (rows read before stay counted), or ctx's error.
func CheckRows(ctx context.Context, rep *Report, stage Stage, rr formats.RowReader, opt Options) error {
	source, recOpt := "", opt
	return formats.EachRow(ctx, rr, func(row formats.Row) error {
		if row.Source != source {
			// Each .arrow file of a curriculum directory names its own sequence length.
			source, recOpt = row.Source, opt
			if stage == StagePretrain {
				recOpt.SeqLen, _ = SeqLenFromPath(row.Source)
			}
		}
		loc := Locate(row)
		if row.Err != nil {
			rep.Add(loc, []Issue{{Message: MsgMalformed}})
			return nil
		}
		rep.Add(loc, CheckValue(stage, row.Value, recOpt))
		return nil
	})
}

// Locate is where a row was found: "file:line" for line-oriented inputs, "file:row N" for
// tabular ones.
func Locate(row formats.Row) string {
	if row.Line > 0 {
		return LineLocation(row.Source, int(row.Line))
	}
	return RowLocation(row.Source, int(row.Row))
}
