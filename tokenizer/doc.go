// Package tokenizer is tokenmill's exact and fast byte-pair-encoding tokenizer.
package tokenizer
