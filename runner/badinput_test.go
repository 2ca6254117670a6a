package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
)

type rejectRec struct {
	Source string          `json:"source"`
	Line   int64           `json:"line"`
	Row    *int64          `json:"row"`
	Reason string          `json:"reason"`
	Record json.RawMessage `json:"record"`
	B64    string          `json:"record_base64"`
	Trunc  bool            `json:"truncated"`
}

// runBadInput runs a one-worker job over one file holding content, with every reject allowed,
// a record limit of 1 KiB and remainder: pad (a few tokens make a row); it checks that the counts add up and returns the spec, the
// input's path and the summary.
func runBadInput(t *testing.T, file, content string) (*job.Spec, string, *Summary) {
	t.Helper()
	dir := t.TempDir()
	in := writeBytes(t, dir, file, []byte(content))
	s := testSpec(t, dir, func(s *job.Spec) { s.MaxRejectFraction, s.MaxRecordBytes, s.Remainder = 1, 1024, job.RemainderPad }, in)
	sum, err := runSpec(t, s, quietOptions(1))
	if err != nil {
		t.Fatal(err)
	}
	checkConservation(t, sum.Manifest)
	return s, in, sum
}

func TestRun_BadRecordsAreRejectedWithLocation(t *testing.T) {
	long := `{"text":"` + strings.Repeat("x", 5000) + `"}`
	ok := `{"text":"ok"}` + "\n" // a job whose every record is rejected fails: no train rows
	tests := []struct {
		name    string
		content string
		written int64
		reason  string // "" means no reject
		line    int64
	}{
		{"malformed JSON", `{"text":"ok"}` + "\n" + `{"text": "unterminated` + "\n", 1, "Malformed JSON: byte 22: unterminated string", 2},
		{"non-object line", `[1, 2, 3]` + "\n" + ok, 1, "Record must be an object", 1},
		{"missing field", `{"body":"x"}` + "\n" + ok, 1, "Missing required field 'text'", 1},
		{"null text", `{"text":null}` + "\n" + ok, 1, "Field 'text' must be a string", 1},
		{"number text", `{"text":42}` + "\n" + ok, 1, "Field 'text' must be a string", 1},
		{"empty text", `{"text":""}` + "\n" + ok, 1, "Field 'text' is empty after stripping", 1},
		{"whitespace text", `{"text":" \t\n\u3000 "}` + "\n" + ok, 1, "Field 'text' is empty after stripping", 1},
		{"invalid UTF-8", "{\"text\":\"ok\"}\n{\"text\":\"bad \xff\xfe bytes\"}\n", 1, "Field 'text' is not valid UTF-8", 2},
		{"over-long record", `{"text":"a"}` + "\n" + long + "\n" + `{"text":"b"}` + "\n", 2, "exceeds max_record_bytes (1024 bytes)", 2},
		{"BOM is not a reject", "\xef\xbb\xbf{\"text\":\"bom\"}\n", 1, "", 0},
		{"CRLF is not a reject", "{\"text\":\"a\"}\r\n{\"text\":\"b\"}\r\n", 2, "", 0},
		{"blank lines are skipped", "\n\n{\"text\":\"a\"}\n   \n\n{\"text\":\"b\"}", 2, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, in, sum := runBadInput(t, "in.jsonl", tt.content)
			m := sum.Manifest
			if m.Documents.Written != tt.written {
				t.Errorf("written = %d, want %d", m.Documents.Written, tt.written)
			}
			b, err := os.ReadFile(filepath.Join(s.Output.Dir, "rejects.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if tt.reason == "" {
				if len(b) != 0 || m.Documents.Rejected != 0 {
					t.Errorf("unexpected rejects: %s", b)
				}
				return
			}
			if m.Documents.Rejected != 1 || m.Rejects.Count != 1 {
				t.Fatalf("rejected = %d, rejects file:\n%s", m.Documents.Rejected, b)
			}
			var r rejectRec
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("rejects.jsonl is not JSON: %v\n%s", err, b)
			}
			if r.Source != in || r.Line != tt.line || !strings.Contains(r.Reason, tt.reason) || len(r.Record) == 0 {
				t.Errorf("reject = %+v, want %s line %d reason %q", r, in, tt.line, tt.reason)
			}
		})
	}
}

