package formats

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// rowGot is what the tests compare of a record.
type rowGot struct {
	Line, Row, Off int64
	Raw            string
	TooLong        bool
	Size           int64
}

// readRows reads every record of path, up to an error.
func readRows(t testing.TB, path string, opt Options) ([]rowGot, error) {
	t.Helper()
	r, err := OpenStream(path, opt)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []rowGot
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		raw := rec.Raw
		if rec.csv != nil && !rec.TooLong {
			raw = rec.JSON() // a CSV row's JSON is made on demand
		}
		out = append(out, rowGot{rec.Line, rec.Row, rec.Offset, string(raw), rec.TooLong, rec.Size})
	}
}

func sameRows(t *testing.T, got, want []rowGot) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestJSONArrayReader_ElementBoundaries checks that elements are cut on the raw bytes at the
// right commas (not those in strings or nested values), that an over-long element comes back
// TooLong with its row, full size and a prefix while the next one is read, that a malformed
// element is a record (the caller rejects it), and that broken array syntax fails the file.
func TestJSONArrayReader_ElementBoundaries(t *testing.T) {
	big := `{"text":"` + strings.Repeat("y", 100<<10) + `"}` // crosses read-buffer chunks
	tests := []struct {
		name, data string
		opt        Options
		want       []rowGot
		wantErr    string
	}{
		{"strings and nesting", `[{"text":"a, ] } \" \\"} , {"x":[1,{"y":"]"}]}` + "\n\t,\"s\"\r\n]\n",
			Options{}, []rowGot{
				{0, 0, 1, `{"text":"a, ] } \" \\"}`, false, 23},
				{0, 1, 27, `{"x":[1,{"y":"]"}]}`, false, 19},
				{0, 2, 49, `"s"`, false, 3},
			}, ""},
		{"BOM keeps file offsets", "\xEF\xBB\xBF[ {} ]", Options{}, []rowGot{{0, 0, 5, "{}", false, 2}}, ""},
		{"empty array", " [ \n ] \n", Options{}, nil, ""},
		{"over-long element skipped", `[{"a":1},{"text":"` + strings.Repeat("z", 300) + `"},{"b":2}]`,
			Options{MaxRecord: 64, PrefixLen: 10}, []rowGot{
				{0, 0, 1, `{"a":1}`, false, 7},
				{0, 1, 9, `{"text":"z`, true, 311},
				{0, 2, 321, `{"b":2}`, false, 7},
			}, ""},
		{"element at the limit", `[{"text":"abc"}  ]`, Options{MaxRecord: 14}, []rowGot{{0, 0, 1, `{"text":"abc"}`, false, 14}}, ""},
		{"element across chunks", "[" + big + "," + big + "]", Options{}, []rowGot{
			{0, 0, 1, big, false, int64(len(big))},
			{0, 1, 2 + int64(len(big)), big, false, int64(len(big))},
		}, ""},
		{"malformed element is a record", `[{"text":"a"} {"text":"b"}, {"c":}]`, Options{}, []rowGot{
			{0, 0, 1, `{"text":"a"} {"text":"b"}`, false, 25},
			{0, 1, 28, `{"c":}`, false, 6},
		}, ""},
		{"not an array", `  "x"`, Options{Format: FormatJSONArray}, nil, "not a JSON array"},
		{"trailing comma", `[{},]`, Options{}, []rowGot{{0, 0, 1, "{}", false, 2}}, "element 1, byte 4: invalid JSON array: missing element before ']'"},
		{"unterminated", `[{}, {"text": "abc`, Options{}, []rowGot{{0, 0, 1, "{}", false, 2}}, "element 1, byte 18: invalid JSON array: unexpected end"},
		{"unbalanced", `[{"a":1}}]`, Options{}, nil, "unbalanced '}'"},
		{"data after", `[{}] {}`, Options{}, []rowGot{{0, 0, 1, "{}", false, 2}}, "data after the JSON array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readRows(t, testutil.WriteFile(t, "a.json", []byte(tt.data)), tt.opt)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			sameRows(t, got, tt.want)
		})
	}
}

