package planner

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

func testSpec(shardSize job.ByteSize) *job.Spec {
	s := job.DefaultSpec()
	s.Name, s.Tokenizer, s.ShardSize = "j", "gpt2", shardSize
	s.Inputs = []job.Input{job.DefaultInput("x")}
	return s
}

// brief is a compact view of a shard for table tests.
type brief struct {
	path       string
	kind       shard.Kind
	start, end int64
	line, row  int64
}

func briefs(shards []shard.Spec) []brief {
	var out []brief
	for _, s := range shards {
		b := brief{path: s.Path, kind: s.Kind, line: s.StartLine, row: s.StartRow}
		switch s.Kind {
		case shard.KindBytes:
			b.start, b.end = s.ByteStart, s.ByteEnd
		case shard.KindRowGroups:
			b.start, b.end = int64(s.RowGroupStart), int64(s.RowGroupEnd)
		}
		out = append(out, b)
	}
	return out
}

func TestPlan_Shards(t *testing.T) {
	rgs := []shard.RowGroup{{Rows: 10, Bytes: 40}, {Rows: 20, Bytes: 40}, {Rows: 30, Bytes: 100}, {Rows: 5, Bytes: 10}, {Rows: 5, Bytes: 10}}
	tests := []struct {
		name string
		in   []shard.Input
		want []brief
	}{
		{"small jsonl one range", []shard.Input{{Path: "a.jsonl", Format: job.FormatJSONL, Size: 50}},
			[]brief{{"a.jsonl", shard.KindBytes, 0, 50, 1, 0}}},
		{"exact multiple", []shard.Input{{Path: "a.jsonl", Format: job.FormatJSONL, Size: 200}},
			[]brief{{"a.jsonl", shard.KindBytes, 0, 100, 1, 0}, {"a.jsonl", shard.KindBytes, 100, 200, 0, 0}}},
		{"even cuts", []shard.Input{{Path: "a.log", Format: job.FormatLines, Size: 201}},
			[]brief{{"a.log", shard.KindBytes, 0, 67, 1, 0}, {"a.log", shard.KindBytes, 67, 134, 0, 0}, {"a.log", shard.KindBytes, 134, 201, 0, 0}}},
		{"empty skipped", []shard.Input{{Path: "a.jsonl", Format: job.FormatJSONL}, {Path: "b.csv", Format: job.FormatCSV}, {Path: "c.txt", Format: job.FormatText}}, nil},
		{"text whole", []shard.Input{{Path: "a.txt", Format: job.FormatText, Size: 1000}},
			[]brief{{"a.txt", shard.KindFile, 0, 0, 0, 0}}},
		{"json array whole", []shard.Input{{Path: "a.json", Format: job.FormatJSON, Size: 1000}},
			[]brief{{"a.json", shard.KindFile, 0, 0, 0, 0}}},
		{"compressed auto whole", []shard.Input{{Path: "a.json.gz", Format: job.FormatAuto, Compression: shard.CompressionGzip, Size: 1000}},
			[]brief{{"a.json.gz", shard.KindFile, 0, 0, 0, 0}}},
		{"compressed whole", []shard.Input{{Path: "a.jsonl.zst", Format: job.FormatJSONL, Compression: shard.CompressionZstd, Size: 1000}},
			[]brief{{"a.jsonl.zst", shard.KindFile, 0, 0, 1, 0}}},
		{"empty compressed kept", []shard.Input{{Path: "a.jsonl.gz", Format: job.FormatJSONL, Compression: shard.CompressionGzip}},
			[]brief{{"a.jsonl.gz", shard.KindFile, 0, 0, 1, 0}}},
		{"csv whole", []shard.Input{{Path: "a.csv", Format: job.FormatCSV, Size: 1000}},
			[]brief{{"a.csv", shard.KindFile, 0, 0, 0, 0}}},
		{"parquet groups", []shard.Input{{Path: "a.parquet", Format: job.FormatParquet, Size: 300, RowGroups: rgs}},
			[]brief{{"a.parquet", shard.KindRowGroups, 0, 2, 0, 0}, {"a.parquet", shard.KindRowGroups, 2, 3, 0, 30}, {"a.parquet", shard.KindRowGroups, 3, 5, 0, 60}}},
		{"parquet unknown groups", []shard.Input{{Path: "a.parquet", Format: job.FormatParquet, Size: 300}},
			[]brief{{"a.parquet", shard.KindFile, 0, 0, 0, 0}}},
		{"hf files", []shard.Input{{Path: "d/data-00001-of-00002.arrow", Format: job.FormatHF, Size: 500}, {Path: "d/data-00000-of-00002.arrow", Format: job.FormatHF, Size: 500}},
			[]brief{{"d/data-00000-of-00002.arrow", shard.KindFile, 0, 0, 0, 0}, {"d/data-00001-of-00002.arrow", shard.KindFile, 0, 0, 0, 0}}},
		{"sorted by path", []shard.Input{{Path: "b.jsonl", Format: job.FormatJSONL, Size: 10}, {Path: "a.jsonl", Format: job.FormatJSONL, Size: 10}},
			[]brief{{"a.jsonl", shard.KindBytes, 0, 10, 1, 0}, {"b.jsonl", shard.KindBytes, 0, 10, 1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(testSpec(100), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(briefs(got), tt.want) {
				t.Fatalf("plan\n%+v\nwant\n%+v", briefs(got), tt.want)
			}
			for i, s := range got {
				if s.Index != i || s.Job != "j" || len(s.ID) != 6 {
					t.Fatalf("shard %d: %+v", i, s)
				}
			}
		})
	}
}

func TestPlan_Refuses(t *testing.T) {
	ok := shard.Input{Path: "a.jsonl", Format: job.FormatJSONL, Size: 10}
	tests := []struct {
		name string
		size job.ByteSize
		in   []shard.Input
		err  string
	}{
		{"zero shard size", 0, []shard.Input{ok}, "shard_size"},
		{"auto format", 100, []shard.Input{{Path: "a", Format: job.FormatAuto, Size: 1}}, "unresolved format"},
		{"unknown format", 100, []shard.Input{{Path: "a", Format: "xml", Size: 1}}, "unresolved format"},
		{"duplicate path", 100, []shard.Input{ok, ok}, "listed twice"},
		{"compressed parquet", 100, []shard.Input{{Path: "a", Format: job.FormatParquet, Compression: shard.CompressionGzip}}, "not supported"},
		{"bad compression", 100, []shard.Input{{Path: "a", Format: job.FormatJSONL, Compression: "lz4"}}, "unknown compression"},
		{"negative size", 100, []shard.Input{{Path: "a", Format: job.FormatJSONL, Size: -1}}, "negative size"},
		{"too many shards", 1, []shard.Input{{Path: "a", Format: job.FormatJSONL, Size: MaxShards + 1}}, "raise shard_size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Plan(testSpec(tt.size), tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Plan error = %v, want %q", err, tt.err)
			}
		})
	}
	s := testSpec(100)
	s.Name = ""
	if _, err := Plan(s, []shard.Input{ok}); err == nil {
		t.Error("nameless job planned")
	}
}

func TestPlan_DeterministicWhateverTheListingOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var ins []shard.Input
	for i := 0; i < 40; i++ {
		ins = append(ins, shard.Input{Path: string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".jsonl",
			Format: job.FormatJSONL, Size: r.Int64N(1000)})
	}
	want, err := Plan(testSpec(64), ins)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, _ := json.Marshal(want)
	for i := 0; i < 20; i++ {
		r.Shuffle(len(ins), func(a, b int) { ins[a], ins[b] = ins[b], ins[a] })
		got, err := Plan(testSpec(64), ins)
		if err != nil {
			t.Fatal(err)
		}
		if gotJSON, _ := json.Marshal(got); string(gotJSON) != string(wantJSON) {
			t.Fatal("plan depends on the listing order")
		}
	}
}

func TestShardID_Width(t *testing.T) {
	tests := []struct {
		i, n int
		want string
	}{
		{0, 1, "000000"}, {41, 100, "000041"}, {999999, 1000000, "999999"},
		{0, 1000001, "0000000"}, {1000000, 1000001, "1000000"},
	}
	for _, tt := range tests {
		if got := ShardID(tt.i, tt.n); got != tt.want {
			t.Errorf("ShardID(%d, %d) = %q, want %q", tt.i, tt.n, got, tt.want)
		}
	}
}

