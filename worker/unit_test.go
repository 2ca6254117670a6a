package worker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tokenmill/tokenmill/formats"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func validConfig() Config {
	c := DefaultConfig()
	c.ID, c.BindAddr, c.Join = "w1", "127.0.0.1", []string{"127.0.0.1:7002"}
	return c
}

func TestConfig_Validate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string // "" means valid
	}{
		{"default with identity", func(*Config) {}, ""},
		{"no id", func(c *Config) { c.ID = "" }, "an id is required"},
		{"every interface", func(c *Config) { c.BindAddr = "0.0.0.0" }, ""},
		{"bind not an IP", func(c *Config) { c.BindAddr = "w1" }, `bind address "w1": want an IP address`},
		{"unspecified advertise", func(c *Config) { c.AdvertiseAddr = "::" }, `advertise address "::"`},
		{"no join", func(c *Config) { c.Join = nil }, "no coordinator to join"},
		{"no slot", func(c *Config) { c.Slots = 0 }, "slots must be >= 1"},
		{"port", func(c *Config) { c.GRPCPort = 70000 }, "grpc port 70000 out of range"},
		{"heartbeat", func(c *Config) { c.HeartbeatInterval = 0 }, "heartbeat interval must be > 0"},
		{"plan batch", func(c *Config) { c.PlanBatchSpecs = 0 }, "plan batches must allow"},
		{"cache", func(c *Config) { c.TokenizerCache = 0 }, "tokenizer cache"},
		{"tag key", func(c *Config) { c.Tags = map[string]string{"a=b": "c"} }, `tag key "a=b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseTags(t *testing.T) {
	tests := []struct {
		in   []string
		want map[string]string
		err  string
	}{
		{[]string{"zone=a", "gpu=h100", "empty="}, map[string]string{"zone": "a", "gpu": "h100", "empty": ""}, ""},
		{[]string{"zone"}, nil, `tag "zone": want key=value`},
		{[]string{"=a"}, nil, "want key=value"},
		{[]string{"a=1", "a=2"}, nil, `tag "a" given twice`},
	}
	for _, tt := range tests {
		got, err := ParseTags(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseTags(%q) = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ParseTags(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestClassify(t *testing.T) {
	_, openErr := os.Open(filepath.Join(t.TempDir(), "missing.jsonl"))
	tests := []struct {
		name string
		err  error
		want pb.FailureKind
	}{
		{"unreadable file", fmt.Errorf("shard 000001: %w", openErr), pb.FailureKind_FAILURE_KIND_ERROR},
		{"permission", &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrPermission}, pb.FailureKind_FAILURE_KIND_ERROR},
		{"disk full while staging", fmt.Errorf("/in/a.jsonl: staging 000001/0/train.u32: %w",
			&fs.PathError{Op: "write", Path: "/out/.staging/j/000001/0/train.u32", Err: syscall.ENOSPC}), pb.FailureKind_FAILURE_KIND_ERROR},
		{"disk full, a bare errno", fmt.Errorf("finalize: %w", syscall.ENOSPC), pb.FailureKind_FAILURE_KIND_ERROR},
		{"disk quota", fmt.Errorf("writing /out/train_16.npy: %w", &fs.PathError{Op: "write", Path: "/out/.train_16.npy.tmp", Err: syscall.EDQUOT}), pb.FailureKind_FAILURE_KIND_ERROR},
		{"changed input", fmt.Errorf("formats: /x: %w", formats.ErrInputChanged), pb.FailureKind_FAILURE_KIND_INPUT},
		{"corrupt input", errors.New("shard 000002 (/x.gz): gzip: invalid header"), pb.FailureKind_FAILURE_KIND_INPUT},
		{"coordinators unreachable", status.Error(codes.Unavailable, "no leader"), pb.FailureKind_FAILURE_KIND_ERROR},
		{"no coordinator", errNoCoordinator, pb.FailureKind_FAILURE_KIND_ERROR},
		{"timeout", context.DeadlineExceeded, pb.FailureKind_FAILURE_KIND_ERROR},
	}
	for _, tt := range tests {
		if got := classify(tt.err); got != tt.want {
			t.Errorf("%s: classify(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// A result file is read back only from the attempt directory its summary names, with the
// summary's size and CRC-32C, and only as that shard's and attempt's.
func TestReadResult_ChecksTheCommittedAttempt(t *testing.T) {
	root := t.TempDir()
	rf := &resultFile{Spec: shard.Spec{ID: "000003", Index: 3}, Result: &shard.Result{Shard: "000003", Index: 3, Attempt: 1, Dir: "000003/1"}}
	ref, err := writeResult(root, "000003/1", rf)
	if err != nil {
		t.Fatal(err)
	}
	good := &pb.ShardResult{Attempt: 1, Dir: "000003/1", Result: ref}
	if got, err := readResult(root, 3, good); err != nil || got.Result.Attempt != 1 {
		t.Fatalf("readResult = %+v, %v", got, err)
	}
	tests := []struct {
		name  string
		index int
		sum   *pb.ShardResult
		want  string
	}{
		{"another attempt's directory", 3, &pb.ShardResult{Attempt: 1, Dir: "000003/0", Result: ref}, "names 000003/1/result.json, not 000003/0/result.json"},
		{"another attempt", 3, &pb.ShardResult{Attempt: 2, Dir: "000003/1", Result: ref}, "not the result of shard 3 attempt 2"},
		{"another shard", 4, good, "not the result of shard 4"},
		{"size", 3, &pb.ShardResult{Attempt: 1, Dir: "000003/1", Result: &pb.FileRef{Name: ref.Name, Bytes: ref.Bytes + 1, Crc32C: ref.Crc32C}}, "bytes"},
		{"checksum", 3, &pb.ShardResult{Attempt: 1, Dir: "000003/1", Result: &pb.FileRef{Name: ref.Name, Bytes: ref.Bytes, Crc32C: ref.Crc32C ^ 1}}, "CRC-32C"},
		{"no file", 3, &pb.ShardResult{Attempt: 1, Dir: "000003/1"}, "names no result file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := readResult(root, tt.index, tt.sum); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("readResult = %v, want %q", err, tt.want)
			}
		})
	}
}

// The tokenizers of a job are loaded once and shared; the cache keeps at most its bound.
func TestTokenizers_SharedAndBounded(t *testing.T) {
	c := newTokenizers(1)
	a, err := c.get(context.Background(), "gpt2")
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.get(context.Background(), "gpt2")
	if err != nil || a != b {
		t.Fatalf("second get = %p, %v; want the first tokenizer %p", b, err, a)
	}
	if _, err := c.get(context.Background(), "p50k_base"); err != nil {
		t.Fatal(err)
	}
	if n := c.len(); n != 1 {
		t.Fatalf("cache holds %d tokenizers, bound 1", n)
	}
	if _, err := c.get(context.Background(), filepath.Join(t.TempDir(), "none.tiktoken")); err == nil || c.len() != 1 {
		t.Fatalf("a failed load: %v, cache holds %d", err, c.len())
	}
}
