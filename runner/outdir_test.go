package runner

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/outdir"
	"github.com/tokenmill/tokenmill/job"
)

// userDir writes sb/corpus.jsonl and sb/thesis.txt: a directory of the user's, one file of
// which a job reads.
func userDir(t *testing.T, dir string) (sb, corpus, thesis string) {
	t.Helper()
	sb = filepath.Join(dir, "sb")
	if err := os.Mkdir(sb, 0o755); err != nil {
		t.Fatal(err)
	}
	corpus = writeBytes(t, sb, "corpus.jsonl", []byte(`{"text":"one two three four five six seven eight"}`+"\n"))
	thesis = writeBytes(t, sb, "thesis.txt", []byte("four years of work"))
	return sb, corpus, thesis
}

// Every job kind refuses an output directory that holds its input, with or without
// overwrite, and leaves the user's files in place.
func TestRun_RefusesOutputHoldingInput(t *testing.T) {
	kinds := map[string]func(*job.Spec){
		"pretrain": func(s *job.Spec) { s.SequenceLengths = []int{4} },
		"validate": func(s *job.Spec) { s.Kind, s.Stage, s.Tokenizer = job.KindValidate, "pretrain", "" },
		"convert":  func(s *job.Spec) { s.Kind, s.To, s.Tokenizer = job.KindConvert, job.ConvertJSONL, "" },
	}
	for name, edit := range kinds {
		for _, overwrite := range []bool{false, true} {
			t.Run(name+" overwrite="+strconv.FormatBool(overwrite), func(t *testing.T) {
				dir := t.TempDir()
				sb, corpus, thesis := userDir(t, dir)
				s := job.DefaultSpec()
				s.Name, s.Tokenizer = "sb", "cl100k_base"
				s.Inputs = []job.Input{job.DefaultInput(corpus)}
				s.Output.Dir, s.Output.Overwrite = sb, overwrite
				edit(s)
				if err := s.Validate(); err != nil {
					t.Fatal(err)
				}
				_, err := runSpec(t, s, quietOptions(2))
				if err == nil || !strings.Contains(err.Error(), "output "+sb+" holds the input "+corpus) {
					t.Fatalf("err = %v, want a refusal naming %s and %s", err, sb, corpus)
				}
				for _, p := range []string{corpus, thesis} {
					if _, err := os.Stat(p); err != nil {
						t.Errorf("%s is gone: %v", p, err)
					}
				}
				if entries, _ := os.ReadDir(sb); len(entries) != 2 {
					t.Errorf("sb holds %d entries after the refused run, want its 2 files", len(entries))
				}
				if ls, _ := filepath.Glob(filepath.Join(dir, ".sb*")); len(ls) != 0 {
					t.Errorf("the refused run left %v", ls)
				}
			})
		}
	}
}

// A run refuses an output whose lock another holder has, naming the holder's pid, and
// touches nothing.
func TestRun_LockedOutputRefused(t *testing.T) {
	dir := t.TempDir()
	in := writeBytes(t, dir, "a.jsonl", []byte(`{"text":"one two three four five six seven eight"}`+"\n"))
	s := testSpec(t, dir, func(s *job.Spec) { s.Remainder = job.RemainderPad }, in)
	lock, err := outdir.Acquire(s.Output.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	_, err = runSpec(t, s, quietOptions(1))
	var busy *outdir.BusyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), s.Output.Dir) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("err = %v, want the output busy with pid %d", err, os.Getpid())
	}
	if _, err := os.Stat(s.Output.Dir); !os.IsNotExist(err) {
		t.Errorf("the refused run created the output: %v", err)
	}
	lock.Release()
	if _, err := runSpec(t, s, quietOptions(1)); err != nil {
		t.Fatalf("after the lock is released: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".out.lock")); !os.IsNotExist(err) {
		t.Errorf("the run left its lock file: %v", err)
	}
}

// A run removes what killed runs of any job left beside its output and in its staging area,
// and logs it once.
func TestRun_RemovesLeftoversOfKilledRuns(t *testing.T) {
	dir := t.TempDir()
	in := writeBytes(t, dir, "a.jsonl", []byte(`{"text":"one two three four five six seven eight"}`+"\n"))
	s := testSpec(t, dir, func(s *job.Spec) { s.Remainder = job.RemainderPad }, in) // job "prop"
	left := map[string]int{
		filepath.Join(dir, ".out.tmp-other", "train_64.npy"):     1000,
		filepath.Join(dir, ".out.old-other", "manifest.json"):    10,
		filepath.Join(dir, ".out.tmp-prop", "val_64.npy"):        100,
		filepath.Join(dir, "out", ".staging", "other", "0", "x"): 5,
	}
	for p, n := range left {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeBytes(t, filepath.Dir(p), filepath.Base(p), bytes.Repeat([]byte{'x'}, n))
	}
	var log bytes.Buffer
	opt := quietOptions(2)
	opt.Logger = slog.New(slog.NewTextHandler(&log, nil))
	if _, err := runSpec(t, s, opt); err != nil {
		t.Fatal(err)
	}
	for p := range left {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s stays after the run", p)
		}
	}
	if rest, _ := filepath.Glob(filepath.Join(dir, ".out*")); len(rest) != 0 {
		t.Errorf("left beside the output: %v", rest)
	}
	if n := strings.Count(log.String(), "removed the temporary files"); n != 1 || !strings.Contains(log.String(), ".out.tmp-other (1000 bytes)") ||
		!strings.Contains(log.String(), "bytes=1115") {
		t.Errorf("log (%d mentions):\n%s", n, log.String())
	}
}

// An error on the temporary output directory names the output directory the user gave. The
// output's name leaves room for its lock file but not for the temporary directory's name
// (255 bytes at most), so making the temporary directory fails.
func TestRun_TemporaryPathErrorNamesOutput(t *testing.T) {
	dir := t.TempDir()
	in := writeBytes(t, dir, "a.jsonl", []byte(`{"text":"one two three four five six seven eight"}`+"\n"))
	out := filepath.Join(dir, strings.Repeat("o", 249))
	s := testSpec(t, dir, func(s *job.Spec) { s.Output.Dir = out }, in)
	_, err := runSpec(t, s, quietOptions(1))
	if err == nil {
		t.Fatal("the run succeeded")
	}
	if strings.Contains(err.Error(), ".tmp-") || !strings.Contains(err.Error(), out) {
		t.Errorf("err = %v, want it to name %s and not the temporary directory", err, out)
	}
}
