package runner

import (
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/planner"
)

// List lists the job's inputs as a run does (planner.List, with the row groups of Parquet
// files read from their footers), relative paths resolved against baseDir. A cluster's
// workers call it to plan a job and to finalize it, so that both list the inputs as
// `tokenmill run` does.
func List(spec *job.Spec, baseDir string) ([]planner.Input, error) {
	return planner.List(spec, planner.ListOptions{BaseDir: baseDir, RowGroups: parquetRowGroups})
}
