// Package formats holds the readers and writers of tokenmill's data plane.
//
// Readers turn input files into a stream of [Record]s: JSON Lines (plain,
// gzip, zstd), JSON array files, Parquet, CSV, plain text (one document per
// file) and Hugging Face save_to_disk directories. [Open] detects the format
// with [DetectBytes], content first (the Parquet, Arrow IPC, gzip and zstd
// signatures win over the name; text formats go by extension, and .json or
// unknown names by their first byte); [Detect] does the same for a path and
// [DetectName] reads a name alone. [Options] forces it, selects the text field or column, restricts a line-oriented file to a
// byte [Range] or a Parquet file to a range of row groups, and bounds the
// size of one record. Readers stream: memory stays bounded by the record
// limit (or, for Parquet, one row group's column) whatever the file size.
// An over-long line, JSON array element or CSV row is reported as a record
// with TooLong set, its position and a prefix, and skipped in bounded
// memory: the JSON array and CSV readers find record boundaries on the raw
// bytes before decoding anything. Errors name the file and where it broke (line, byte offset
// or row group) first, with no package prefix, since they reach users as they are; readers
// never panic, whatever the input.
//
// The JSON records of these readers are left whole: internal/jsonscan pulls one top-level
// string field out of a JSON object without decoding the rest, for the JSONL hot path.
//
// Writers produce training outputs: [NpyWriter] streams a 2-D NumPy .npy
// array (format 1.0, header byte-identical to np.save), [HFWriter] streams a
// Hugging Face save_to_disk directory (Arrow IPC stream files, state.json,
// dataset_info.json) that datasets.load_from_disk reads. Writers create
// their output under a temporary name and publish it by rename on Close;
// their bytes are a function of the rows written and the options only.
//
// Concurrency: the package has no global mutable state. A Reader or a
// writer is not safe for concurrent use; use one per goroutine. Different
// readers and writers may be used concurrently. ExtractString is safe for
// concurrent use.
package formats
