package input

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	pq "github.com/apache/arrow-go/v18/parquet"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/formats/hf"
	"github.com/tokenmill/tokenmill/formats/internal/formatstest"
	"github.com/tokenmill/tokenmill/formats/parquet"
	"github.com/tokenmill/tokenmill/formats/table"
	"github.com/tokenmill/tokenmill/internal/jsonscan"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// texts reads every record of path and returns the extracted field values.
func texts(t *testing.T, path string, opt formats.Options) []string {
	t.Helper()
	r, err := Open(path, opt)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer r.Close()
	var out []string
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		s, kind, err := rec.Extract(opt.Field)
		if kind != jsonscan.FieldOK {
			s = "<" + kind.String() + ">"
		}
		if err != nil {
			t.Fatalf("%s: %v", rec.Where(), err)
		}
		if !json.Valid(rec.JSON()) {
			t.Fatalf("%s: JSON() = %q is not JSON", rec.Where(), rec.JSON())
		}
		out = append(out, s)
	}
}

// drain reads a file to the end and returns the first error other than EOF.
func drain(path string, opt formats.Options) error {
	_, err := formatstest.ReadValues(Open(path, opt))
	return err
}

func TestOpen_RealFixtures(t *testing.T) {
	tests := []struct {
		path, field string
		n           int
		first       string // prefix of the first text
	}{
		{"../testdata/real/cc_en_head-0174.jsonl.gz", "text", 10, ""},
		{"../testdata/real/000.json.gz", "text", 10, "PPAA Home"},
		{testutil.DemoCorpus(t), "text", 2307, ""},
		{"../testdata/real/humaneval-rs.jsonl", "prompt", 156, "/// For a given number n"},
		{"../testdata/hf/xturing-tiny", "text", 2, ""},
		{"../testdata/hf/hf_textdatabench_hf.hf", "text", 5, ""},
		{"../testdata/hf/hf_datasetdict_roberta_sentiment", "text", 2384 + 331 + 685, ""},
		{"../testdata/hf/hf_datasetdict_roberta_sentiment/validation", "text", 331, ""},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			got := texts(t, tt.path, formats.Options{Field: tt.field})
			if len(got) != tt.n {
				t.Fatalf("%d records, want %d", len(got), tt.n)
			}
			if !strings.HasPrefix(got[0], tt.first) || got[0] == "" || strings.HasPrefix(got[0], "<") {
				t.Fatalf("first text %.60q, want prefix %q", got[0], tt.first)
			}
		})
	}
}

func TestOpen_ZstdMatchesLines(t *testing.T) {
	var want []string
	for _, l := range testutil.DemoLines(t) {
		var v struct{ Text string }
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatal(err)
		}
		want = append(want, v.Text)
	}
	got := texts(t, testutil.DemoCorpus(t), formats.Options{Field: "text"})
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Fatal("zstd reader and bufio.Scanner + encoding/json disagree")
	}
}

