// Package hf reads and writes Hugging Face save_to_disk directories: Arrow IPC stream files
// (data-NNNNN-of-NNNNN.arrow), state.json and dataset_info.json, and DatasetDicts of them.
//
// Readers: [OpenRecords] and [OpenFile] read the selected text column of a directory or of
// one data file as formats.Records, [OpenRows] and [OpenFileRows] every column as
// formats.Rows, [OpenBatches] the Arrow record batches themselves. Every IPC message is
// checked against the file before arrow-go decodes it ([NewStreamReader]), so that a corrupt
// file fails with an error naming it instead of allocating what it claims.
//
// Writers: [Create] streams token rows into a directory ([Writer]), [CreateTable] generic
// records of a known schema ([TableWriter]); both build it under a temporary name and publish
// it whole on Close (internal/atomicfile), its bytes a function of the rows and the options
// only. [Features] renders the datasets features of an Arrow schema, which the Parquet writer
// also stores.
//
// Concurrency: the package has no global mutable state. A reader or a writer is not safe for
// concurrent use.
package hf
