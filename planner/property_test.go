package planner

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/shard"
)

// readRange is a reference reader following the range rule of the package doc, using only the
// bytes a real reader would look at: the byte before start, then forward from start.
func readRange(data []byte, start, end int64) []int64 {
	pos := start
	if pos > 0 && data[pos-1] != '\n' {
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			return nil
		}
		pos += int64(i) + 1
	}
	var starts []int64
	for pos < end && pos < int64(len(data)) {
		starts = append(starts, pos)
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			break
		}
		pos += int64(i) + 1
	}
	return starts
}

// lineStarts is the truth: every offset where a line starts.
func lineStarts(data []byte) []int64 {
	var out []int64
	for i := range data {
		if i == 0 || data[i-1] == '\n' {
			out = append(out, int64(i))
		}
	}
	return out
}

func randomContent(r *rand.Rand) []byte {
	var b bytes.Buffer
	lines := r.IntN(30)
	if r.IntN(8) == 0 {
		lines = 0
	}
	for i := 0; i < lines; i++ {
		n := r.IntN(12)
		if r.IntN(10) == 0 {
			n = r.IntN(200) // lines longer than many ranges
		}
		for j := 0; j < n; j++ {
			b.WriteByte("ab{}\"\r x"[r.IntN(8)])
		}
		if i < lines-1 || r.IntN(2) == 0 { // sometimes no final newline
			if r.IntN(3) == 0 {
				b.WriteString("\r\n")
			} else {
				b.WriteByte('\n')
			}
		}
	}
	return b.Bytes()
}

func TestPlan_EveryLineInExactlyOneShard(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	groups := 0
	for iter := 0; iter < 150; iter++ {
		dir := t.TempDir()
		files := map[string][]byte{}
		for f := 0; f < 1+r.IntN(4); f++ {
			name := filepath.Join(dir, fmt.Sprintf("f%d.jsonl", f))
			if r.IntN(2) == 0 {
				name = filepath.Join(dir, fmt.Sprintf("t%d.ndjson", f))
			}
			files[name] = randomContent(r)
			if err := os.WriteFile(name, files[name], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		size := 1 + r.IntN(60)
		if r.IntN(3) == 0 {
			size = 64 * (1 + r.IntN(800)) // small files planned together (shard.KindFiles)
		}
		spec := testSpec(job.ByteSize(size))
		spec.Inputs = []job.Input{job.DefaultInput(dir)}
		ins, err := List(spec, ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		shards, err := Plan(spec, ins)
		if err != nil {
			t.Fatal(err)
		}
		owned := map[string][]int64{}
		covered := map[string]int64{} // byte ranges must tile each file from 0
		var parts []shard.Spec
		for _, s := range shards {
			if s.Kind == shard.KindFiles {
				if len(s.Files) < 2 {
					t.Fatalf("iter %d: a group of %d files", iter, len(s.Files))
				}
				groups++
			}
			parts = append(parts, s.Parts()...)
		}
		for _, s := range parts {
			data := files[s.Path]
			if s.Kind == shard.KindFile { // a whole file, in a group: its range is all of it
				s.Kind, s.ByteStart, s.ByteEnd = shard.KindBytes, 0, s.FileSize
			}
			if s.Kind != shard.KindBytes || s.ByteStart != covered[s.Path] || s.ByteEnd <= s.ByteStart {
				t.Fatalf("iter %d: shard %+v does not continue the tiling at %d", iter, s, covered[s.Path])
			}
			covered[s.Path] = s.ByteEnd
			starts := readRange(data, s.ByteStart, s.ByteEnd)
			if s.StartLine > 0 && len(starts) > 0 && starts[0] != lineStarts(data)[s.StartLine-1] {
				t.Fatalf("iter %d: StartLine %d wrong", iter, s.StartLine)
			}
			owned[s.Path] = append(owned[s.Path], starts...)
		}
		for name, data := range files {
			if covered[name] != int64(len(data)) {
				t.Fatalf("iter %d: %s: ranges cover %d of %d bytes", iter, name, covered[name], len(data))
			}
			want := lineStarts(data)
			if fmt.Sprint(owned[name]) != fmt.Sprint(want) {
				t.Fatalf("iter %d: %s (%q, shard size %d): lines read %v, want %v",
					iter, name, data, spec.ShardSize, owned[name], want)
			}
		}
	}
	if groups < 10 {
		t.Errorf("only %d groups of small files in the plans; the test wants them", groups)
	}
}
