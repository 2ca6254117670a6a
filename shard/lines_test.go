package shard

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestLineShifts(t *testing.T) {
	tests := []struct {
		name  string
		spans []lineSpan
		want  []int64
	}{
		{"empty", nil, []int64{}},
		{"ranges of one file", []lineSpan{{"a", 1, 3}, {"a", 0, 0}, {"a", 0, 5}, {"a", 0, 2}}, []int64{0, 3, 3, 8}},
		{"a new file starts at line 1", []lineSpan{{"a", 1, 4}, {"a", 0, 2}, {"b", 1, 7}, {"b", 0, 1}}, []int64{0, 4, 0, 7}},
		{"whole files and row groups", []lineSpan{{"a.jsonl", 1, 9}, {"p.parquet", 0, 0}, {"p.parquet", 0, 0}, {"c.jsonl", 1, 2}}, []int64{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lineShifts(tt.spans); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("lineShifts = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCopyShiftedRejects(t *testing.T) {
	src := `dir/a "quoted".jsonl`
	prefix, err := rejectLinePrefix(src)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("r", 300<<10) // longer than the reader's buffer
	in := string(prefix) + `1,"reason":"x","record":"line 1"}` + "\n" +
		string(prefix) + `12,"reason":"y","record":"` + long + `"}` + "\n"
	want := string(prefix) + `101,"reason":"x","record":"line 1"}` + "\n" +
		string(prefix) + `112,"reason":"y","record":"` + long + `"}` + "\n"
	tests := []struct {
		name, in, want, err string
	}{
		{"shifted", in, want, ""},
		{"empty", "", "", ""},
		{"other source", `{"source":"b.jsonl","line":3}` + "\n", "", "no line number"},
		{"cut short", in[:40], "", "cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := copyShiftedRejects(&out, strings.NewReader(tt.in), src, 100)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || out.String() != tt.want {
				t.Fatalf("got %.200q, %v", out.String(), err)
			}
		})
	}
}
