package main

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// Every command and subcommand prints its help on stdout and exits 0 for -h and --help,
// listing its own flags (with placeholders and defaults) and no other command's.
func TestCLI_Help(t *testing.T) {
	tests := []struct {
		args    []string
		usage   string   // the help's first line
		want    []string // in the help
		notWant []string
	}{
		{[]string{}, "usage: tokenmill COMMAND [ARGS]", []string{"run ", "tokenizer ", "version "}, nil},
		{[]string{"help"}, "usage: tokenmill COMMAND [ARGS]", []string{"clean "}, nil},
		{[]string{"run"}, "usage: tokenmill run [JOB.yaml] [flags]",
			[]string{"--workers N", "--progress MODE", "(default auto)", "--output-dir DIR", "--shard-size SIZE", "--sequence-lengths LENGTHS", "-v ", "job flags"},
			[]string{"--json", "--field", "--layout"}},
		{[]string{"tokenize"}, "usage: tokenmill tokenize --tokenizer NAME|PATH [flags] [FILE|-]",
			[]string{"--tokenizer NAME|PATH", "--field FIELD", "(default text)", "--workers N", "--special "},
			[]string{"--stage", "--output-dir", "--json"}},
		{[]string{"tokenizer"}, "usage: tokenmill tokenizer SUBCOMMAND [ARGS]", []string{"  info "}, nil},
		{[]string{"tokenizer", "info"}, "usage: tokenmill tokenizer info NAME|PATH", []string{"o200k_harmony"}, []string{"--", "vocab size:"}},
		{[]string{"validate"}, "usage: tokenmill validate --stage STAGE [flags] PATH...",
			[]string{"--stage STAGE", "--layout DIR", "--max-errors N", "(default 20)", "--tokenizer NAME|PATH", "--json "},
			[]string{"--workers", "--to ", "--output-dir"}},
		{[]string{"convert"}, "usage: tokenmill convert INPUT... --to hf|jsonl|parquet [--overwrite] OUT",
			[]string{"--to FORMAT", "--overwrite "}, []string{"--workers", "--stage"}},
		{[]string{"harmony"}, "usage: tokenmill harmony SUBCOMMAND [ARGS]", []string{"  encode "}, nil},
		{[]string{"harmony", "encode"}, "usage: tokenmill harmony encode [flags] IN.jsonl OUT_DIR",
			[]string{"--developer-instructions TEXT", "--tokenize ", "--overwrite "}, []string{"--workers", "--to "}},
		{[]string{"check-lora"}, "usage: tokenmill check-lora CONFIG.yaml...", []string{"exit:"}, []string{"--"}},
		{[]string{"inspect"}, "usage: tokenmill inspect [flags] PATH",
			[]string{"--tokenizer NAME|PATH", "--full ", "--json "}, []string{"--workers", "--stage"}},
		{[]string{"clean"}, "usage: tokenmill clean OUT", nil, []string{"--"}},
		{[]string{"version"}, "usage: tokenmill version", nil, []string{"--"}},
		{[]string{"coordinator"}, "usage: tokenmill coordinator --id ID --data-dir DIR --bind IP --bootstrap-expect N [flags]",
			[]string{"--id ID", "--data-dir DIR", "--bind IP", "--grpc-port N", "--raft-port N", "--gossip-port N", "--join HOST:GOSSIP_PORT", "--bootstrap-expect N", "--http-port N"},
			[]string{"--slots", "--addr"}},
		{[]string{"worker"}, "usage: tokenmill worker --id ID --data-dir DIR --bind IP --join HOST:GOSSIP_PORT [flags]",
			[]string{"--id ID", "--data-dir DIR", "--bind IP", "--grpc-port N", "--gossip-port N", "--join HOST:GOSSIP_PORT", "--slots N", "--tag KEY=VALUE", "--http-port N", "--drain-timeout DURATION", "(default 1m0s)"},
			[]string{"--raft-port", "--bootstrap-expect", "--addr"}},
		{[]string{"dev"}, "usage: tokenmill dev [flags]", []string{"--data-dir DIR", "--slots N"}, []string{"--addr HOST", "--join"}},
		{[]string{"job"}, "usage: tokenmill job SUBCOMMAND [ARGS]", []string{"  submit ", "  status ", "  list ", "  watch ", "  cancel "}, nil},
		{[]string{"job", "submit"}, "usage: tokenmill job submit --addr HOST:PORT [--wait] JOB.yaml", []string{"--addr HOST:PORT", "--wait ", "exit:"}, []string{"--json"}},
		{[]string{"job", "status"}, "usage: tokenmill job status --addr HOST:PORT [--json] JOB_ID", []string{"--addr HOST:PORT", "--json "}, []string{"--wait"}},
		{[]string{"job", "list"}, "usage: tokenmill job list --addr HOST:PORT [--json]", []string{"--addr HOST:PORT", "--json "}, []string{"--wait"}},
		{[]string{"job", "watch"}, "usage: tokenmill job watch --addr HOST:PORT JOB_ID", []string{"--addr HOST:PORT"}, []string{"--json"}},
		{[]string{"job", "cancel"}, "usage: tokenmill job cancel --addr HOST:PORT JOB_ID", []string{"--addr HOST:PORT"}, []string{"--json"}},
		{[]string{"members"}, "usage: tokenmill members --addr HOST:PORT [--json]", []string{"--addr HOST:PORT", "--json "}, []string{"--wait"}},
		{[]string{"operator"}, "usage: tokenmill operator SUBCOMMAND [ARGS]", []string{"  raft "}, nil},
		{[]string{"operator", "raft"}, "usage: tokenmill operator raft SUBCOMMAND [ARGS]", []string{"  list-peers ", "  remove-peer "}, nil},
		{[]string{"operator", "raft", "list-peers"}, "usage: tokenmill operator raft list-peers --addr HOST:PORT [--json]", []string{"--addr HOST:PORT", "--json "}, nil},
		{[]string{"operator", "raft", "remove-peer"}, "usage: tokenmill operator raft remove-peer --addr HOST:PORT ID", []string{"--addr HOST:PORT"}, []string{"--json"}},
	}
	for _, tt := range tests {
		for _, h := range []string{"-h", "--help"} {
			args := append(append([]string{}, tt.args...), h)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				r := runBinary(t, t.TempDir(), "", args...)
				if r.Code != 0 || r.Stderr != "" {
					t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", r.Code, r.Stderr)
				}
				if first, _, _ := strings.Cut(r.Stdout, "\n"); first != tt.usage {
					t.Errorf("first line %q, want %q", first, tt.usage)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.Stdout, w) {
						t.Errorf("help lacks %q:\n%s", w, r.Stdout)
					}
				}
				for _, w := range tt.notWant {
					if strings.Contains(r.Stdout, w) {
						t.Errorf("help holds %q, not a flag of this command:\n%s", w, r.Stdout)
					}
				}
			})
		}
	}
}

