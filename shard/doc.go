// Package shard is the unit of work of a tokenmill job and the data plane's seam with the
// control plane:
//
//	planner.Plan(job, inputs) -> []shard.Spec            // pure, ordered
//	shard.Execute(ctx, spec, env) -> shard.Result        // partial outputs in the staging area
//	shard.Finalize(ctx, job, results, env) -> Manifest   // final outputs, in shard order
//
// Finalize is NewAssembler + Assembler.Finish. A runner that gets results one by one hands each
// to Assembler.Add as it comes: the rows of shard i are appended to the outputs as soon as
// shards 0..i-1 have been, beside the shards still running (one goroutine per split and
// length), and their staged copy is deleted. Finish then only appends what is left, packs the
// tails and publishes: the copy and the disk's write-out overlap execution instead of
// following it, and the staging area holds only the shards not yet appended. A shard that
// starts when every shard before it is in the outputs takes the Assembler's Lease (Env.Lease)
// and writes its rows straight into them, not staging them at all: with one worker, every
// shard. The output bytes do not depend on which shards staged.
//
// Execute reads one shard's records, validates them with the pretraining rules of the data
// formats document (the text field is present, a string, not empty after stripping, valid
// UTF-8; the record is well-formed JSON, an object, not longer than the record limit),
// tokenizes the good ones (no post-processor; BOS and EOS are added by the job's bos/eos keys
// only, so a tokenizer whose post-processor adds BOS never yields two), routes each document
// to train or val with pack.IsVal, and packs each split into every sequence length. A
// staging shard writes each split's token stream once, as raw little-endian uint32, to
// <out>/.staging/<job>/<shard>/<attempt>/<split>.u32: packing is by concatenation, so the rows
// of every length are consecutive slices of it, and finalize cuts them from it. Rejected
// records go to rejects.jsonl there; the tokens that did not fill a row travel in the Result. A Result is small and JSON-serialisable: it is what a coordinator
// commits. Blank lines, a byte-order mark and CRLF endings are handled by the readers and are
// neither documents nor rejects.
//
// A worker with no shard left to start serves the running shards as a helper (Env.Pool):
// a shard that sees one idle gathers its good documents in batches of about a megabyte of
// text and hands each to a helper, tokenizing it itself when none is free, and packs the
// batches in their order. Reading, validating, packing and writing stay with the shard's
// goroutine; the outputs are the same bytes with or without help.
//
// Finalize checks the reject fraction, streams the staged rows of all shards in shard
// order into the .npy and Hugging Face outputs (checking each stream's size, CRC-32C and
// that it ends with the result's tail; the outputs are written with O_DIRECT where the file
// system takes it, so the publishing fsync finds little to write), packs the shards' tails (at most one partial
// row per split and length remains, dropped or padded by the job's remainder), concatenates
// the rejects (a byte-range shard numbers its lines from its range's start, so as not to read
// the file before it; finalize turns them absolute: see lines.go), and writes manifest.json
// last, all in a temporary directory beside the output directory that is renamed into place. The bytes of every output file depend on the input
// bytes, the job spec and the tokenizer only: not on workers, timing or attempts. Timings
// live in run.json, never in the manifest.
//
// Choices where the issue is silent: staged token streams are always uint32 (the output dtype is
// applied at finalize); val outputs are written even when empty (0 rows); the output dtype
// auto is resolved from the tokenizer's vocabulary size (and the pad id), not from the ids
// actually seen, so that it is known before any shard runs; a rejected record whose bytes are
// not valid UTF-8 is kept exactly as record_base64 next to a lossy record string.
//
// Concurrency: no global mutable state. Execute may run concurrently for different shards
// (the Tokenizer in Env is shared and must be safe for concurrent use); the Progress counters
// are atomic. Assembler.Add may be called from any goroutine; Finalize (or Finish) runs once
// per job, with every shard's Result.
package shard
