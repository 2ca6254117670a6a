// Package jsonscan validates JSON documents and pulls one top-level string field out of an
// object without decoding the rest: [ExtractString], [AppendString] and [StringBytes], for
// the JSON Lines hot path of the readers and the shard pipeline. The whole document is
// validated with encoding/json's grammar; a malformed one gives [FieldMalformed] and an error
// wrapping [ErrMalformed] with the byte offset. [FieldKind] says what a lookup found, and is
// also how the columnar readers of package formats report their selected field.
//
// String contents are decoded 64 bytes at a time by SIMD kernels where the CPU has them
// (amd64: AVX-512 or AVX2, unescape_amd64.s), with a scalar loop elsewhere and for the rest
// of a string; the tests check every kernel against a model of their contract.
//
// Concurrency: the package has no mutable global state (the kernel is chosen once from the
// CPU's flags); its functions are safe for concurrent use.
package jsonscan
