package planner

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// tree writes files (path -> content) under a new temporary directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const hfState = `{"_data_files": [{"filename": "data-00000-of-00002.arrow"}, {"filename": "data-00001-of-00002.arrow"}]}`

var corpus = map[string]string{
	"a/x.jsonl":                            `{"text":"x"}` + "\n",
	"a/y.jsonl.zst":                        "\x28\xb5\x2f\xfdzz",
	"a/sub/z.txt":                          "line\n",
	"a/sub/w.csv":                          "text\nhi\n",
	"a/p.parquet":                          "PAR1....PAR1",
	"a/README":                             "not data",
	"a/notes.md":                           "not data",
	"a/.hidden/h.jsonl":                    "{}\n",
	"a/_SUCCESS.jsonl":                     "",
	"a/ds/state.json":                      hfState,
	"a/ds/dataset_info.json":               "{}",
	"a/ds/data-00000-of-00002.arrow":       "ARROW1",
	"a/ds/data-00001-of-00002.arrow":       "ARROW1",
	"a/ds/cache-123.arrow":                 "ARROW1",
	"b/dd/dataset_dict.json":               `{"splits":["train"]}`,
	"b/dd/train/state.json":                `{"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}`,
	"b/dd/train/data-00000-of-00001.arrow": "ARROW1",
	"c/blob":                               `  {"text": "sniffed"}`,
	"c/gz":                                 "\x1f\x8bxxxx",
	"c/plain":                              "hello",
	"c/empty":                              "",
	"c/arr.json":                           "\xef\xbb\xbf [{\"text\": \"a\"}]",
	"c/obj.json":                           `{"text": "a"}`,
	"c/x.json.gz":                          "\x1f\x8bxx",
	"b/bad/dataset_dict.json":              `{"splits":["../x"]}`,
	"d/1/2/deep.jsonl":                     "{}\n",
	"d/top.jsonl":                          "{}\n",
	"e/body.jsonl":                         "PAR1....PAR1",
	"e/gz.jsonl":                           "\x1f\x8bxxxx",
	"e/stream.jsonl":                       "\xff\xff\xff\xff\x10\x00\x00\x00schema..",
	"e/x.jsonl.gzip":                       "\x1f\x8bxxxx",
	"f/file.jsonl":                         "ARROW1\x00\x00....",
}

func TestList_Entries(t *testing.T) {
	dir := tree(t, corpus)
	tests := []struct {
		name    string
		entries []job.Input
		want    []string // path:format:compression, relative to dir
		err     string
	}{
		{"directory walk", []job.Input{job.DefaultInput("a")}, []string{
			"a/ds/data-00000-of-00002.arrow:hf:", "a/ds/data-00001-of-00002.arrow:hf:",
			"a/notes.md:text:", "a/p.parquet:parquet:", "a/sub/w.csv:csv:", "a/sub/z.txt:text:",
			"a/x.jsonl:jsonl:", "a/y.jsonl.zst:jsonl:zstd"}, ""},
		{"hf dir", []job.Input{job.DefaultInput("a/ds")}, []string{
			"a/ds/data-00000-of-00002.arrow:hf:", "a/ds/data-00001-of-00002.arrow:hf:"}, ""},
		{"glob", []job.Input{job.DefaultInput("a/*.jsonl*")}, []string{"a/_SUCCESS.jsonl:jsonl:", "a/x.jsonl:jsonl:", "a/y.jsonl.zst:jsonl:zstd"}, ""},
		{"double star", []job.Input{job.DefaultInput("d/**/*.jsonl")}, []string{"d/1/2/deep.jsonl:jsonl:", "d/top.jsonl:jsonl:"}, ""},
		{"double star middle", []job.Input{job.DefaultInput("**/2/*.jsonl")}, []string{"d/1/2/deep.jsonl:jsonl:"}, ""},
		{"sniff jsonl", []job.Input{job.DefaultInput("c/blob")}, []string{"c/blob:jsonl:"}, ""},
		{"explicit format", []job.Input{{Path: "c/plain", Format: job.FormatText, TextField: "text"}}, []string{"c/plain:text:"}, ""},
		{"explicit format sniffs compression", []job.Input{{Path: "c/gz", Format: job.FormatJSONL, TextField: "text"}}, []string{"c/gz:jsonl:gzip"}, ""},
		{"explicit overrides extension", []job.Input{{Path: "a/x.jsonl", Format: job.FormatText}}, []string{"a/x.jsonl:text:"}, ""},
		{"duplicates merged", []job.Input{job.DefaultInput("d"), job.DefaultInput("d/top.jsonl")}, []string{"d/1/2/deep.jsonl:jsonl:", "d/top.jsonl:jsonl:"}, ""},
		{"sorted across entries", []job.Input{job.DefaultInput("d/top.jsonl"), job.DefaultInput("a/x.jsonl")}, []string{"a/x.jsonl:jsonl:", "d/top.jsonl:jsonl:"}, ""},
		{"duplicate conflict", []job.Input{job.DefaultInput("d/top.jsonl"), {Path: "d/top.jsonl", Format: job.FormatText}}, nil, "inputs[1].path: "},
		{"sniff text", []job.Input{job.DefaultInput("c/plain")}, []string{"c/plain:text:"}, ""},
		{"sniff json array", []job.Input{job.DefaultInput("c/arr.json")}, []string{"c/arr.json:json:"}, ""},
		{"sniff json lines", []job.Input{job.DefaultInput("c/obj.json")}, []string{"c/obj.json:jsonl:"}, ""},
		{"compressed inner unknown", []job.Input{job.DefaultInput("c/gz")}, []string{"c/gz:auto:gzip"}, ""},
		{"compressed json", []job.Input{job.DefaultInput("c/x.json.gz")}, []string{"c/x.json.gz:auto:gzip"}, ""},
		{"empty unknown", []job.Input{job.DefaultInput("c/empty")}, []string{"c/empty:text:"}, ""},
		{"hf format on plain dir", []job.Input{{Path: "d", Format: job.FormatHF, TextField: "text"}}, nil, "format hf needs a save_to_disk directory"},
		{"missing", []job.Input{job.DefaultInput("nope.jsonl")}, nil, "inputs[0].path: "},
		{"glob matches nothing", []job.Input{job.DefaultInput("a"), job.DefaultInput("z*/*.jsonl")}, nil, `inputs[1].path: "%s/z*/*.jsonl": no input files found`},
		{"datasetdict splits", []job.Input{job.DefaultInput("b/dd")}, []string{"b/dd/train/data-00000-of-00001.arrow:hf:"}, ""},
		{"datasetdict bad split", []job.Input{job.DefaultInput("b/bad")}, nil, `bad split name "../x"`},
		{"bad glob", []job.Input{job.DefaultInput("a/[")}, nil, "inputs[0].path: "},
		{"content over name", []job.Input{job.DefaultInput("e")}, []string{"e/body.jsonl:parquet:",
			"e/gz.jsonl:jsonl:gzip", "e/stream.jsonl:hf:", "e/x.jsonl.gzip:jsonl:gzip"}, ""},
		{"explicit format over content", []job.Input{{Path: "e/body.jsonl", Format: job.FormatJSONL}}, []string{"e/body.jsonl:jsonl:"}, ""},
		{"arrow ipc file refused", []job.Input{job.DefaultInput("f")}, nil, "an Arrow IPC file (ARROW1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec(100)
			s.Inputs = tt.entries
			resolve(t, s, dir)
			got, err := List(s, ListOptions{})
			if tt.err != "" {
				want := strings.ReplaceAll(tt.err, "%s", dir)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("List error = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var view []string
			for _, in := range got {
				rel, _ := filepath.Rel(dir, in.Path)
				view = append(view, rel+":"+string(in.Format)+":"+string(in.Compression))
			}
			if !reflect.DeepEqual(view, tt.want) {
				t.Fatalf("List =\n%q\nwant\n%q", view, tt.want)
			}
		})
	}
}

func TestList_SizesAndFields(t *testing.T) {
	dir := tree(t, corpus)
	s := testSpec(100)
	s.Inputs = []job.Input{{Path: "a/x.jsonl", Format: job.FormatAuto, TextField: "body"}}
	resolve(t, s, dir)
	got, err := List(s, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := shard.Input{Path: filepath.Join(dir, "a/x.jsonl"), Format: job.FormatJSONL, Size: 13, TextField: "body"}
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("List = %+v, want %+v", got, want)
	}
}

func TestList_RowGroupsCallback(t *testing.T) {
	dir := tree(t, corpus)
	s := testSpec(100)
	s.Inputs = []job.Input{job.DefaultInput("a/p.parquet")}
	rgs := []shard.RowGroup{{Rows: 3, Bytes: 60}, {Rows: 4, Bytes: 60}}
	resolve(t, s, dir)
	got, err := List(s, ListOptions{RowGroups: func(p string) ([]shard.RowGroup, error) {
		if !strings.HasSuffix(p, "p.parquet") {
			t.Errorf("callback for %s", p)
		}
		return rgs, nil
	}})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].RowGroups, rgs) {
		t.Fatalf("List = %+v, %v", got, err)
	}
	plan, err := Plan(s, got)
	if err != nil || len(plan) != 2 || plan[1].StartRow != 3 {
		t.Fatalf("Plan = %+v, %v", plan, err)
	}
	resolve(t, s, dir)
	_, err = List(s, ListOptions{RowGroups: func(string) ([]shard.RowGroup, error) {
		return nil, errors.New("bad footer")
	}})
	if err == nil || !strings.Contains(err.Error(), "bad footer") {
		t.Fatalf("callback error lost: %v", err)
	}
}