func TestOpen_SmallFormats(t *testing.T) {
	tests := []struct {
		name, data string
		opt        formats.Options
		want       string // texts joined by '|'
		wantErr    string
	}{
		{"a.json", " \n[{\"text\":\"a\"},\n {\"text\":null}, {\"x\":1}, 5]\n", formats.Options{}, "a|<null>|<missing>|<not an object>", ""},
		{"bom.json", "\xEF\xBB\xBF[{\"text\":\"a\"}]", formats.Options{}, "a", ""},
		{"empty.json", "[]", formats.Options{}, "", ""},
		{"bad.json", "[{\"text\":\"a\"}, {", formats.Options{}, "", "bad.json: element 1"},
		{"trail.json", "[{\"text\":\"a\"}] x", formats.Options{}, "", "data after the JSON array"},
		{"lines.json", "{\"text\":\"a\"}\n{\"text\":\"b\"}\n", formats.Options{}, "a|b", ""},
		{"a.csv", "\xEF\xBB\xBFid,text\n1,hello\n2,\"multi\nline, \"\"quoted\"\"\"\n3\n", formats.Options{}, "hello|multi\nline, \"quoted\"|<missing>", ""},
		{"nocol.csv", "id,body\n1,x\n", formats.Options{}, "", "no column \"text\""},
		{"badquote.csv", "text\n\"a\"b\n", formats.Options{}, "", "badquote.csv: line 2"},
		{"doc.txt", "\xEF\xBB\xBFline one\r\nline two\n", formats.Options{}, "line one\r\nline two\n", ""},
		{"empty.txt", "", formats.Options{}, "", ""},
		{"big.txt", strings.Repeat("z", 100), formats.Options{MaxRecord: 50}, "<malformed JSON>", "too long"},
		{"per-line.txt", "a\n\nb\r\n", formats.Options{Format: formats.FormatLines}, "a|b", ""},
		{"noext", "{\"text\":\"sniffed\"}\n", formats.Options{}, "sniffed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testutil.WriteFile(t, tt.name, []byte(tt.data))
			tt.opt.Field = "text"
			r, err := Open(p, tt.opt)
			var got []string
			for err == nil {
				var rec formats.Record
				if rec, err = r.Next(); err == nil {
					s, kind, xerr := rec.Extract("text")
					if kind != jsonscan.FieldOK {
						s = "<" + kind.String() + ">"
					}
					if xerr != nil && kind != jsonscan.FieldMalformed {
						err = xerr
					}
					if xerr != nil && tt.wantErr != "" {
						err = xerr
					}
					got = append(got, s)
				}
			}
			if r != nil {
				r.Close()
			}
			if tt.wantErr != "" {
				if err == nil || err == io.EOF || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != io.EOF {
				t.Fatal(err)
			}
			if g := strings.Join(got, "|"); g != tt.want {
				t.Fatalf("got %q, want %q", g, tt.want)
			}
		})
	}
}

func TestParquet_RowGroups(t *testing.T) {
	var in []*string
	var all []string
	for i := 0; i < 2500; i++ {
		s := strings.Repeat("w", i%17) + "é"
		if i%100 == 7 {
			in = append(in, nil)
			all = append(all, "<null>")
			continue
		}
		in = append(in, &s)
		all = append(all, s)
	}
	p := formatstest.WriteParquet(t, in, 1000) // row groups of 1000, 1000, 500
	if got := texts(t, p, formats.Options{}); strings.Join(got, "|") != strings.Join(all, "|") {
		t.Fatalf("whole file: %d texts differ", len(got))
	}
	r, err := Open(p, formats.Options{RowGroups: &formats.RowGroups{Start: 1, End: 3}})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil || rec.Row != 1000 {
		t.Fatalf("first row of group 1: %v, row %d", err, rec.Row)
	}
	r.Close()
	if got := texts(t, p, formats.Options{RowGroups: &formats.RowGroups{Start: 1, End: 2}}); strings.Join(got, "|") != strings.Join(all[1000:2000], "|") {
		t.Fatal("row group 1 differs")
	}
	for _, tt := range []struct {
		opt  formats.Options
		want string
	}{
		{formats.Options{Field: "body"}, `no column "body" (its columns: "id", "text")`},
		{formats.Options{Field: "id"}, "not a string column"},
		{formats.Options{RowGroups: &formats.RowGroups{Start: 2, End: 4}}, "out of range"},
	} {
		if _, err := Open(p, tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Fatalf("%+v: err %v, want %q", tt.opt, err, tt.want)
		}
	}
	data, _ := os.ReadFile(p)
	for _, cut := range []int{len(data) / 3, len(data) - 10, 8} {
		bad := testutil.WriteFile(t, "cut.parquet", data[:cut])
		if err := drain(bad, formats.Options{}); err == nil || !strings.Contains(err.Error(), "cut.parquet") {
			t.Fatalf("truncated at %d: err %v", cut, err)
		}
	}
}