// TestCSVReader_RowBoundaries checks rows cut on the raw bytes: quoted newlines and doubled
// quotes, CRLF, blank lines, line numbers after multi-line rows, an over-long row returned
// TooLong with its line, row, size and a prefix of its CSV bytes, and the errors.
func TestCSVReader_RowBoundaries(t *testing.T) {
	tests := []struct {
		name, data string
		opt        Options
		want       []rowGot
		wantErr    string
	}{
		{"quotes, CRLF, blank lines", "id,text\r\n1,\"a,\r\nb \"\"q\"\"\"\r\n\r\n\n2,c", Options{}, []rowGot{
			{2, 0, 9, `{"id":"1","text":"a,\nb \"q\""}`, false, 15},
			{6, 1, 29, `{"id":"2","text":"c"}`, false, 3},
		}, ""},
		{"BOM keeps file offsets", "\xEF\xBB\xBFtext\nx\n", Options{}, []rowGot{{2, 0, 8, `{"text":"x"}`, false, 1}}, ""},
		{"over-long row skipped", "text,n\nshort,1\n\"" + strings.Repeat("long\n\"\",", 40) + "\",2\nafter,3\n",
			Options{MaxRecord: 64, PrefixLen: 8}, []rowGot{
				{2, 0, 7, `{"text":"short","n":"1"}`, false, 7},
				{3, 1, 15, "\"long\n\"\"", true, 324},
				{44, 2, 340, `{"text":"after","n":"3"}`, false, 7},
			}, ""},
		{"row at the limit, CRLF not counted", "text\r\n" + strings.Repeat("w", 16) + "\r\n", Options{MaxRecord: 16},
			[]rowGot{{2, 0, 6, `{"text":"` + strings.Repeat("w", 16) + `"}`, false, 16}}, ""},
		{"bare quote", "text\nok\n\"a\"b\n", Options{}, []rowGot{{2, 0, 5, `{"text":"ok"}`, false, 2}}, "line 3, column 3"},
		{"quote never closed", "text\n\"" + strings.Repeat("v", 100), Options{MaxRecord: 50}, nil, "line 2: a quoted field is not closed"},
		{"header too long", strings.Repeat("h", 100) + "\nx\n", Options{MaxRecord: 50}, nil, "header row of 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readRows(t, testutil.WriteFile(t, "a.csv", []byte(tt.data)), tt.opt)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			sameRows(t, got, tt.want)
		})
	}
}

// TestReader_OverLongRecordBoundedMemory reads a file holding one 10 MiB JSON array element
// or CSV row with a 1 KiB record limit, and checks that the reader allocates far less than the
// record: it is measured and skipped, never held.
func TestReader_OverLongRecordBoundedMemory(t *testing.T) {
	const huge = 10 << 20
	// The long value is full of what a boundary scanner must not cut at: commas, brackets,
	// escaped quotes (JSON), doubled quotes and newlines (CSV).
	jsonLong := `{"text":"` + strings.Repeat(`a, ] } \" [{`, huge/12) + `"}`
	csvLong := `"` + strings.Repeat("a,\n\"\"b ", huge/8) + `"`
	gz := func(s string) []byte {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	tests := []struct {
		name string
		data []byte
		size int64 // of the long record
		line int64
	}{
		{"a.json", []byte(`[{"text":"before"}, ` + jsonLong + `, {"text":"after"}]`), int64(len(jsonLong)), 0},
		{"a.json.gz", gz(`[{"text":"before"}, ` + jsonLong + `, {"text":"after"}]`), int64(len(jsonLong)), 0},
		{"a.csv", []byte("text\nbefore\n" + csvLong + "\nafter\n"), int64(len(csvLong)), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testutil.WriteFile(t, tt.name, tt.data)
			opt := Options{MaxRecord: 1 << 10, PrefixLen: 16}
			var got []rowGot
			var err error
			alloc := totalAlloc(func() { got, err = readRows(t, p, opt) })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 3 || !got[1].TooLong || got[1].Row != 1 || got[1].Line != tt.line || got[1].Size != tt.size ||
				got[1].Raw != prefixOf(tt.name, jsonLong, csvLong) || got[2].TooLong {
				t.Fatalf("records %+v", got)
			}
			t.Logf("allocated %d bytes", alloc)
			if alloc > 1<<20 {
				t.Errorf("reading allocated %d bytes for a %d-byte record with a %d-byte limit", alloc, tt.size, opt.MaxRecord)
			}
		})
	}
}

func prefixOf(name, jsonLong, csvLong string) string {
	if strings.Contains(name, ".csv") {
		return csvLong[:16]
	}
	return jsonLong[:16]
}

// totalAlloc returns the bytes f allocated (runtime.MemStats.TotalAlloc, which never
// decreases: a garbage collection in between cannot hide an allocation).
func totalAlloc(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
