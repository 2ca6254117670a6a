package shard

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
	"github.com/tokenmill/tokenmill/internal/testutil"
)

func TestInputInfos_DigestsMustTileEachFile(t *testing.T) {
	inputs := []Input{{Path: "a", Size: 10}, {Path: "b", Size: 0}}
	d := func(shard, src string, start, n int64) shardDigest {
		return shardDigest{shard: shard, source: src, input: InputDigest{Start: start, Length: n, CRC32C: uint32(start + 1)}}
	}
	tests := []struct {
		name    string
		digests []shardDigest
		err     string
	}{
		{"whole", []shardDigest{d("0", "a", 0, 10)}, ""},
		{"ranges and an empty one", []shardDigest{d("0", "a", 0, 4), d("1", "a", 4, 0), d("2", "a", 4, 6)}, ""},
		{"gap", []shardDigest{d("0", "a", 0, 4), d("1", "a", 5, 5)}, "shard 1 digested bytes 5-10 of a, but the shards before it end at byte 4"},
		{"overlap", []shardDigest{d("0", "a", 0, 6), d("1", "a", 4, 6)}, "shards before it end at byte 6"},
		{"short", []shardDigest{d("0", "a", 0, 4)}, "a: the shards digested 4 of its 10 bytes"},
		{"none", nil, "a: the shards digested 0 of its 10 bytes"},
		{"unlisted", []shardDigest{d("0", "c", 0, 1)}, "shard 0 reads c, which is not a listed input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			infos, err := inputInfos(inputs, tt.digests)
			if tt.err == "" {
				if err != nil || len(infos) != 2 || infos[1].CRC32C != "00000000" || len(infos[0].CRC32C) != 8 {
					t.Fatalf("inputs %+v, %v", infos, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want %q", err, tt.err)
			}
		})
	}
}

// A file that is not the size it was planned with fails its shard, naming the file, and
// leaves nothing staged.
func TestExecute_InputChangedSincePlanning(t *testing.T) {
	for _, name := range []string{"a.jsonl", "a.jsonl.zst"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			in := copyTestdata(t, dir, "c4_head.jsonl")
			if strings.HasSuffix(name, ".zst") {
				b, err := os.ReadFile(in)
				if err != nil {
					t.Fatal(err)
				}
				in = writeFile(t, dir, name, string(testutil.Zstd(t, b)))
			}
			s := newSpec(t, dir, nil, in)
			_, shards := plan(t, s)
			last := shards[len(shards)-1]
			// Appended to since planning: a whole file is read to its end, past the plan; a
			// byte range still reads its planned bytes, and the last range then owns the
			// new lines, so the file is cut instead.
			f, err := os.OpenFile(in, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if last.Kind == KindBytes {
				err = f.Truncate(last.ByteEnd - 10)
			} else {
				_, err = f.Write(testutil.Zstd(t, []byte("{\"text\":\"late\"}\n"))) // a second frame: still valid zstd
			}
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			env := Env{Job: s, Tokenizer: loadTokenizer(t), StagingDir: StagingDir(s.Output.Dir, s.Name)}
			_, err = Execute(t.Context(), last, env)
			if !errors.Is(err, formats.ErrInputChanged) || !strings.Contains(err.Error(), in) {
				t.Fatalf("err = %v, want ErrInputChanged naming %s", err, in)
			}
			if entries, _ := os.ReadDir(StagingDir(s.Output.Dir, s.Name) + "/" + last.ID); len(entries) != 0 {
				t.Errorf("the failed attempt left %d staging entries", len(entries))
			}
		})
	}
}
