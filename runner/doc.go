// Package runner runs a tokenmill job on one machine: it lists and plans the inputs
// (planner.List, planner.Plan), executes the shards on N goroutines (shard.Execute, each with
// its own reader; the tokenizer is shared), finalizes (shard.Finalize) and reports progress
// and a summary. Run dispatches by the job's kind: validate and convert jobs go through the
// same steps and the same worker loop with shard.ExecuteRecords and shard.FinalizeRecords
// (RunRecords). `tokenmill convert` and `tokenmill validate` are such jobs too, run with
// Options.Publish: the convert command's OUT is the data itself (PublishData), the validate
// command publishes nothing and prints the report (PublishNothing); both read their inputs in
// the order given. In a pretraining job a worker with no shard left to start joins the
// shard.TokenizePool and tokenizes batches of the documents of the shards still running, so a
// job of one compressed file, and the last shard of any job, use every worker; and on up to
// three workers only one shard runs at a time, the others helping it, so that each shard
// starts after the one before it and writes its rows straight into the outputs. A cluster mode reuses the same shard.Execute and shard.Finalize; only the
// scheduling differs.
//
// Relative paths of a spec (inputs, output.dir, a tokenizer file) are taken relative to
// Options.BaseDir, else the current directory (job.Spec.ResolvePaths); the CLI hands over
// specs whose paths job.Load made absolute against the job file's directory. The manifest
// records the absolute paths. Timings, the worker count and the host
// name go to out/run.json, never to manifest.json, so the data files and the manifest are
// byte-identical whatever the number of workers.
//
// On failure (a corrupt input, a cancelled context, too many rejects) nothing is published:
// the job's staging area is removed, and so is the output directory if the run created it
// and it is empty.
//
// Concurrency: no global mutable state. Run may be called concurrently for jobs with
// different output directories. The progress callback is called from one goroutine at a
// time.
package runner
