package runner

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// testSpec returns a validated job over paths writing to dir/out.
func testSpec(t testing.TB, dir string, edit func(*job.Spec), paths ...string) *job.Spec {
	t.Helper()
	s := job.DefaultSpec()
	s.Name = "prop"
	s.Tokenizer = "cl100k_base"
	for _, p := range paths {
		s.Inputs = append(s.Inputs, job.DefaultInput(p))
	}
	s.SequenceLengths = []int{64, 256}
	s.ValFraction = 0.1
	s.Output.Dir = filepath.Join(dir, "out")
	if edit != nil {
		edit(s)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

func quietOptions(workers int) Options {
	return Options{Workers: workers, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// planSpec lists and plans s with Run's own prepare.
func planSpec(t testing.TB, s *job.Spec) ([]shard.Input, []shard.Spec) {
	t.Helper()
	p, err := prepare(s, quietOptions(1))
	if err != nil {
		t.Fatal(err)
	}
	p.release(&err)
	return p.inputs, p.shards
}

func runSpec(t testing.TB, s *job.Spec, opt Options) (*Summary, error) {
	t.Helper()
	return Run(context.Background(), s, opt)
}

// snapshotFiles reads every file under dir except run.json, keyed by relative path.
func snapshotFiles(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	return testutil.ReadTree(t, dir, "run.json")
}

func copyFile(t testing.TB, src, dir string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return writeBytes(t, dir, filepath.Base(src), b)
}

func writeBytes(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeParquet writes texts as a "text" column in row groups of groupRows rows.
func writeParquet(t testing.TB, dir, name string, texts []string, groupRows int64) string {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	b := array.NewStringBuilder(memory.DefaultAllocator)
	b.AppendValues(texts, nil)
	col := b.NewArray()
	defer col.Release()
	rb := array.NewRecordBatch(schema, []arrow.Array{col}, int64(len(texts)))
	defer rb.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rb})
	defer tbl.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(groupRows))
	if err := pqarrow.WriteTable(tbl, &buf, groupRows, props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	return writeBytes(t, dir, name, buf.Bytes())
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }
