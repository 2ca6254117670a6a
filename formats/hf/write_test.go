package hf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/internal/formatstest"
)

func writeHF(t *testing.T, dir string, rows [][]int64, opt Options) {
	t.Helper()
	w, err := Create(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if err := w.WriteRow64(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// readHFTokens reads column col back as int64 rows.
func readHFTokens(t *testing.T, dir, col string) ([][]int64, *arrow.Schema) {
	t.Helper()
	b, err := OpenBatches(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var out [][]int64
	var schema *arrow.Schema
	for {
		rb, err := b.Next()
		if err == io.EOF {
			return out, schema
		}
		if err != nil {
			t.Fatal(err)
		}
		schema = rb.Schema()
		l := rb.Column(rb.Schema().FieldIndices(col)[0]).(*array.List)
		off := l.Offsets()
		vals := l.ListValues()
		for i := 0; i < l.Len(); i++ {
			row := []int64{}
			for k := off[i]; k < off[i+1]; k++ {
				switch v := vals.(type) {
				case *array.Int32:
					row = append(row, int64(v.Value(int(k))))
				case *array.Int64:
					row = append(row, v.Value(int(k)))
				case *array.Uint16:
					row = append(row, int64(v.Value(int(k))))
				case *array.Uint32:
					row = append(row, int64(v.Value(int(k))))
				}
			}
			out = append(out, row)
		}
	}
}

func TestHFWriter_RoundTrip(t *testing.T) {
	for _, d := range []formats.DType{formats.Int32, formats.Int64, formats.Uint16, formats.Uint32} {
		for _, n := range []int{0, 1, 999, 1000, 2501} {
			t.Run(fmt.Sprintf("%v_%d", d, n), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "train")
				rows := formatstest.TokenRows(n)
				writeHF(t, dir, rows, Options{DType: d})
				got, schema := readHFTokens(t, dir, "input_ids")
				if fmt.Sprint(got) != fmt.Sprint(rows) && n > 0 {
					t.Fatal("rows differ after the round trip")
				}
				if len(got) != n {
					t.Fatalf("%d rows, want %d", len(got), n)
				}
				if schema != nil {
					if want := "list<item: " + d.String() + ", nullable>"; schema.Field(0).Type.String() != want {
						t.Fatalf("type %s, want %s", schema.Field(0).Type, want)
					}
				}
				ents, _ := os.ReadDir(filepath.Dir(dir))
				if len(ents) != 1 {
					t.Fatalf("leftovers next to the output: %v", ents)
				}
			})
		}
	}
}

func TestHFWriter_MatchesDatasetsLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	writeHF(t, dir, formatstest.TokenRows(10), Options{Fingerprint: "537a0b2798b25d5d"})
	// state.json: the bytes datasets 4.x wrote for the real tokenized split.
	want, _ := os.ReadFile("../testdata/hf/hf_ricksanchez_val_tokenized/state.json")
	got, _ := os.ReadFile(filepath.Join(dir, "state.json"))
	if !bytes.Equal(got, want) {
		t.Fatalf("state.json:\n%s\nwant\n%s", got, want)
	}
	// The Arrow schema and its huggingface metadata match the real
	// tokenized split, except "Sequence" (read by every version) for "List".
	_, ours := readHFTokens(t, dir, "input_ids")
	_, real := readHFTokens(t, "../testdata/hf/hf_ricksanchez_val_tokenized", "input_ids")
	if !arrow.TypeEqual(ours.Field(0).Type, real.Field(0).Type) || ours.Field(0).Nullable != real.Field(0).Nullable {
		t.Fatalf("type %v, real %v", ours.Field(0), real.Field(0))
	}
	meta, _ := ours.Metadata().GetValue("huggingface")
	if meta != `{"info": {"features": {"input_ids": {"feature": {"dtype": "int32", "_type": "Value"}, "_type": "Sequence"}}}}` {
		t.Fatalf("metadata %s", meta)
	}
	realMeta, _ := real.Metadata().GetValue("huggingface")
	if !strings.HasPrefix(realMeta, `{"info": {"features": {"input_ids": {"feature": {"dtype": "int32", "_type": "Value"}, "_type": "List"}`) {
		t.Fatalf("real metadata %s", realMeta)
	}
	var info map[string]json.RawMessage
	b, _ := os.ReadFile(filepath.Join(dir, "dataset_info.json"))
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	keys := "builder_name citation config_name dataset_name dataset_size description download_checksums download_size features homepage license post_processed post_processing_size size_in_bytes splits supervised_keys version"
	var gotKeys []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, `  "`) {
			gotKeys = append(gotKeys, strings.Split(line, `"`)[1])
		}
	}
	if strings.Join(gotKeys, " ") != keys || len(info) != 17 {
		t.Fatalf("dataset_info.json keys %v", gotKeys)
	}
}

func TestHFWriter_SplitsFilesDeterministically(t *testing.T) {
	rows := formatstest.TokenRows(5000)
	a := filepath.Join(t.TempDir(), "a")
	b := filepath.Join(t.TempDir(), "b")
	opt := Options{MaxFileBytes: 40 << 10, DType: formats.Int64}
	writeHF(t, a, rows, opt)
	writeHF(t, b, rows, opt)
	st, err := ReadState(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.DataFiles) < 3 || st.DataFiles[0].Filename != hfDataName(0, len(st.DataFiles)) {
		t.Fatalf("data files %+v", st.DataFiles)
	}
	for _, name := range []string{"state.json", "dataset_info.json", st.DataFiles[0].Filename, st.DataFiles[len(st.DataFiles)-1].Filename} {
		x, _ := os.ReadFile(filepath.Join(a, name))
		y, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Equal(x, y) || len(x) == 0 {
			t.Fatalf("%s differs between two identical runs", name)
		}
	}
	got, _ := readHFTokens(t, a, "input_ids")
	if fmt.Sprint(got) != fmt.Sprint(rows) {
		t.Fatal("rows differ across split files")
	}
	if _, err := Create(a, Options{}); err == nil {
		t.Fatal("Create over an existing directory without Overwrite")
	}
}

// Rows of tens of thousands of ids go in record batches of at most maxBatchBytes of values,
// not 1000 rows; the rows read back are the rows written.
func TestHFWriter_BoundsBatchBytes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "long")
	const width, n = 100000, 200 // 800 KB rows: 83 to a batch
	w, err := Create(dir, Options{DType: formats.Int64})
	if err != nil {
		t.Fatal(err)
	}
	row := make([]int64, width)
	for i := range n {
		row[0], row[width-1] = int64(i), int64(-i)
		if err := w.WriteRow64(row); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := OpenBatches(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var sizes []int64
	for {
		rb, err := b.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, rb.NumRows())
	}
	want := maxBatchBytes / (width * 8)
	if fmt.Sprint(sizes) != fmt.Sprint([]int64{int64(want), int64(want), int64(n - 2*want)}) {
		t.Fatalf("batches of %v rows, want %d, %d and the rest", sizes, want, want)
	}
	rows, _ := readHFTokens(t, dir, "input_ids")
	for i, r := range rows {
		if len(r) != width || r[0] != int64(i) || r[width-1] != int64(-i) {
			t.Fatalf("row %d read back wrong", i)
		}
	}
}