func TestHF_NotText(t *testing.T) {
	err := drain("../testdata/hf/hf_ricksanchez_val_tokenized", formats.Options{Field: "input_ids"})
	if err == nil || !strings.Contains(err.Error(), "not a string column") {
		t.Fatalf("err %v", err)
	}
}

// TestReaders_ErrorIsFinal checks that a reader that returned an error does not go on
// returning records (FuzzOpen found both): a CSV row with a stray quote, after which the CSV
// reader read the next rows as if nothing had happened, and an HF data file cut short
// before its end-of-stream marker, after which the record reader used the column of a
// batch the IPC reader had already released (a nil dereference).
func TestReaders_ErrorIsFinal(t *testing.T) {
	hfData := hfTableSeed(t)
	for _, tt := range []struct {
		name string
		data []byte
		opt  formats.Options
		want string
	}{
		{"stray-quote.csv", []byte("text\na\n\"\"b\nc\nd\n"), formats.Options{}, "stray-quote.csv: line 3"},
		{"cut.arrow", hfData[:len(hfData)-1], formats.Options{Format: formats.FormatHF}, "cut.arrow: record batch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := testutil.WriteFile(t, tt.name, tt.data)
			tt.opt.Field = "text"
			var r formats.Reader
			var err error
			if tt.opt.Format == formats.FormatHF {
				r, err = hf.OpenFile(p, tt.opt)
			} else {
				r, err = Open(p, tt.opt)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for err == nil {
				_, err = r.Next()
			}
			if err == io.EOF || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
			for i := 0; i < 3; i++ {
				if rec, err := r.Next(); err == nil {
					t.Fatalf("Next after the error: record %s", rec.Where())
				}
			}
		})
	}
}

// TestRecover_NamesFileAndPlace: a decoder panic becomes an error with the file and the
// place; table.RecoverAt asks for the file when it recovers, so a reader that has moved on to the
// next file names that one.
func TestRecover_NamesFileAndPlace(t *testing.T) {
	file := "a.arrow"
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"table.RecoverErr", func() (err error) {
			defer table.RecoverErr(&err, "x.parquet", "opening Parquet")
			panic("bad footer")
		}, "x.parquet: opening Parquet: corrupt input (decoder panic: bad footer)"},
		{"table.RecoverAt", func() (err error) {
			defer table.RecoverAt(&err, func() string { return file }, "row", 7)
			file = "b.arrow" // the reader opened the next file before it broke
			panic("offsets")
		}, "b.arrow: row 7: corrupt input (decoder panic: offsets)"},
		{"no panic", func() (err error) {
			defer table.RecoverAt(&err, func() string { return file }, "row", 1)
			return nil
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if got := fmt.Sprint(err); tt.want == "" && err != nil || tt.want != "" && got != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// parquet.RowGroups gives each row group's start: after the magic, in file order, each where
// the previous one's compressed bytes end (arrow-go writes row groups back to back), with
// or without dictionary pages.
func TestParquetRowGroups_Offsets(t *testing.T) {
	var in []*string
	for i := 0; i < 1000; i++ {
		s := fmt.Sprintf("document %d %s", i, strings.Repeat("x", i%17))
		in = append(in, &s)
	}
	for _, dict := range []bool{true, false} {
		p := formatstest.WriteParquet(t, in, 300, pq.WithDictionaryDefault(dict))
		gs, err := parquet.RowGroups(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(gs) != 4 || gs[0].Offset != 4 {
			t.Fatalf("dictionary %v: row groups %+v, want 4 from byte 4", dict, gs)
		}
		for i := 1; i < len(gs); i++ {
			if gs[i].Offset != gs[i-1].Offset+gs[i-1].Bytes || gs[i].Offset >= fi.Size() {
				t.Errorf("dictionary %v: row group %d at %d, the one before at %d with %d bytes", dict, i, gs[i].Offset, gs[i-1].Offset, gs[i-1].Bytes)
			}
		}
	}
}
