package shard

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

func TestExecute_CountsAndStaging(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "a.jsonl", `{"text":"hello world"}`+"\n\n"+`{"text":"  "}`+"\r\n"+
		`{"text":"second document, a bit longer than the first one"}`+"\n"+`not json`+"\n")
	s := newSpec(t, dir, func(s *job.Spec) { s.ValFraction = 0 }, in)
	_, shards := plan(t, s)
	rs, err := executeAll(t, s, shards)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 {
		t.Fatalf("got %d results", len(rs))
	}
	r := rs[0]
	if r.Documents != (Counts{Read: 4, Written: 2, Rejected: 2, TextBytes: 11 + 48}) {
		t.Errorf("documents = %+v", r.Documents)
	}
	tk := loadTokenizer(t)
	want := int64(len(tk.Encode("hello world")) + len(tk.Encode("second document, a bit longer than the first one")) + 2)
	if r.Tokens.Train != want || r.Tokens.Val != 0 {
		t.Errorf("tokens = %+v, want train %d", r.Tokens, want)
	}
	for _, b := range r.Buckets {
		fi, err := os.Stat(filepath.Join(StagingDir(s.Output.Dir, s.Name), b.File.Name))
		if err != nil {
			t.Fatal(err)
		}
		// The split's token stream, shared by its lengths: the rows, then the tail.
		if fi.Size() != (b.Rows*int64(b.SeqLen)+int64(len(b.Tail)))*4 || fi.Size() != b.File.Bytes {
			t.Errorf("%s: %d bytes for %d rows of %d and a tail of %d", b.File.Name, fi.Size(), b.Rows, b.SeqLen, len(b.Tail))
		}
		if b.File.Name != r.Bucket(b.Split, s.SequenceLengths[0]).File.Name {
			t.Errorf("%s %d: staged in %s, the split's first length in another file", b.Split, b.SeqLen, b.File.Name)
		}
		if b.Split == SplitTrain && b.Rows*int64(b.SeqLen)+int64(len(b.Tail)) != want {
			t.Errorf("%s: rows %d + tail %d != %d tokens", b.File.Name, b.Rows, len(b.Tail), want)
		}
	}
	streams := r.Bucket(SplitTrain, s.SequenceLengths[0]).File.Bytes + r.Bucket(SplitVal, s.SequenceLengths[0]).File.Bytes
	if got := r.StagedBytes(); got != streams+r.Rejects.Bytes {
		t.Errorf("StagedBytes = %d, want the two streams and the rejects, %d", got, streams+r.Rejects.Bytes)
	}
	// The result travels as JSON: it must survive a round trip.
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js, &back); err != nil || back.Documents != r.Documents || len(back.Buckets) != 4 {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	rej, err := os.ReadFile(filepath.Join(StagingDir(s.Output.Dir, s.Name), r.Rejects.Name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(rej)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"line":3`) || !strings.Contains(lines[1], `"line":5`) {
		t.Errorf("rejects:\n%s", rej)
	}
}

func TestExecute_CorruptInputFails(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "cc_en_head-0174.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	in := writeFile(t, dir, "cut.jsonl.gz", string(b[:len(b)/2]))
	s := newSpec(t, dir, nil, in)
	_, shards := plan(t, s)
	_, err = executeAll(t, s, shards)
	if err == nil || !strings.Contains(err.Error(), "cut.jsonl.gz") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
	entries, _ := os.ReadDir(filepath.Join(StagingDir(s.Output.Dir, s.Name), shards[0].ID))
	if len(entries) != 0 {
		t.Errorf("failed attempt left %d staging entries", len(entries))
	}
}

func TestExecute_Cancelled(t *testing.T) {
	dir := t.TempDir()
	in := copyTestdata(t, dir, "c4_head.jsonl")
	s := newSpec(t, dir, nil, in)
	_, shards := plan(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Execute(ctx, shards[0], Env{Job: s, Tokenizer: loadTokenizer(t), StagingDir: StagingDir(s.Output.Dir, s.Name)})
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("err = %v", err)
	}
}
