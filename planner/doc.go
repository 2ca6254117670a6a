// Package planner splits a job's inputs into shards: the units of work that workers execute and
// that finalize assembles, in shard order.
//
// Two steps. List (list.go) touches the file system: it expands each input entry of the job
// spec (file, directory or glob, "**" included) into files, with their sizes and resolved
// formats, and asks a caller-supplied function for Parquet row groups. Plan (plan.go) is pure:
// given the spec and that listing as a value, it returns the ordered shard specs, and the same
// arguments always give the same plan, whatever order the listing came in.
//
// Planning rules:
//   - Inputs are sorted by path (byte order); a path listed twice is an error.
//   - Uncompressed line-oriented files (jsonl, lines: one document per line) are cut into byte
//     ranges of about shard_size, evenly, without reading them. A range [ByteStart, ByteEnd)
//     owns exactly the lines that START in it; a line starts at offset 0 or right after a '\n'.
//     The reader of a range that does not start at 0 looks at the byte before ByteStart: if it
//     is '\n' the first line starts at ByteStart, otherwise it skips the partial line up to and
//     including the next '\n'. It then reads whole lines (past ByteEnd if need be) while the
//     line's start is < ByteEnd. "\r\n" endings need nothing special ('\r' is part of the line).
//   - Compressed files (.gz, .zst), CSV (quoted fields may hold newlines), JSON arrays, text
//     (one document per file) and HF Arrow files are one shard each (an HF save_to_disk
//     directory gives one shard per .arrow data file).
//   - Parquet files are cut into runs of whole row groups of about shard_size bytes, when the
//     row groups are known, else one shard per file.
//   - Empty uncompressed files hold no document and produce no shard.
//   - Small files are planned together (pretraining jobs): a run of consecutive files, each
//     smaller than a 64th of shard_size and none Parquet or HF, becomes one shard.KindFiles
//     shard of about that 64th (at most 4,096 files) that reads them whole, one after
//     another (shard.Spec.Parts). A shard costs a fraction of a millisecond whatever its size,
//     which is most of the work of a file of a few kilobytes. A run of one file is planned as
//     above, and so are files of validate and convert jobs.
//
// Shard ids are the zero-padded shard index (at least 6 digits, all of one plan the same width),
// so that lexical and plan order agree.
//
// Concurrency: no global mutable state. Plan is pure and safe for concurrent use; List only
// reads the file system. shard.Spec and shard.Input are plain serialisable values.
package planner