// TestList_RealHFDirs lists real save_to_disk directories (copied into formats/testdata from
// the shared test data): a plain dataset and a DatasetDict.
func TestList_RealHFDirs(t *testing.T) {
	const shared = "../formats/testdata"
	tests := []struct {
		dir   string
		files int
	}{
		{"hf/xturing-tiny", 1},
		{"hf/hf_datasetdict_roberta_sentiment", 3}, // train, validation, test
	}
	for _, tt := range tests {
		s := testSpec(100)
		s.Inputs = []job.Input{job.DefaultInput(filepath.Join(shared, tt.dir))}
		got, err := List(s, ListOptions{})
		if err != nil || len(got) != tt.files {
			t.Fatalf("%s: List = %+v, %v", tt.dir, got, err)
		}
		for _, in := range got {
			if in.Format != job.FormatHF || in.Size == 0 {
				t.Fatalf("%s: %+v", tt.dir, in)
			}
		}
	}
}

// TestList_WarnsOnceOfConflicts checks that files whose content contradicts their names are
// reported in one warning, with their count and the first of them.
func TestList_WarnsOnceOfConflicts(t *testing.T) {
	dir := tree(t, corpus)
	var log bytes.Buffer
	s := testSpec(100)
	s.Inputs = []job.Input{job.DefaultInput("e"), job.DefaultInput("a/x.jsonl")}
	resolve(t, s, dir)
	if _, err := List(s, ListOptions{Logger: slog.New(slog.NewTextHandler(&log, nil))}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	first := filepath.Join(dir, "e/body.jsonl") + ": the content is Parquet, not what its name's .jsonl says"
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "files=3") ||
		!strings.Contains(lines[0], strconv.Quote(first)) {
		t.Fatalf("log =\n%s\nwant one warning of 3 files, first %q", log.String(), first)
	}
	log.Reset()
	s.Inputs = []job.Input{job.DefaultInput("a")}
	resolve(t, s, dir)
	if _, err := List(s, ListOptions{Logger: slog.New(slog.NewTextHandler(&log, nil))}); err != nil || log.Len() != 0 {
		t.Fatalf("List of files named for their content: err %v, log %q", err, log.String())
	}
}

// resolve makes the spec's relative paths absolute against dir, as job.Load does against the
// job file's directory before listing.
func resolve(t *testing.T, s *job.Spec, dir string) {
	t.Helper()
	if err := s.ResolvePaths(dir); err != nil {
		t.Fatal(err)
	}
}
