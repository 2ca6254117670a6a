package runner

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestRun_OverLongElementOrRowRejected runs jobs over a JSON array and a CSV file holding one
// record over the limit: it is rejected with its row (array) or line (CSV), its size and a
// prefix, and the records around it are written.
func TestRun_OverLongElementOrRowRejected(t *testing.T) {
	long := strings.Repeat("x, [\\\"], ", 500)
	tests := []struct {
		name, file, content string
		row, line           int64
		prefix              string
	}{
		{"JSON array element", "in.json", `[{"text":"a"}, {"text":"` + long + `"}, {"text":"b"}]`, 1, 0, `{"text":"x, [\"`},
		{"CSV row", "in.csv", "id,text\n1,a\n2,\"" + strings.ReplaceAll(long, `\"`, `""`) + "\"\n3,b\n", -1, 3, `2,"x, [""], x, [`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, in, sum := runBadInput(t, tt.file, tt.content)
			if d := sum.Manifest.Documents; d.Written != 2 || d.Rejected != 1 {
				t.Fatalf("documents %+v", d)
			}
			rs := readRejects(t, s.Output.Dir)
			if len(rs) != 1 {
				t.Fatalf("rejects %+v", rs)
			}
			r := rs[0]
			var rec string
			if err := json.Unmarshal(r.Record, &rec); err != nil {
				t.Fatalf("record %s: %v", r.Record, err)
			}
			row := int64(-1)
			if r.Row != nil {
				row = *r.Row
			}
			if r.Source != in || row != tt.row || r.Line != tt.line || !r.Trunc ||
				!strings.Contains(r.Reason, "exceeds max_record_bytes (1024 bytes)") || !strings.HasPrefix(rec, tt.prefix) || len(rec) > 4096 {
				t.Errorf("reject %+v (row %d), record %.40q, want row %d line %d prefix %q", r, row, rec, tt.row, tt.line, tt.prefix)
			}
		})
	}
}
