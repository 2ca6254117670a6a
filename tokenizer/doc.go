// Package tokenizer is tokenmill's exact and fast byte-pair-encoding (BPE) tokenizer.
//
// It loads OpenAI tiktoken rank files (the built-in encodings r50k_base/gpt2, p50k_base,
// cl100k_base, o200k_base and o200k_harmony are embedded in the binary, pre-parsed) and
// Hugging Face tokenizer.json files with a BPE model, and SentencePiece BPE models (a
// tokenizer.model, read with protowire; spm.go), and produces token ids equal to those of the
// reference implementations (OpenAI's tiktoken core, Hugging Face tokenizers, Google's
// SentencePiece library).
//
// Speed comes from: hand-written pre-tokenizers for the known split patterns (GPT-2/r50k,
// cl100k/Llama-3, o200k/GPT-OSS) that follow the regex semantics exactly, with an ASCII fast
// path; a vocabulary table keyed by the packed bytes of a piece (no string hashing), fronted by
// a small per-goroutine hot cache that holds the frequent pieces (a token, or up to three ids); a bounded per-goroutine cache of
// pieces that take several tokens; and merge loops that do not allocate: an in-place scan for
// ordinary pieces, a tournament tree (cache-resident) up to 64 KiB and rank buckets beyond, so a megabyte without a space
// costs O(n log n), not tiktoken's O(n^2). tiktoken vocabularies merge by looking up the
// concatenated bytes (their rule), with a cache-resident Bloom filter in front of the table that
// answers most of the lookups that find nothing (on new text, those miss the CPU caches), Hugging
// Face ones through a table of their merges. A piece is also cut where no token can cross
// (chunk.go; the built-ins, which embed their tables of cuts, byte-level and SentencePiece-style
// tokenizer.json files): a sentence of Chinese or Japanese, which has no spaces and so is one
// piece, is encoded a word or two at a time, and those chunks hit the caches. Other
// split patterns go through a general backtracking regex engine (correct, slower).
//
// Concurrency: a *Tokenizer is immutable after Load and safe for concurrent use; per-call
// scratch state (buffers and a bounded piece cache) comes from a small free list. EncodeBatch
// uses all cores.
//
// Invalid UTF-8: every byte that is not part of a valid UTF-8 sequence is treated as one
// character of its own, of the class "other" (neither letter, number nor space, as U+FFFD would
// be), and is encoded with byte-level tokens; so with byte-level vocabularies
// decode(encode(b)) == b for any bytes, and encoding never fails or panics.
package tokenizer