// A usage error prints one line saying what is wrong and a pointer to the command's help on
// stderr, nothing on stdout, and exits 2, before any work (a tokenizer named --help is not
// loaded).
func TestCLI_UsageErrors(t *testing.T) {
	dir := t.TempDir()
	job := writeFile(t, filepath.Join(dir, "job.yaml"), "name: j\ninputs:\n  - path: in.jsonl\ntokenizer: cl100k_base\nsequence_lengths: [4]\noutput:\n  dir: out\n")
	tests := []struct {
		args []string
		cmd  string // the command the pointer names
		line string // the first line of stderr
	}{
		{[]string{"bogus"}, "", "tokenmill: unknown command \"bogus\""},
		{[]string{"--bogus"}, "", "tokenmill: unknown flag --bogus"},
		{[]string{"run"}, "run", "tokenmill run: missing JOB.yaml (or job flags such as --input and --tokenizer)"},
		{[]string{"run", job, "other.yaml"}, "run", `tokenmill run: unexpected argument "other.yaml": one JOB.yaml at most`},
		{[]string{"run", job, "--workers", "0"}, "run", "tokenmill run: --workers must be at least 1, got 0"},
		{[]string{"run", "--workers=-3", job}, "run", "tokenmill run: --workers must be at least 1, got -3"},
		{[]string{"run", job, "--workers"}, "run", "tokenmill run: --workers needs a value"},
		{[]string{"run", job, "--workers", "many"}, "run", `tokenmill run: --workers: invalid value "many": parse error`},
		{[]string{"run", job, "--foo"}, "run", "tokenmill run: unknown flag --foo"},
		{[]string{"run", job, "--seed", "-1"}, "run", `tokenmill run: --seed: expected a non-negative integer below 2^64, got "-1"`},
		{[]string{"run", job, "--progress", "fancy"}, "run", `tokenmill run: --progress: "fancy" is not one of auto, bar, lines, none`},
		{[]string{"tokenize"}, "tokenize", "tokenmill tokenize: --tokenizer is required"},
		{[]string{"tokenize", "--tokenizer", "gpt2", "--workers", "0"}, "tokenize", "tokenmill tokenize: --workers must be at least 1, got 0"},
		{[]string{"tokenize", "--tokenizer", "gpt2", "--workers", "-2"}, "tokenize", "tokenmill tokenize: --workers must be at least 1, got -2"},
		{[]string{"tokenize", "--tokenizer", "gpt2", "a", "b"}, "tokenize", `tokenmill tokenize: unexpected argument "b": one FILE at most`},
		{[]string{"tokenizer"}, "tokenizer", "tokenmill tokenizer: missing subcommand"},
		{[]string{"tokenizer", "show"}, "tokenizer", `tokenmill tokenizer: unknown subcommand "show"`},
		{[]string{"tokenizer", "info"}, "tokenizer info", "tokenmill tokenizer info: missing NAME|PATH"},
		{[]string{"tokenizer", "info", "--helpme"}, "tokenizer info", "tokenmill tokenizer info: unknown flag --helpme"},
		{[]string{"validate", "x.jsonl"}, "validate", "tokenmill validate: --stage is required"},
		{[]string{"validate", "--stage", "sft"}, "validate", "tokenmill validate: missing PATH"},
		{[]string{"validate", "--stage", "bogus", "x.jsonl"}, "validate", `tokenmill validate: --stage: unknown stage "bogus" (want one of pretrain, sft, dpo, lora, rust-lang, rust-agent, mutations, ipo, grpo, eval)`},
		{[]string{"validate", "--layout", "d", "--stage", "sft"}, "validate", "tokenmill validate: --layout and --stage exclude each other (a layout's directories name their stages)"},
		{[]string{"validate", "--stage", "sft", "x.jsonl", "--max-errors"}, "validate", "tokenmill validate: --max-errors needs a value"},
		{[]string{"convert", "a.jsonl", "b.jsonl"}, "convert", "tokenmill convert: --to is required"},
		{[]string{"convert", "--to", "csv", "a.jsonl", "b.csv"}, "convert", `tokenmill convert: --to: "csv" is not one of hf, jsonl, parquet`},
		{[]string{"convert", "--to", "hf", "a.jsonl"}, "convert", "tokenmill convert: missing OUT (the last argument is the output)"},
		{[]string{"harmony"}, "harmony", "tokenmill harmony: missing subcommand"},
		{[]string{"harmony", "decode"}, "harmony", `tokenmill harmony: unknown subcommand "decode"`},
		{[]string{"harmony", "encode", "in.jsonl"}, "harmony encode", "tokenmill harmony encode: missing OUT_DIR"},
		{[]string{"check-lora"}, "check-lora", "tokenmill check-lora: missing CONFIG.yaml"},
		{[]string{"inspect"}, "inspect", "tokenmill inspect: missing PATH"},
		{[]string{"inspect", "a", "b"}, "inspect", `tokenmill inspect: unexpected argument "b": one PATH at a time`},
		{[]string{"version", "now"}, "version", `tokenmill version: unexpected argument "now"`},
		{[]string{"coordinator", "--data-dir", "d", "--bind", "127.0.0.1", "--bootstrap-expect", "3"}, "coordinator", "tokenmill coordinator: missing --id"},
		{[]string{"coordinator", "--id", "c1", "--data-dir", "d", "--bind", "127.0.0.1"}, "coordinator", "tokenmill coordinator: missing --bootstrap-expect (the number of coordinators that form the cluster)"},
		{[]string{"coordinator", "--id", "c1", "--data-dir", "d", "--bind", "0.0.0.0", "--bootstrap-expect", "3"}, "coordinator", `tokenmill coordinator: bind address "0.0.0.0": want the IP address other nodes reach this one at`},
		{[]string{"coordinator", "--id", "c1", "--data-dir", "d", "--bind", "127.0.0.1", "--bootstrap-expect", "-1"}, "coordinator", "tokenmill coordinator: --bootstrap-expect must be 0 or more, got -1"},
		{[]string{"coordinator", "--id", "c1", "--data-dir", "d", "--bind", "127.0.0.1", "--bootstrap-expect", "3", "--raft-port", "70000"}, "coordinator", "tokenmill coordinator: raft port 70000 out of range"},
		{[]string{"worker", "--id", "w1", "--data-dir", "d", "--bind", "127.0.0.1"}, "worker", "tokenmill worker: missing --join (the gossip address of a coordinator)"},
		{[]string{"worker", "--id", "w1", "--bind", "127.0.0.1", "--join", "h:1"}, "worker", "tokenmill worker: missing --data-dir"},
		{[]string{"worker", "--id", "w1", "--data-dir", "d", "--bind", "127.0.0.1", "--join", "h:1", "--slots", "0"}, "worker", "tokenmill worker: --slots must be at least 1, got 0"},
		{[]string{"worker", "--id", "w1", "--data-dir", "d", "--bind", "127.0.0.1", "--join", "h:1", "--tag", "zone"}, "worker", `tokenmill worker: --tag: tag "zone": want key=value`},
		{[]string{"worker", "--id", "w1", "--data-dir", "d", "--bind", "127.0.0.1", "--join", "h:1", "--drain-timeout", "soon"}, "worker", `tokenmill worker: --drain-timeout: invalid value "soon": parse error`},
		{[]string{"dev", "extra"}, "dev", `tokenmill dev: unexpected argument "extra"`},
		{[]string{"job"}, "job", "tokenmill job: missing subcommand"},
		{[]string{"job", "run"}, "job", `tokenmill job: unknown subcommand "run"`},
		{[]string{"job", "submit", job}, "job submit", "tokenmill job submit: missing --addr HOST:PORT (or set TOKENMILL_ADDR): which coordinator to ask"},
		{[]string{"job", "submit", "--addr", "h:1"}, "job submit", "tokenmill job submit: missing JOB.yaml"},
		{[]string{"job", "submit", "--addr", "h:1", job, "--wiat"}, "job submit", "tokenmill job submit: unknown flag --wiat"},
		{[]string{"job", "status", "--addr", "h:1"}, "job status", "tokenmill job status: missing JOB_ID"},
		{[]string{"job", "status", "--addr", "h:1", "a", "b"}, "job status", `tokenmill job status: unexpected argument "b"`},
		{[]string{"job", "list"}, "job list", "tokenmill job list: missing --addr HOST:PORT (or set TOKENMILL_ADDR): which coordinator to ask"},
		{[]string{"job", "list", "--addr", "h:1", "x"}, "job list", `tokenmill job list: unexpected argument "x"`},
		{[]string{"job", "watch", "--addr", "h:1"}, "job watch", "tokenmill job watch: missing JOB_ID"},
		{[]string{"job", "cancel", "--addr"}, "job cancel", "tokenmill job cancel: --addr needs a value"},
		{[]string{"members", "--addr", "h:1", "--yaml"}, "members", "tokenmill members: unknown flag --yaml"},
		{[]string{"members"}, "members", "tokenmill members: missing --addr HOST:PORT (or set TOKENMILL_ADDR): which coordinator to ask"},
		{[]string{"operator"}, "operator", "tokenmill operator: missing subcommand"},
		{[]string{"operator", "raft"}, "operator raft", "tokenmill operator raft: missing subcommand"},
		{[]string{"operator", "raft", "list-peers", "--addr", "h:1", "x"}, "operator raft list-peers", `tokenmill operator raft list-peers: unexpected argument "x"`},
		{[]string{"operator", "raft", "remove-peer", "--addr", "h:1"}, "operator raft remove-peer", "tokenmill operator raft remove-peer: missing ID"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runBinary(t, dir, "", tt.args...)
			pointer := "Run 'tokenmill " + tt.cmd + " --help' for usage."
			if tt.cmd == "" {
				pointer = "Run 'tokenmill --help' for usage."
			}
			want := tt.line + "\n" + pointer + "\n"
			if r.Code != exitUsage || r.Stdout != "" || r.Stderr != want {
				t.Errorf("exit %d, stdout %q, stderr\n%s\nwant exit 2, no stdout, stderr\n%s", r.Code, r.Stdout, r.Stderr, want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("a usage error made the output: %v", err)
	}
}

func TestCLI_Version(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runBinary(t, "", "", args...)
		line := strings.TrimSuffix(r.Stdout, "\n")
		if r.Code != 0 || r.Stderr != "" || strings.Contains(line, "\n") ||
			!strings.HasPrefix(line, "tokenmill ") || !strings.Contains(line, " commit ") || !strings.HasSuffix(line, " "+runtime.Version()) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want one line with the version, commit and %s", args, r.Code, r.Stdout, r.Stderr, runtime.Version())
		}
	}
}

func TestVersionLine(t *testing.T) {
	const rev = "0123456789abcdef0123456789abcdef01234567"
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"checkout", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs", "git", "vcs.revision", rev, "vcs.modified", "false")},
			"tokenmill (devel) commit " + rev + " go1.26.1"},
		{"dirty checkout", &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"},
			Settings: settings("vcs.revision", rev, "vcs.modified", "true")},
			"tokenmill (devel) commit " + rev + "-dirty go1.26.1"},
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.3.1"}},
			"tokenmill v0.3.1 commit unknown go1.26.0"},
		{"no build info", nil, "tokenmill (unknown) commit unknown unknown"},
	}
	for _, tt := range tests {
		if got := versionLine(tt.bi); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// repeatedPrefix returns the first "x: " part of line that the part after it repeats ("x: x:",
// or "cannot read x: x:"), or "".
func repeatedPrefix(line string) string {
	parts := strings.Split(line, ": ")
	for i := 1; i < len(parts); i++ {
		p, next := strings.TrimSpace(parts[i-1]), strings.TrimSpace(parts[i])
		if next != "" && (p == next || strings.HasSuffix(p, " "+next)) {
			return next
		}
	}
	return ""
}

func TestRepeatedPrefix(t *testing.T) {
	tests := []struct{ line, want string }{
		{"tokenmill tokenize: tokenizer: tokenizer: x", "tokenizer"},
		{"tokenmill inspect: cannot read a.zst: a.zst: line 3: zstd: unexpected EOF", "a.zst"},
		{"tokenmill run: output.dtype: output.dtype: bad", "output.dtype"},
		{"tokenmill run: job failed: a.zst: line 3: zstd: unexpected EOF", ""},
		{"tokenmill tokenizer info: tokenizer: \"x\" is neither", ""},
	}
	for _, tt := range tests {
		if got := repeatedPrefix(tt.line); got != tt.want {
			t.Errorf("repeatedPrefix(%q) = %q, want %q", tt.line, got, tt.want)
		}
	}
}

// internalNames are what an error must not show a user: package prefixes and shard ids.
var internalNames = regexp.MustCompile(`\bformats: |\brunner: |\bplanner: |\bshard \d{6}\b|\bvalidate: unknown`)

// Errors of bad inputs say what happened once: no "x: x:" prefix, no internal package name or
// shard id, and they name the file or value the user gave.
func TestCLI_ErrorsSayItOnce(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(testutil.DemoCorpus(t))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "cut.jsonl.zst"), string(raw[:len(raw)/2]))
	writeFile(t, filepath.Join(dir, "bad.parquet"), "PAR1 not really parquet PAR1")
	writeFile(t, filepath.Join(dir, "good.jsonl"), "{\"text\":\"hello world\"}\n{\"text\":\"more words here\"}\n")
	jobFile := func(name, input, extra string) string {
		return writeFile(t, filepath.Join(dir, name+".yaml"), "name: "+name+"\ninputs:\n  - path: "+input+
			"\ntokenizer: cl100k_base\nsequence_lengths: [4]\noutput:\n  dir: out-"+name+"\n"+extra)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // the stderr names it
	}{
		{"tokenizer info, unknown name", []string{"tokenizer", "info", "nosuch"}, 1, `"nosuch"`},
		{"tokenize, unknown tokenizer", []string{"tokenize", "--tokenizer", "nosuch"}, 1, `"nosuch"`},
		{"tokenize, truncated zstd", []string{"tokenize", "--tokenizer", "gpt2", "cut.jsonl.zst"}, 1, "cut.jsonl.zst"},
		{"validate, unknown tokenizer", []string{"validate", "--stage", "pretrain", "--tokenizer", "nosuch", "good.jsonl"}, 2, `"nosuch"`},
		{"validate, truncated zstd", []string{"validate", "--stage", "pretrain", "cut.jsonl.zst"}, 2, "cut.jsonl.zst"},
		{"validate, corrupt parquet", []string{"validate", "--stage", "sft", "bad.parquet"}, 2, "bad.parquet"},
		{"convert, corrupt parquet", []string{"convert", "bad.parquet", "--to", "jsonl", "c.jsonl"}, 1, "bad.parquet"},
		{"inspect, truncated zstd", []string{"inspect", "cut.jsonl.zst"}, 2, "cut.jsonl.zst"},
		{"harmony encode, truncated zstd", []string{"harmony", "encode", "cut.jsonl.zst", "h"}, 1, "cut.jsonl.zst"},
		{"run, unknown tokenizer", []string{"run", jobFile("tok", "good.jsonl", ""), "--tokenizer", "nosuch"}, 1, `"nosuch"`},
		{"run, bad dtype flag", []string{"run", jobFile("dt", "good.jsonl", ""), "--output-dtype", "int8"}, 1, `"int8"`},
		{"run, dtype too small", []string{"run", jobFile("small", "good.jsonl", "  dtype: uint16\n")}, 1, "uint16"},
		{"run, truncated zstd", []string{"run", jobFile("cut", "cut.jsonl.zst", ""), "--progress", "none"}, 1, "cut.jsonl.zst"},
		{"run, corrupt parquet", []string{"run", jobFile("pq", "bad.parquet", ""), "--progress", "none"}, 1, "bad.parquet"},
		{"run, missing input", []string{"run", jobFile("miss", "missing.jsonl", "")}, 1, "missing.jsonl"},
		{"run, bad stage", []string{"run", "--kind", "validate", "--stage", "bogus", "--input", "good.jsonl", "--output-dir", "v"}, 1, `"bogus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runBinary(t, dir, "", tt.args...)
			if r.Code != tt.code || !strings.Contains(r.Stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit %d and a mention of %s", r.Code, r.Stderr, tt.code, tt.want)
			}
			for _, line := range strings.Split(strings.TrimSpace(r.Stderr), "\n") {
				if p := repeatedPrefix(line); p != "" {
					t.Errorf("%q repeats %q", line, p+": ")
				}
				if m := internalNames.FindString(line); m != "" {
					t.Errorf("%q shows %q, an internal name", line, m)
				}
			}
		})
	}
}
