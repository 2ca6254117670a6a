package shard

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// readNpy reads a 2-D .npy file written by npy.Writer: its shape, descr and rows.
func readNpy(t testing.TB, path string) (rows, cols int, descr string, ids []int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("%s: not a .npy v1.0", path)
	}
	hlen := int(binary.LittleEndian.Uint16(b[8:]))
	hdr := string(b[10 : 10+hlen])
	if (10+hlen)%64 != 0 {
		t.Errorf("%s: header not 64-byte aligned", path)
	}
	descr = between(hdr, "'descr': '", "'")
	shape := strings.Split(between(hdr, "'shape': (", ")"), ",")
	rows, _ = strconv.Atoi(strings.TrimSpace(shape[0]))
	cols, _ = strconv.Atoi(strings.TrimSpace(shape[1]))
	data := b[10+hlen:]
	size := map[string]int{"<i8": 8, "<i4": 4, "<u4": 4, "<u2": 2}[descr]
	if len(data) != rows*cols*size {
		t.Fatalf("%s: %d data bytes for shape (%d, %d) %s", path, len(data), rows, cols, descr)
	}
	for i := 0; i < len(data); i += size {
		switch descr {
		case "<i8":
			ids = append(ids, int64(binary.LittleEndian.Uint64(data[i:])))
		case "<i4":
			ids = append(ids, int64(int32(binary.LittleEndian.Uint32(data[i:]))))
		case "<u4":
			ids = append(ids, int64(binary.LittleEndian.Uint32(data[i:])))
		case "<u2":
			ids = append(ids, int64(binary.LittleEndian.Uint16(data[i:])))
		}
	}
	return rows, cols, descr, ids
}

func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	return s[:strings.Index(s, b)]
}

// readHF reads every row of an HF save_to_disk directory's input_ids column, checking the
// points of SPEC.md along the way.
func readHF(t testing.TB, dir string, seqLen int, dtype string) []int64 {
	t.Helper()
	var state map[string]any
	mustJSON(t, filepath.Join(dir, "state.json"), &state)
	for _, k := range []string{"_data_files", "_fingerprint", "_split", "_format_type", "_format_kwargs",
		"_format_columns", "_output_all_columns"} {
		if _, ok := state[k]; !ok {
			t.Errorf("%s/state.json: no %s", dir, k)
		}
	}
	var info struct {
		Features json.RawMessage `json:"features"`
	}
	mustJSON(t, filepath.Join(dir, "dataset_info.json"), &info)
	wantFeat := `{"input_ids":{"feature":{"dtype":"` + dtype + `","_type":"Value"},"_type":"Sequence"}}`
	var gotC bytes.Buffer
	json.Compact(&gotC, info.Features)
	if gotC.String() != wantFeat {
		t.Errorf("%s features = %s, want %s", dir, gotC.String(), wantFeat)
	}
	br, err := hf.OpenBatches(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer br.Close()
	var ids []int64
	for {
		rb, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if md, ok := br.Schema().Metadata().GetValue("huggingface"); !ok || !strings.Contains(md, `"features"`) {
			t.Errorf("%s: schema metadata huggingface = %q", dir, md)
		}
		col := rb.Column(0).(*array.List)
		for r := 0; r < col.Len(); r++ {
			s, e := col.ValueOffsets(r)
			if int(e-s) != seqLen {
				t.Fatalf("%s: row of %d ids, want %d", dir, e-s, seqLen)
			}
			vals := col.ListValues()
			for i := s; i < e; i++ {
				ids = append(ids, valueAt(vals, int(i)))
			}
		}
	}
	return ids
}

func valueAt(a any, i int) int64 {
	switch v := a.(type) {
	case *array.Int64:
		return v.Value(i)
	case *array.Int32:
		return int64(v.Value(i))
	case *array.Uint32:
		return int64(v.Value(i))
	case *array.Uint16:
		return int64(v.Value(i))
	}
	panic("unexpected arrow type")
}

func mustJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// checkOutputs verifies every bucket of m under out: NumPy and HF hold the same rows of the
// right length, and the tokens add up.
func checkOutputs(t testing.TB, out string, m *Manifest) {
	t.Helper()
	for _, b := range m.Buckets {
		var npyIDs, hfIDs []int64
		for _, p := range b.Paths {
			if strings.HasSuffix(p, ".npy") {
				rows, cols, _, ids := readNpy(t, filepath.Join(out, p))
				if int64(rows) != b.Sequences || cols != b.SeqLen {
					t.Errorf("%s: shape (%d, %d), manifest says %d x %d", p, rows, cols, b.Sequences, b.SeqLen)
				}
				npyIDs = ids
			} else {
				hfIDs = readHF(t, filepath.Join(out, p), b.SeqLen, m.DType)
				if int64(len(hfIDs)) != b.Sequences*int64(b.SeqLen) {
					t.Errorf("%s: %d ids for %d sequences", p, len(hfIDs), b.Sequences)
				}
			}
		}
		if npyIDs != nil && hfIDs != nil && !slices.Equal(npyIDs, hfIDs) {
			t.Errorf("%s_%d: NumPy and HF rows differ", b.Split, b.SeqLen)
		}
		want := m.Tokens.Train
		if b.Split == SplitVal {
			want = m.Tokens.Val
		}
		if b.Sequences*int64(b.SeqLen)-b.PaddedTailTokens+b.DroppedTailTokens != want {
			t.Errorf("%s_%d: conservation broken: %+v, split tokens %d", b.Split, b.SeqLen, b, want)
		}
	}
	if m.Documents.Read != m.Documents.Written+m.Documents.Rejected {
		t.Errorf("documents %+v do not add up", m.Documents)
	}
}

// numpyShapes loads every .npy under out with real NumPy (mmap_mode="r") and returns
// "name shape dtype" lines. Without NumPy it skips, or fails when CI is set.
func numpyShapes(t testing.TB, paths []string) map[string]string {
	t.Helper()
	py := testutil.NumPy(t)
	script := `import sys, numpy as np
for p in sys.argv[1:]:
    a = np.load(p, mmap_mode="r")
    assert a.flags["C_CONTIGUOUS"]
    print(p, "x".join(map(str, a.shape)), a.dtype, int(np.asarray(a, dtype=np.int64).sum()))
`
	out, err := exec.Command(py, append([]string{"-c", script}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	res := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(l, " ", 2)
		res[f[0]] = f[1]
	}
	return res
}
