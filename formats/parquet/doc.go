// Package parquet reads and writes Parquet files.
//
// [Open] reads the selected text column as formats.Records, one column chunk's pages at a
// time; [OpenRows] reads every column as formats.Rows; both take a run of row groups, as a
// job's shards read them, and [RowGroups] lists a file's row groups from its footer for
// planning. [Create] writes generic records with the datasets features in the schema
// metadata, as datasets' to_parquet does. Footers are not trusted: a column chunk's claimed
// sizes bound no allocation.
//
// Concurrency: the package has no global mutable state. A reader or a writer is not safe for
// concurrent use.
package parquet
