// Package input opens any input of a job by its detected format: [Open] for the records of
// a text field (tokenization), [OpenRows] for whole records (validation, conversion). It
// sits above the format packages: byte-stream files (JSON Lines, JSON arrays, CSV, text;
// plain, gzip or zstd) are read by package formats, Parquet files by formats/parquet, and
// Hugging Face save_to_disk directories and their .arrow files by formats/hf.
//
// Concurrency: the package has no state; what it returns is not safe for concurrent use.
package input