// Small files are planned in runs of about a 64th of shard_size (here 640 / 64 = 10 bytes);
// larger ones, Parquet and HF files, and a run of one, alone.
func TestPlan_GroupsSmallFiles(t *testing.T) {
	in := func(name string, size int64) shard.Input {
		f := shard.Input{Path: name, Format: job.FormatJSONL, Size: size, TextField: "text"}
		switch {
		case strings.HasSuffix(name, ".txt"):
			f.Format = job.FormatText
		case strings.HasSuffix(name, ".zst"):
			f.Compression = shard.CompressionZstd
		case strings.HasSuffix(name, ".parquet"):
			f.Format = job.FormatParquet
		}
		return f
	}
	tests := []struct {
		name string
		in   []shard.Input
		want [][]string // the files of each shard
	}{
		{"run of small files", []shard.Input{in("a.txt", 3), in("b.txt", 3), in("c.txt", 3), in("d.txt", 3), in("e.txt", 3)},
			[][]string{{"a.txt", "b.txt", "c.txt", "d.txt"}, {"e.txt"}}},
		{"mixed formats group", []shard.Input{in("a.jsonl", 2), in("b.jsonl.zst", 2), in("c.txt", 2)},
			[][]string{{"a.jsonl", "b.jsonl.zst", "c.txt"}}},
		{"a large file breaks the run", []shard.Input{in("a.txt", 2), in("b.txt", 2), in("c.txt", 50), in("d.txt", 2), in("e.txt", 2)},
			[][]string{{"a.txt", "b.txt"}, {"c.txt"}, {"d.txt", "e.txt"}}},
		{"parquet is planned alone", []shard.Input{in("a.txt", 2), in("b.parquet", 2), in("c.txt", 2)},
			[][]string{{"a.txt"}, {"b.parquet"}, {"c.txt"}}},
		{"empty files are no shard and no break", []shard.Input{in("a.txt", 2), in("b.jsonl", 0), in("c.txt", 2)},
			[][]string{{"a.txt", "c.txt"}}},
		{"at the target", []shard.Input{in("a.txt", 9), in("b.txt", 1), in("c.txt", 9), in("d.txt", 9)},
			[][]string{{"a.txt", "b.txt"}, {"c.txt", "d.txt"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(testSpec(640), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var files [][]string
			for i, s := range got {
				var names []string
				for _, p := range s.Parts() {
					names = append(names, p.Path)
					if p.ID != s.ID || p.Index != i || p.Job != "j" {
						t.Errorf("part %s of shard %d: id %q index %d job %q", p.Path, i, p.ID, p.Index, p.Job)
					}
				}
				if (s.Kind == shard.KindFiles) != (len(names) > 1) || (s.Kind == shard.KindFiles && s.Path != names[0]) {
					t.Errorf("shard %d: kind %s, path %s, parts %v", i, s.Kind, s.Path, names)
				}
				files = append(files, names)
			}
			if !reflect.DeepEqual(files, tt.want) {
				t.Fatalf("shards %v, want %v", files, tt.want)
			}
		})
	}
	// A part is the whole-file shard of its file: line-oriented files start at line 1.
	got, err := Plan(testSpec(640), []shard.Input{in("a.jsonl", 2), in("b.txt", 2)})
	if err != nil {
		t.Fatal(err)
	}
	parts := got[0].Parts()
	if parts[0].Kind != shard.KindFile || parts[0].StartLine != 1 || parts[0].FileSize != 2 || parts[0].TextField != "text" ||
		parts[1].Kind != shard.KindFile || parts[1].StartLine != 0 || parts[1].Format != job.FormatText {
		t.Errorf("parts %+v", parts)
	}
	// Validate and convert jobs plan file by file.
	v := testSpec(640)
	v.Kind = job.KindValidate
	if got, err := Plan(v, []shard.Input{in("a.jsonl", 2), in("b.jsonl", 2)}); err != nil || len(got) != 2 {
		t.Errorf("validate job: %d shards, %v; want 2", len(got), err)
	}
	// Many tiny files: at most maxGroupFiles a shard.
	var many []shard.Input
	for i := range maxGroupFiles + 10 {
		many = append(many, shard.Input{Path: fmt.Sprintf("f%05d.txt", i), Format: job.FormatText, Size: 1})
	}
	big := testSpec(1 << 30)
	if got, err := Plan(big, many); err != nil || len(got) != 2 || len(got[0].Files) != maxGroupFiles || len(got[1].Files) != 10 {
		t.Errorf("%d tiny files: %d shards, %v", len(many), len(got), err)
	}
}

func TestPlan_RowGroupShardsCarryTheirBytes(t *testing.T) {
	rgs := []shard.RowGroup{{Rows: 10, Bytes: 40}, {Rows: 20, Bytes: 40}, {Rows: 30, Bytes: 100}, {Rows: 5, Bytes: 10}, {Rows: 5, Bytes: 10}}
	spec := job.DefaultSpec()
	spec.Name, spec.ShardSize = "t", 100
	shards, err := Plan(spec, []shard.Input{{Path: "a.parquet", Format: job.FormatParquet, Size: 300, RowGroups: rgs}})
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, s := range shards {
		got = append(got, s.RowGroupBytes)
	}
	if want := []int64{80, 100, 20}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("row group bytes per shard %v, want %v", got, want)
	}
}

// Row-group shards fingerprint windows that tile their file in order, each from where its
// first row group starts; with offsets unknown or out of order, the first shard digests the
// whole file and the others nothing.
func TestPlan_RowGroupDigestWindows(t *testing.T) {
	rgs := func(offsets ...int64) []shard.RowGroup {
		out := make([]shard.RowGroup, len(offsets))
		for i, o := range offsets {
			out[i] = shard.RowGroup{Rows: 10, Bytes: 40, Offset: o}
		}
		return out
	}
	tests := []struct {
		name string
		rgs  []shard.RowGroup
		want [][2]int64
	}{
		{"known", rgs(4, 44, 84, 124), [][2]int64{{0, 84}, {84, 300}}},
		{"gaps between row groups", rgs(4, 60, 100, 200), [][2]int64{{0, 100}, {100, 300}}},
		{"unknown", rgs(0, 0, 0, 0), [][2]int64{{0, 300}, {0, 0}}},
		{"out of order", rgs(4, 84, 44, 124), [][2]int64{{0, 300}, {0, 0}}},
		{"past the end", rgs(4, 44, 84, 300), [][2]int64{{0, 300}, {0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := job.DefaultSpec()
			spec.Name, spec.ShardSize = "t", 80
			shards, err := Plan(spec, []shard.Input{{Path: "a.parquet", Format: job.FormatParquet, Size: 300, RowGroups: tt.rgs}})
			if err != nil {
				t.Fatal(err)
			}
			var got [][2]int64
			for _, s := range shards {
				got = append(got, [2]int64{s.DigestStart, s.DigestEnd})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("windows %v, want %v", got, tt.want)
			}
		})
	}
}
