// Package npy writes and reads NumPy .npy arrays (format 1.0) of token ids.
//
// [Create] streams a 1-D or 2-D array to a temporary file whose header (byte-identical to
// np.save's) is rewritten with the row count on Close, which publishes the file by rename
// (internal/atomicfile): the array appears whole at its path or not at all. [Open] reads the
// rows of such a file, and of any little-endian integer array np.save writes, without
// holding them in memory; [ReadHeader] parses the header alone.
//
// Concurrency: the package has no global state. A Writer or a Reader is not safe for
// concurrent use.
package npy
