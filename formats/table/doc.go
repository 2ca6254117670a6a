// Package table holds what the Arrow formats (formats/hf, formats/parquet) share: generic
// records (map[string]any) and their Arrow form.
//
// [Value] turns one cell of an Arrow column into a generic value, and [NewRows] the record
// batches of a [BatchSource] into formats.Rows; [AppendValue] and [AppendRecord] go the other
// way, into Arrow builders, with the column types [SchemaBuilder] infers from records. A
// [Writer] writes records of a known schema to one output (an HF directory, a Parquet file,
// or the JSON Lines file of [CreateJSONL]). [Allocator] recycles the buffers of one record
// batch for the next. [RecoverErr] and [RecoverAt] turn a panic of a third-party decoder into
// an error naming the file, so that bad input never crashes a worker.
//
// Concurrency: the package has no global mutable state. An Allocator is safe for concurrent
// use; readers and writers are not.
package table
