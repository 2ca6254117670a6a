// Package shard is the unit of work of a tokenmill job and the data plane's seam with the
// control plane:
//
//	planner.Plan(job, inputs) -> []shard.Spec            // pure, ordered
//	shard.Execute(ctx, spec, env) -> shard.Result        // partial outputs in the staging area
//	shard.Finalize(ctx, job, results, env) -> Manifest   // final outputs, in shard order
//
// The seam's types are this package's: Spec (with its Kind and the Input files it reads),
// Result and Manifest are plain values with JSON tags, so that a coordinator can hold, send and
// commit them without the planner.
//
// Execute reads one shard's records, validates them with the pretraining rules of the data
// formats document (the text field is present, a string, not empty after stripping, valid
// UTF-8; the record is well-formed JSON, an object, not longer than the record limit),
// tokenizes the good ones (no post-processor; BOS and EOS are added by the job's bos/eos keys
// only, so a tokenizer whose post-processor adds BOS never yields two), routes each document
// to train or val with pack.IsVal, and packs each split into every sequence length. Its rows
// go to the staging area, <out>/.staging/<job>/<shard>/<attempt>/ (or, under the Assembler's
// Lease, Env.Lease, straight into the outputs; or, in a local run, to Env.MemStage while it
// has room), its rejected records to rejects.jsonl there;
// the tokens that did not fill a row travel in the Result. A Result is small and
// JSON-serialisable: it is what a coordinator commits. An attempt that fails leaves nothing in
// its staging directory. Blank lines, a byte-order mark and CRLF endings are handled by the
// readers and are neither documents nor rejects.
//
// Finalize checks the reject fraction (above max_reject_fraction the job fails and nothing is
// published), checks every staged stream (its size, CRC-32C and that it ends with the
// result's tail), appends the staged rows of all shards in shard order to the .npy and
// Hugging Face outputs, packs the shards' tails (at most one partial row per split and length
// remains, dropped or padded by the job's remainder), concatenates the rejects with absolute
// line numbers, and writes manifest.json last, all in a temporary directory beside the output
// directory that is renamed into place: the output is the previous one or the complete new
// one, never a mix. Val outputs are written even when empty (0 rows); the output dtype auto
// is resolved from the tokenizer's vocabulary size (and the pad id), not from the ids seen;
// a rejected record whose bytes are not valid UTF-8 is kept exactly as record_base64 next to
// a lossy record string. The bytes of every output file depend on the input bytes, the job
// spec and the tokenizer only: not on workers, timing, attempts, or which shards staged.
// Timings live in run.json, never in the manifest.
//
// Finalize is NewAssembler + Assembler.Finish. A runner that gets results one by one hands
// each to Assembler.Add as it comes, and the Assembler appends them to the outputs while the
// later shards run. A worker with no shard left to start serves the running shards in the
// TokenizePool (Env.Pool); the outputs are the same bytes with or without it.
//
// Concurrency: no global mutable state. Execute may run concurrently for different shards
// (the Tokenizer in Env is shared and must be safe for concurrent use, as is the
// TokenizePool); the Progress counters are atomic. Assembler.Add may be called from any
// goroutine; Finalize (or Finish) runs once per job, with every shard's Result.
//
// DESIGN.md in this directory explains how the staging, the assembly and the pool work and
// why.
package shard
