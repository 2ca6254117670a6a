package shard

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

// progressSpy is a shard's reader that notes the bytes reported to Progress before each
// record is read.
type progressSpy struct {
	formats.Reader
	in   formats.InputCounter
	pr   *Progress
	seen []int64
}

func (s *progressSpy) Next() (formats.Record, error) {
	s.seen = append(s.seen, s.pr.Bytes.Load())
	return s.Reader.Next()
}

func (s *progressSpy) InputBytes() int64 { return s.in.InputBytes() }

// TestPipeline_ProgressMovesDuringCompressedShard runs one whole-file shard of a .gz and a
// .zst file and checks that the bytes reported to Progress grow while records are read (the
// compressed bytes consumed), not only when the shard ends, and never pass the file's size.
func TestPipeline_ProgressMovesDuringCompressedShard(t *testing.T) {
	dir := t.TempDir()
	c4, err := os.ReadFile(filepath.Join("testdata", "c4_head.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(c4)
	zw.Close()
	zst, err := os.ReadFile(testutil.DemoCorpus(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"c4.jsonl.gz", gz.Bytes()},
		{"jargon.jsonl.zst", zst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := writeFile(t, dir, tt.name, string(tt.data))
			s := newSpec(t, dir, nil, in)
			_, shards := plan(t, s)
			if len(shards) != 1 || shards[0].Kind != KindFile {
				t.Fatalf("plan %+v, want one whole-file shard", shards)
			}
			sh := shards[0]
			env := Env{Job: s, Tokenizer: loadTokenizer(t), StagingDir: StagingDir(s.Output.Dir, s.Name), Progress: &Progress{}}
			fr, err := NewFraming(s, env.Tokenizer)
			if err != nil {
				t.Fatal(err)
			}
			rd, err := openShard(sh, formats.DefaultMaxRecord, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			in2, ok := rd.(formats.InputCounter)
			if !ok {
				t.Fatalf("%T does not count its input", rd)
			}
			spy := &progressSpy{Reader: rd, in: in2, pr: env.Progress}
			if err := os.MkdirAll(filepath.Join(env.StagingDir, attemptDir(sh.ID, 0)), 0o755); err != nil {
				t.Fatal(err)
			}
			w, err := newShardWriter(env.StagingDir, attemptDir(sh.ID, 0), s.SequenceLengths, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer w.abort()
			res := Result{Bytes: PlannedBytes(sh)}
			p := newPipeline(env, fr, w, formats.DefaultMaxRecord, &res)
			p.start(sh, spy)
			if err := p.run(context.Background(), spy); err != nil {
				t.Fatal(err)
			}
			size := int64(len(tt.data))
			distinct, prev := 0, int64(0)
			for _, b := range spy.seen {
				if b < prev || b > size {
					t.Fatalf("progress went %d -> %d (file of %d bytes)", prev, b, size)
				}
				if b > prev && b < size {
					distinct++
				}
				prev = b
			}
			if distinct < 3 {
				t.Errorf("progress took %d intermediate values over %d records of a %d-byte file: %v", distinct, len(spy.seen)-1, size, spy.seen)
			}
		})
	}
}
