package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/tokenmill/tokenmill/internal/testutil"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// smallFiles writes a directory of small inputs, one document per text file and a few
// JSONL files (some compressed) holding bad records, and returns the directory and the
// bad records' expected (file, line) locations.
func smallFiles(t testing.TB, dir string, n int) (string, map[string]int64) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "shard", "testdata", "c4_head.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, l := range lines(string(src)) {
		var d struct{ Text string }
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, d.Text)
	}
	in := filepath.Join(dir, "small")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := map[string]int64{}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		text := texts[i%len(texts)]
		if len(text) > 1500 {
			text = text[:1500]
		}
		switch {
		case i%50 == 7: // JSONL with a bad record on line 2
			name := fmt.Sprintf("doc%04d.jsonl", i)
			js, _ := json.Marshal(map[string]string{"text": text})
			writeBytes(t, in, name, []byte(string(js)+"\n"+`{"text": 5}`+"\n"+string(js)+"\n"))
			bad[filepath.Join(in, name)] = 2
		case i%50 == 31: // the same, compressed, the bad record on line 3
			name := fmt.Sprintf("doc%04d.jsonl.zst", i)
			js, _ := json.Marshal(map[string]string{"text": text})
			writeBytes(t, in, name, enc.EncodeAll([]byte(string(js)+"\n\n"+`not json`+"\n"), nil))
			bad[filepath.Join(in, name)] = 3
		default:
			writeBytes(t, in, fmt.Sprintf("doc%04d.txt", i), []byte(text))
		}
	}
	return in, bad
}

// A directory of many small files is planned as a few shards of many files each (planner
// groupSmall): the outputs do not depend on the workers, every file is fingerprinted, and
// each reject names its own file and line.
func TestRun_ManySmallFiles(t *testing.T) {
	dir := t.TempDir()
	in, bad := smallFiles(t, dir, 600)
	var ref map[string][]byte
	for _, tt := range []struct {
		workers, batch int
	}{{1, 0}, {3, 2 << 10}, {2, 0}} {
		s := testSpec(t, dir, func(s *job.Spec) {
			s.Output.Overwrite = true
			s.MaxRejectFraction = 1
			s.ShardSize = 8 << 20 // groups of 128 KiB: several shards
			s.Inputs[0].Format = job.FormatAuto
		}, in)
		s.Inputs[0].TextField = "text"
		inputs, shards := planSpec(t, s)
		if len(inputs) != 600 || len(shards) < 3 || len(shards) > 20 || shards[0].Kind != shard.KindFiles {
			t.Fatalf("%d inputs in %d shards (first %s)", len(inputs), len(shards), shards[0].Kind)
		}
		opt := quietOptions(tt.workers)
		opt.BatchBytes = tt.batch
		sum, err := runSpec(t, s, opt)
		if err != nil {
			t.Fatal(err)
		}
		m := sum.Manifest
		checkConservation(t, m)
		checkFingerprints(t, m.Inputs)
		if len(m.Inputs) != 600 || m.Documents.Rejected != int64(len(bad)) || m.Shards != len(shards) {
			t.Errorf("manifest: %d inputs, %d shards, documents %+v", len(m.Inputs), m.Shards, m.Documents)
		}
		rj, err := os.ReadFile(filepath.Join(s.Output.Dir, "rejects.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines(string(rj)) {
			var r rejectRec
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			if want, ok := bad[r.Source]; !ok || r.Line != want {
				t.Errorf("reject at %s:%d (%s), want a line %d of a file with a bad record", r.Source, r.Line, r.Reason, want)
			}
		}
		files := snapshotFiles(t, s.Output.Dir)
		if ref == nil {
			ref = files
			continue
		}
		testutil.SameTree(t, fmt.Sprintf("workers %d", tt.workers), ref, files)
	}
}

// A corrupt file among small ones fails the job with an error naming it, not the first
// file of its shard.
func TestRun_SmallFilesCorruptOneNamed(t *testing.T) {
	dir := t.TempDir()
	in, _ := smallFiles(t, dir, 60)
	zst, err := os.ReadFile(filepath.Join(in, "doc0031.jsonl.zst"))
	if err != nil {
		t.Fatal(err)
	}
	cut := writeBytes(t, in, "doc0031.jsonl.zst", zst[:len(zst)-5])
	s := testSpec(t, dir, func(s *job.Spec) { s.MaxRejectFraction = 1; s.Inputs[0].Format = job.FormatAuto }, in)
	_, err = runSpec(t, s, quietOptions(2))
	if err == nil || !strings.Contains(err.Error(), cut) || strings.Contains(err.Error(), "doc0000") {
		t.Fatalf("err = %v, want a failure naming %s", err, cut)
	}
	if _, err := os.Stat(s.Output.Dir); !os.IsNotExist(err) {
		t.Errorf("failed job left %s", s.Output.Dir)
	}
}
