package runner

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
)

// copyDir copies the regular files of the tree src into dst (created).
func copyDir(t testing.TB, src, dst string) string {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeHF writes rows (nil is a null text) as a save_to_disk directory with a nullable
// string "text" column and a "label" column, batchRows rows per .arrow file.
func writeHF(t testing.TB, dir string, rows []any, batchRows int) string {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	// MaxFileBytes 1 closes the file after every batch: one .arrow file per batchRows rows.
	w, err := hf.CreateTable(dir, schema, hf.Options{BatchRows: batchRows, MaxFileBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if err := w.WriteRecord(map[string]any{"text": r, "label": strings.Repeat("l", i%3)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeHFDict writes a DatasetDict at dir: one split per element of splits, listed in that
// order in dataset_dict.json.
func writeHFDict(t testing.TB, dir string, splits []string, rows [][]any, batchRows int) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range splits {
		writeHF(t, filepath.Join(dir, s), rows[i], batchRows)
	}
	b, _ := json.Marshal(map[string][]string{"splits": splits})
	writeBytes(t, dir, "dataset_dict.json", b)
	return dir
}

func readRejects(t testing.TB, outDir string) []rejectRec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(outDir, "rejects.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []rejectRec
	for _, l := range bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var r rejectRec
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("rejects.jsonl: %v\n%s", err, l)
		}
		out = append(out, r)
	}
	return out
}

// TestRun_HFDirectoryShardsPerArrowFile runs pretraining jobs over Hugging Face save_to_disk directories: the real
// 2-row xturing-tiny dataset, a real DatasetDict, and generated ones with several .arrow files
// and bad rows. Every .arrow file is its own shard; rejects name the .arrow file and the row
// within it; outputs are byte-identical for 1 and 3 workers.
func TestRun_HFDirectoryShardsPerArrowFile(t *testing.T) {
	type reject struct {
		file   string // relative to the input directory
		row    int64
		reason string
	}
	good := func(i int) any { return "document number " + strings.Repeat("word ", i%7+1) }
	tests := []struct {
		name    string
		make    func(t *testing.T, dir string) string // returns the input path
		shards  int
		read    int64
		rejects []reject
	}{
		{"real dataset", func(t *testing.T, dir string) string {
			return copyDir(t, filepath.Join("..", "formats", "testdata", "hf", "xturing-tiny"), filepath.Join(dir, "xturing-tiny"))
		}, 1, 2, nil},
		{"real DatasetDict", func(t *testing.T, dir string) string {
			return copyDir(t, filepath.Join("..", "formats", "testdata", "hf", "hf_datasetdict_roberta_sentiment"), filepath.Join(dir, "dd"))
		}, 3, 3400, nil},
		{"several files with bad rows", func(t *testing.T, dir string) string {
			rows := []any{good(0), good(1), good(2), "   \n\t", good(4), nil, good(6), "", good(8), good(9)}
			return writeHF(t, filepath.Join(dir, "ds"), rows, 4)
		}, 3, 10, []reject{
			{"data-00000-of-00003.arrow", 3, "empty after stripping"},
			{"data-00001-of-00003.arrow", 1, "must be a string"},
			{"data-00001-of-00003.arrow", 3, "empty after stripping"},
		}},
		{"generated DatasetDict", func(t *testing.T, dir string) string {
			// dataset_dict.json lists "zeta" first; shards follow path order.
			return writeHFDict(t, filepath.Join(dir, "dd"), []string{"zeta", "alpha"}, [][]any{
				{good(0), good(1), nil},
				{good(2), "", good(3), good(4), good(5)},
			}, 2)
		}, 5, 8, []reject{
			{"alpha/data-00000-of-00003.arrow", 1, "empty after stripping"},
			{"zeta/data-00001-of-00002.arrow", 0, "must be a string"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := tt.make(t, dir)
			var ref map[string][]byte
			for _, workers := range []int{1, 3} {
				s := testSpec(t, dir, func(s *job.Spec) {
					s.MaxRejectFraction = 1
					s.Output.Overwrite = true
					s.Output.Formats = []job.OutputFormat{job.OutputHF, job.OutputNPY}
					s.Remainder = job.RemainderPad // some datasets hold fewer tokens than a row
				}, in)
				sum, err := runSpec(t, s, quietOptions(workers))
				if err != nil {
					t.Fatalf("workers %d: %v", workers, err)
				}
				m := sum.Manifest
				checkConservation(t, m)
				checkFingerprints(t, m.Inputs)
				if sum.Run.Shards != tt.shards {
					t.Errorf("workers %d: %d shards, want %d (one per .arrow file)", workers, sum.Run.Shards, tt.shards)
				}
				if m.Documents.Read != tt.read || m.Documents.Rejected != int64(len(tt.rejects)) {
					t.Errorf("workers %d: documents %+v, want %d read, %d rejected", workers, m.Documents, tt.read, len(tt.rejects))
				}
				got := readRejects(t, s.Output.Dir)
				if len(got) != len(tt.rejects) {
					t.Fatalf("workers %d: rejects %+v, want %+v", workers, got, tt.rejects)
				}
				for i, w := range tt.rejects {
					r := got[i]
					if r.Source != filepath.Join(in, w.file) || r.Row == nil || *r.Row != w.row ||
						!strings.Contains(r.Reason, w.reason) || len(r.Record) == 0 {
						t.Errorf("workers %d: reject %d = %+v (row %v), want %s row %d %q",
							workers, i, r, r.Row, w.file, w.row, w.reason)
					}
				}
				files := snapshotFiles(t, s.Output.Dir)
				if ref == nil {
					ref = files
					continue
				}
				testutil.SameTree(t, "workers 3 vs 1", ref, files)
			}
		})
	}
}

// TestRun_HFInputFailsNamingFile checks that an HF input that cannot be read (no such column,
// a truncated .arrow file) fails the job with an error naming the .arrow file, and publishes
// nothing.
func TestRun_HFInputFailsNamingFile(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, dir string) string // returns the input directory
		want string                                // in the error, besides the file
	}{
		{"no text column", func(t *testing.T, dir string) string {
			return copyDir(t, filepath.Join("..", "formats", "testdata", "hf", "hf_ricksanchez_val_tokenized"), filepath.Join(dir, "tok"))
		}, `no column "text" (its columns: "input_ids"`},
		{"truncated arrow file", func(t *testing.T, dir string) string {
			in := writeHF(t, filepath.Join(dir, "ds"), []any{"alpha beta", "gamma delta", "epsilon"}, 10)
			p := filepath.Join(in, "data-00000-of-00001.arrow")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			writeBytes(t, in, filepath.Base(p), b[:len(b)-20])
			return in
		}, "record batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := tt.make(t, dir)
			s := testSpec(t, dir, nil, in)
			_, err := runSpec(t, s, quietOptions(2))
			if err == nil || !strings.Contains(err.Error(), filepath.Join(in, "data-00000-of-00001.arrow")) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one naming the .arrow file and %q", err, tt.want)
			}
			if _, err := os.Stat(s.Output.Dir); !os.IsNotExist(err) {
				t.Errorf("output directory left behind: %v", err)
			}
		})
	}
}
