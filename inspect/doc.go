// Package inspect finds out what a dataset path holds and says it: Inspect reads a job output
// directory (manifest.json), a Hugging Face save_to_disk or DatasetDict directory, a .npy file,
// or a record file (JSON Lines, .gz, .zst, JSON array, CSV, Parquet, Arrow IPC stream, text)
// and returns an Inspection: its kind, columns and types, counts, first example, the first
// sequence of token data decoded with the tokenizer that Options or the job's manifest names,
// and for a job output each bucket's outputs checked against the manifest. WriteText and
// WriteJSON render one Inspection, so that `tokenmill inspect` and `tokenmill inspect --json`
// say the same facts. Inspect only reads.
//
// # JSON
//
// WriteJSON writes one object on one line. Fields marked (omitted) are left out when empty
// or zero.
//
//	path            the path inspected (for parts: the part's path)
//	kind            job, hf, hf_dict, npy, jsonl, json, csv, parquet, arrow or text; a record
//	                file's kind is the format its content shows (formats.Detect), not its name
//	columns         (omitted) [{"name", "type"}] in column order, types as the datasets
//	                features spell them: string, int64, list<int32>, struct<a: string>
//	shape, dtype    (omitted) a .npy's shape and element type (int64, int32, uint32, uint16)
//	examples        the number of examples: rows of a dataset or 2-D array, records of a file,
//	                elements of a 1-D array; for an hf_dict the sum over its splits
//	malformed       (omitted) records of a JSON or CSV file that could not be decoded
//	first           (omitted) the first example, whole: an object of column values, or the
//	                first row of a .npy (of a 1-D array, its first 2048 elements); NaN and
//	                ±Inf floats are written as the strings "nan", "inf", "-inf"
//	token_column    (omitted) the column holding token ids (input_ids, ids, token_ids, tokens)
//	tokenizer       (omitted) the tokenizer the first sequence was decoded with and where it
//	                was named: "gpt2 from --tokenizer", "cl100k_base from DIR/manifest.json"
//	tokens, text    (omitted) the length of the decoded sequence and its text, whole
//	text_note       (omitted) why token data was not decoded
//	notes           (omitted) other remarks: a 1-D array, the first malformed record, column
//	                types that could not be unified, a content that contradicts the file name
//	                ("read by its content: ...")
//	data_files      (omitted) the number of .arrow files of an HF dataset
//	bucket          (omitted) on a job's output: {"split", "seq_len", "sequences"} of its
//	                manifest entry
//	check           (omitted) on a job's output: "ok", or what differs from the manifest
//	detailed        (omitted) true on the parts whose first example and text were read: all
//	                splits of a DatasetDict, the first non-empty bucket of each split of a job
//	error           (omitted) on a part that could not be read: why
//	parts           (omitted) the splits of an hf_dict or the outputs of a job, each an object
//	                of these same fields
//	job             (omitted) of a job output, from manifest.json: name, fingerprint,
//	                format_version, tokenizer {name, sha256, vocab_size, bos, eos}, dtype,
//	                documents {read, written, rejected, text_bytes}, tokens {train, val},
//	                rejects {path, count}, inputs [{path, format, size, crc32c}]
package inspect
