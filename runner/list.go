package runner

import (
	"log/slog"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/planner"
	"github.com/tokenmill/tokenmill/shard"
)

// List lists the job's inputs as a run does (planner.List, with the row groups of Parquet
// files read from their footers); spec's paths are taken as they are (resolved by the caller:
// job.Load, Spec.ResolvePaths). log, when not nil, receives the listing's warnings. A
// cluster's workers call it to plan a job and to finalize it, so that both list the inputs as
// `tokenmill run` does.
func List(spec *job.Spec, log *slog.Logger) ([]shard.Input, error) {
	return planner.List(spec, planner.ListOptions{RowGroups: parquetRowGroups, Logger: log})
}
