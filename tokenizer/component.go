package tokenizer

// span is a half-open byte range [start, end) of a string.
type span struct{ start, end int }

// matcher finds the non-overlapping, leftmost-first matches of a split pattern, as byte offsets,
// in order. Empty matches are not reported.
type matcher interface {
	appendMatches(dst []span, s string) []span
}

// normalizer is a Hugging Face normalizer: it rewrites text before pre-tokenization.
type normalizer interface {
	normalize(s string) string
}

// preTokenizer is a Hugging Face pre-tokenizer: it splits one piece of (normalized) text into
// pieces, appended to dst. Pieces are raw UTF-8 bytes (a ByteLevel pre-tokenizer does not map
// bytes to its printable alphabet here; the model works on raw bytes instead). first reports
// whether s starts at offset 0 of the text being encoded (Metaspace's prepend_scheme "first").
type preTokenizer interface {
	preTokenize(dst []string, s string, first bool) []string
}

// decoder is a Hugging Face decoder: it rewrites the chain of token strings (as spelled in the
// vocabulary of tokenizer.json) on the way back to text.
type decoder interface {
	decode(tokens []string) []string
}

// postProcessor adds the special tokens a model expects around an encoded sequence (BOS/EOS)
// when the caller asks for them.
type postProcessor interface {
	process(ids []uint32) []uint32
}
