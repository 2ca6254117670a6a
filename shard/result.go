package shard

import (
	"path/filepath"
	"strconv"
	"sync/atomic"

	"github.com/tokenmill/tokenmill/internal/outdir"
	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// Splits, in output order.
const (
	SplitTrain = "train"
	SplitVal   = "val"
)

// Splits lists the splits in output order.
func Splits() []string { return []string{SplitTrain, SplitVal} }

// Env is what Execute needs besides the shard spec. It is shared by all shards of a job.
type Env struct {
	// Job is the validated job spec.
	Job *job.Spec
	// Tokenizer is the job's tokenizer, shared by all shards (safe for concurrent use).
	Tokenizer *tokenizer.Tokenizer
	// StagingDir is the job's staging root: <out>/.staging/<job> (see StagingDir).
	StagingDir string
	// Attempt numbers the execution of the shard (from 0); each attempt has its own directory.
	Attempt int
	// Progress, when not nil, receives live counts.
	Progress *Progress
	// Lease, when not nil, is asked at the start of a shard for the right to write its full
	// rows straight into the job's outputs (Assembler.Lease); nil (or a nil *Lease) stages
	// them. Only a runner that assembles in the same process can offer it.
	Lease func(index int) *Lease
	// Scratch, when not nil, lends its buffers to the shard: each worker passes its own, so
	// that the shards after its first allocate (almost) nothing. Nil: the shard allocates.
	Scratch *Scratch
	// Pool, when not nil, is the process's pool of idle workers, to which the shard hands
	// batches of documents to tokenize while one is waiting (see TokenizePool). Nil: the
	// shard tokenizes everything itself.
	Pool *TokenizePool
	// MemStage, when not nil, holds the shard's staged row streams in memory while it has
	// room (see MemStage); the Assembler of the same process must have it in its
	// FinalizeEnv. Nil: the rows are staged on disk, as a cluster's must be.
	MemStage *MemStage
	// KeepReadErrors makes a validate shard whose input cannot be opened or breaks off
	// succeed with RecordsResult.Unread saying where reading stopped (the records read before
	// stay counted), instead of failing: the contract of `tokenmill validate`, whose report
	// lists unreadable inputs. A job leaves it false: an unreadable input fails the job.
	KeepReadErrors bool
}

// StagingDir returns the staging root of a job whose output directory is outDir.
func StagingDir(outDir, jobName string) string {
	return filepath.Join(outDir, outdir.StagingName, jobName)
}

// attemptDir is the relative staging directory of one attempt of one shard.
func attemptDir(shardID string, attempt int) string {
	return filepath.Join(shardID, strconv.Itoa(attempt))
}

// Progress holds live counters, updated atomically by running shards.
type Progress struct {
	Bytes     atomic.Int64 // input bytes done: as read for byte ranges and whole byte-stream files (compressed bytes for .gz/.zst), per finished shard otherwise
	Documents atomic.Int64 // records read
	Rejected  atomic.Int64 // records rejected
	Tokens    atomic.Int64 // tokens of written documents
	Shards    atomic.Int64 // shards finished
}

// Counts are document counts.
type Counts struct {
	Read     int64 `json:"read"`
	Written  int64 `json:"written"`
	Rejected int64 `json:"rejected"`
	// TextBytes is the size of the written documents' text (UTF-8, as tokenized): the
	// amount of text a job turned into tokens, and the base of its MB/s.
	TextBytes int64 `json:"text_bytes"`
}

func (c *Counts) add(o Counts) {
	c.Read += o.Read
	c.Written += o.Written
	c.Rejected += o.Rejected
	c.TextBytes += o.TextBytes
}

// Tokens are token counts per split: the ids of written documents, BOS/EOS included.
type Tokens struct {
	Train int64 `json:"train"`
	Val   int64 `json:"val"`
}

// FileRef names a staged file (relative to the staging root) with its size and CRC-32C
// (see stage.go).
type FileRef struct {
	Name   string `json:"name"`
	Bytes  int64  `json:"bytes"`
	CRC32C uint32 `json:"crc32c"`
}

// Bucket is one split and length of a shard: its full rows, staged, and its tail.
type Bucket struct {
	Split  string `json:"split"`
	SeqLen int    `json:"seq_len"`
	Rows   int64  `json:"rows"`
	// File is the split's staged token stream, little-endian uint32, shared by the split's
	// buckets: its first Rows*SeqLen ids are the rows, the rest is Tail. Empty when Direct.
	File FileRef `json:"file"`
	// Direct says the rows went straight into the outputs under a Lease, not to File.
	Direct bool `json:"direct,omitempty"`
	// Tail holds the tokens that did not fill a row (fewer than SeqLen), in order.
	Tail []uint32 `json:"tail"`
}

// Result is what one successful shard attempt reports: small and JSON-serialisable.
type Result struct {
	Shard     string   `json:"shard"`
	Index     int      `json:"index"`
	Attempt   int      `json:"attempt"`
	Dir       string   `json:"dir"` // relative to the staging root
	Bytes     int64    `json:"bytes"`
	Documents Counts   `json:"documents"`
	Tokens    Tokens   `json:"tokens"`
	Buckets   []Bucket `json:"buckets"` // train then val, each in the job's length order
	Rejects   FileRef  `json:"rejects"` // rejects.jsonl lines of this shard; zero without
	// Parts are what the shard read, in order: its part of one file, or the files of a
	// KindFiles shard.
	Parts []Part `json:"parts"`
	// Timings vary between runs: they belong in run.json, never in the manifest.
	Timings Timings `json:"timings"`
}

// Part is one file (or part of one) that a shard read.
type Part struct {
	Source string `json:"source"`
	// FirstLine is the file line number of the part's first line when the plan knew it (the
	// first range of a file, whole files), and 0 when the shard numbered its lines from 1 at
	// its range's start (see lines.go): Finalize then shifts the line numbers of its rejects
	// by the Lines of the file's earlier shards.
	FirstLine int64 `json:"first_line,omitempty"`
	// Lines counts the lines that start in the part of a line-oriented file, blank and
	// rejected ones included.
	Lines int64 `json:"lines,omitempty"`
	// Input is the digest of the part of its file the shard owns.
	Input InputDigest `json:"input"`
}

// Timings are where one shard's time went, in seconds.
type Timings struct {
	// Read: reading, decompressing and extracting records, and validating them.
	Read float64 `json:"read"`
	// Tokenize: encoding the documents (with BOS/EOS), by the shard or by helpers.
	Tokenize float64 `json:"tokenize"`
	// Helped: the part of Tokenize done by idle workers for this shard (see TokenizePool).
	Helped float64 `json:"helped"`
	// Write: packing rows and writing the staged rows (flush included); rejected
	// records count as reading.
	Write float64 `json:"write"`
}

// Add adds o to t.
func (t *Timings) Add(o Timings) {
	t.Read += o.Read
	t.Tokenize += o.Tokenize
	t.Helped += o.Helped
	t.Write += o.Write
}

// StagedBytes is what the shard wrote to the staging area: its token streams (each once,
// though a split's buckets share it) and its rejects.
func (r *Result) StagedBytes() int64 {
	n := r.Rejects.Bytes
	seen := map[string]bool{}
	for _, b := range r.Buckets {
		if !b.Direct && !seen[b.File.Name] {
			seen[b.File.Name] = true
			n += b.File.Bytes
		}
	}
	return n
}

// Bucket returns the shard's bucket for split and length, or nil.
func (r *Result) Bucket(split string, seqLen int) *Bucket {
	for i := range r.Buckets {
		if b := &r.Buckets[i]; b.Split == split && b.SeqLen == seqLen {
			return b
		}
	}
	return nil
}

// PlannedBytes is the amount of input a shard covers, for progress: its byte range, the
// compressed size of its Parquet row groups (credited when the shard ends; its documents show
// progress meanwhile), or its whole file.
func PlannedBytes(s Spec) int64 {
	switch s.Kind {
	case KindBytes:
		return s.ByteEnd - s.ByteStart
	case KindRowGroups:
		return s.RowGroupBytes
	case KindFiles:
		var n int64
		for _, f := range s.Files {
			n += f.Size
		}
		return n
	default:
		return s.FileSize
	}
}

// stagedName is the staged token stream of a split.
func stagedName(split string) string {
	return split + ".u32"
}
