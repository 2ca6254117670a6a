// Package pack turns documents' token ids into fixed-length rows by concatenation packing, and
// decides which split (train or validation) each document belongs to.
//
// A Packer serves one split of one shard: documents (their ids already framed with BOS/EOS) go
// in with Add, and for every requested sequence length L the concatenated stream is cut into
// rows of exactly L tokens, handed to an EmitFunc as soon as they are full. What is left over
// (fewer than L tokens) is the shard's tail for L. At finalize, PackTails concatenates the tails
// of all shards in shard order, packs them into more rows and drops or pads the one remainder.
//
// Properties (tested): conservation — every token added comes out exactly once, in rows or in
// the tail, in order; and determinism — the rows are a function of the documents, their order
// and the shard plan only. Packing shards separately and then their tails does not give the
// same rows as one global stream (a document split across a shard boundary is packed
// differently), but it gives the same number of full rows and the same remainder size, since
// the row count is floor(total/L) either way.
//
// IsVal is the split decision, a stable hash of the document's bytes and the job's seed.
//
// Concurrency: no global mutable state. A Packer is not safe for concurrent use; use one per
// goroutine (one per shard and split). PackTails and IsVal are pure and safe to call
// concurrently.
package pack
