package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
)

// rejectsCorpus is a JSONL file with rejects spread over many lines, and what line numbering
// can trip on (a BOM, blank lines, CRLF, an over-long record, no final newline).
func rejectsCorpus(tag string) string {
	var b strings.Builder
	b.WriteString("\xef\xbb\xbf")
	for i := 0; i < 120; i++ {
		switch i % 11 {
		case 1:
			b.WriteString(`{"text": "unterminated` + "\n")
		case 3:
			b.WriteString("\n  \n")
		case 4:
			fmt.Fprintf(&b, `{"body":"%s %d"}`+"\r\n", tag, i)
		case 6:
			b.WriteString(`{"text":"` + strings.Repeat("x", 1500) + `"}` + "\n")
		case 8:
			b.WriteString(`{"text":"  "}` + "\n")
		default:
			fmt.Fprintf(&b, `{"text":"%s document %d %s"}`+"\n", tag, i, strings.Repeat("word ", i%13))
		}
	}
	b.WriteString(`[1]`)
	return b.String()
}

// Byte-range shards number their lines relative to their start and finalize shifts them:
// rejects.jsonl and the outputs are the same for one shard per file and for tiny ranges,
// whatever the workers, and the line numbers are the file's.
func TestRun_RejectLinesAnyShardSize(t *testing.T) {
	dir := t.TempDir()
	a := writeBytes(t, dir, "a.jsonl", []byte(rejectsCorpus("a")))
	b := writeBytes(t, dir, "b.jsonl", []byte(rejectsCorpus("b")))
	tests := []struct {
		name      string
		shardSize job.ByteSize
		workers   int
	}{
		{"one shard per file", 64 << 20, 1},
		{"97-byte ranges, 1 worker", 97, 1},
		{"97-byte ranges, 2 workers", 97, 2},
		{"1000-byte ranges, 2 workers", 1000, 2},
	}
	var refRejects []byte
	refFiles := map[job.ByteSize]map[string][]byte{} // the rows depend on shard_size, not workers
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec(t, dir, func(s *job.Spec) {
				s.MaxRejectFraction = 1
				s.ShardSize = tt.shardSize
				s.Output.Overwrite = true
				s.MaxRecordBytes = 1024
			}, a, b)
			sum, err := runSpec(t, s, quietOptions(tt.workers))
			if err != nil {
				t.Fatal(err)
			}
			if tt.shardSize < 100 && sum.Run.Shards < 100 {
				t.Errorf("only %d shards", sum.Run.Shards)
			}
			files := snapshotFiles(t, s.Output.Dir)
			rejects := files["rejects.jsonl"]
			if refRejects == nil {
				refRejects = rejects
				checkRejectLines(t, rejects, map[string]string{a: rejectsCorpus("a"), b: rejectsCorpus("b")})
			} else if !bytes.Equal(rejects, refRejects) {
				t.Fatalf("rejects.jsonl differs from one shard per file's:\n%s\nwant\n%s", rejects, refRejects)
			}
			if ref := refFiles[tt.shardSize]; ref != nil {
				testutil.SameTree(t, tt.name, ref, files)
			} else {
				refFiles[tt.shardSize] = files
			}
		})
	}
}

// checkRejectLines checks that every reject names the line of its source that holds it.
func checkRejectLines(t *testing.T, rejects []byte, sources map[string]string) {
	t.Helper()
	n := 0
	for _, l := range bytes.Split(bytes.TrimSuffix(rejects, []byte("\n")), []byte("\n")) {
		var r struct {
			Source    string `json:"source"`
			Line      int    `json:"line"`
			Truncated bool   `json:"truncated"`
		}
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(sources[r.Source], "\n")
		if r.Line < 1 || r.Line > len(lines) {
			t.Fatalf("reject at line %d of %s, which has %d lines", r.Line, r.Source, len(lines))
		}
		got := strings.TrimPrefix(strings.TrimSuffix(lines[r.Line-1], "\r"), "\xef\xbb\xbf")
		if !r.Truncated && !bytes.Contains(l, []byte(`"record":`)) || strings.TrimSpace(got) == "" || strings.Contains(got, `document`) {
			t.Fatalf("reject %s names line %d, which is %q", l, r.Line, got)
		}
		n++
	}
	if n < 40 {
		t.Fatalf("only %d rejects", n)
	}
}
