// Package formats is the shared layer of tokenmill's input readers: what every format
// package uses, and the readers of byte-stream files.
//
// A [Reader] streams [Record]s, each one text field's record (tokenization); a [RowReader]
// streams [Row]s, whole records decoded into generic values (validation, conversion).
// [Options] select the text field or column, restrict a line-oriented file to a byte [Range]
// or a Parquet file to [RowGroups], and bound the size of one record. [DetectBytes] tells a
// file's format and compression, content first (the Parquet, Arrow IPC, gzip and zstd
// signatures win over the name; text formats go by extension, and .json or unknown names by
// their first byte); [Detect] does the same for a path and [DetectName] reads a name alone.
//
// The byte-stream readers live here, since they read through the byte sources of this
// package (decompression, [Buffers] lent from one file to the next, the input digests of
// [InputCRC32C]): [OpenStream] opens JSON Lines (plain, gzip, zstd), JSON array, CSV and text
// files, and [OpenStreamRows] their whole records. Readers stream: memory stays bounded by
// the record limit whatever the file size. An over-long line, JSON array element or CSV row
// is reported as a record with TooLong set, its position and a prefix, and skipped in
// bounded memory: the JSON array and CSV readers find record boundaries on the raw bytes
// before decoding anything. Errors name the file and where it broke (line, byte offset or
// row group) first, with no package prefix, since they reach users as they are; readers
// never panic, whatever the input. The JSON records of these readers are left whole:
// internal/jsonscan pulls one top-level string field out of a JSON object without decoding
// the rest, for the JSONL hot path.
//
// Above this package, formats/table holds what the Arrow formats share, formats/hf and
// formats/parquet read and write those formats, formats/npy writes token arrays (element
// type [DType]), and formats/input opens any input by its detected format.
//
// Concurrency: the package has no global mutable state. A Reader is not safe for concurrent
// use; use one per goroutine. Different readers may be used concurrently.
package formats