func TestRun_ParquetRejectsCarryRow(t *testing.T) {
	dir := t.TempDir()
	in := writeParquet(t, dir, "t.parquet", []string{"one", "   ", "three", "four"}, 2)
	s := testSpec(t, dir, func(s *job.Spec) { s.MaxRejectFraction, s.Remainder = 1, job.RemainderPad }, in)
	if _, err := runSpec(t, s, quietOptions(2)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(s.Output.Dir, "rejects.jsonl"))
	var r rejectRec
	if err := json.Unmarshal(b, &r); err != nil || r.Row == nil || *r.Row != 1 || r.Source != in {
		t.Fatalf("reject %+v (%v) from\n%s", r, err, b)
	}
}

// TestRun_CSVRejectsCarryRow: a rejected CSV row is in rejects.jsonl as a JSON object of its
// cells under the header's names (made only for rejects), with its line.
func TestRun_CSVRejectsCarryRow(t *testing.T) {
	s, in, sum := runBadInput(t, "in.csv", "id,text,note\n1,fine,a\n2,\"  \",\"b, \"\"c\"\"\"\n3,also fine\n")
	if sum.Manifest.Documents.Written != 2 || sum.Manifest.Documents.Rejected != 1 {
		t.Fatalf("documents %+v", sum.Manifest.Documents)
	}
	b, _ := os.ReadFile(filepath.Join(s.Output.Dir, "rejects.jsonl"))
	var r rejectRec
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if want := `{"id":"2","text":"  ","note":"b, \"c\""}`; r.Source != in || r.Line != 3 || string(r.Record) != want ||
		!strings.Contains(r.Reason, "empty after stripping") {
		t.Fatalf("reject %+v, record %s, want line 3, record %s", r, r.Record, want)
	}
}

func TestRun_CorruptInputFailsNamingFile(t *testing.T) {
	gz, err := os.ReadFile(filepath.Join("..", "shard", "testdata", "cc_en_head-0174.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zst, err := os.ReadFile(testutil.DemoCorpus(t))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), zst...)
	for i := len(flipped) / 2; i < len(flipped)/2+64; i++ {
		flipped[i] ^= 0x5a
	}
	tests := []struct {
		name string
		file string
		data func(dir string) []byte
	}{
		{"truncated gzip", "cut.jsonl.gz", func(string) []byte { return gz[:len(gz)*2/3] }},
		{"truncated zstd", "cut.jsonl.zst", func(string) []byte { return zst[:len(zst)/2] }},
		{"corrupt zstd", "bad.jsonl.zst", func(string) []byte { return flipped }},
		{"truncated parquet", "cut.parquet", func(dir string) []byte {
			p := writeParquet(t, dir, "full.parquet", []string{"a b c", "d e f", "g h i"}, 1)
			b, _ := os.ReadFile(p)
			os.Remove(p)
			return b[:len(b)-20]
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := writeBytes(t, dir, tt.file, tt.data(dir))
			s := testSpec(t, dir, func(s *job.Spec) { s.MaxRejectFraction = 1 }, in)
			_, err := runSpec(t, s, quietOptions(2))
			if err == nil || !strings.Contains(err.Error(), tt.file) {
				t.Fatalf("err = %v, want a failure naming %s", err, tt.file)
			}
			t.Logf("error: %v", err)
			if _, err := os.Stat(s.Output.Dir); !os.IsNotExist(err) {
				t.Errorf("failed job left %s", s.Output.Dir)
			}
		})
	}
}
