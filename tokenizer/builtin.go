package tokenizer

import (
	_ "embed" // the built-in vocabularies
	"encoding/hex"
	"errors"
	"fmt"
)

// The built-in rank files are embedded pre-parsed, in the vocab format below, as strings: a
// loaded built-in's tokens are that string itself, cut at offsets, so loading one decompresses
// nothing, decodes no base64 and allocates nothing per token (gunzipping and parsing the text
// rank files was more than half of the load time). The vocabs are generated from the canonical
// rank files in testdata/vocab by `go test ./tokenizer -run TestBuiltinVocab -update`, and
// TestBuiltinVocab checks that they are still what that would write.
//
// The vocab format:
//
//	magic   8 bytes, vocabMagic
//	sha256  32 bytes: the SHA-256 of the canonical rank file (what Tokenizer.SHA256 reports)
//	n       uint32, little-endian: the number of ids, holes included
//	lengths n bytes: the length of each token by id (the longest is 128); 0 marks a hole
//	bytes   the tokens concatenated by id

var (
	//go:embed assets/r50k_base.vocab
	r50kVocab string
	//go:embed assets/p50k_base.vocab
	p50kVocab string
	//go:embed assets/cl100k_base.vocab
	cl100kVocab string
	//go:embed assets/o200k_base.vocab
	o200kVocab string
)

const vocabMagic = "tmvocab1"

// builtinVocab returns the embedded vocab of a rank-file name of builtinNames.
func builtinVocab(ranks string) (string, bool) {
	switch ranks {
	case "r50k_base":
		return r50kVocab, true
	case "p50k_base":
		return p50kVocab, true
	case "cl100k_base":
		return cl100kVocab, true
	case "o200k_base":
		return o200kVocab, true
	}
	return "", false
}

func loadBuiltin(name string) (*Tokenizer, error) {
	b, ok := builtinNames[name]
	if !ok {
		return nil, fmt.Errorf("tokenizer: unknown built-in encoding %q", name)
	}
	vocab, ok := builtinVocab(b.ranks)
	if !ok {
		return nil, fmt.Errorf("tokenizer: built-in %s: no embedded vocabulary %s", name, b.ranks)
	}
	tokens, sum, err := decodeVocab(vocab)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: built-in %s: %w", name, err)
	}
	meta, err := builtinMeta(b.meta)
	if err != nil {
		return nil, err
	}
	t, err := newTiktoken(name, tokens, hex.EncodeToString(sum[:]), meta)
	if err != nil {
		return nil, err
	}
	// Every token of the built-in vocabularies merges back to itself from its bytes
	// (TestChunkSplit_BuiltinsSelfMerge), which splitting long pieces needs.
	t.model.split = new(splitter)
	return t, nil
}

var errVocab = errors.New("corrupt embedded vocabulary")

// decodeVocab returns the tokens of a vocab (see vocabMagic), which cut data itself, and the
// SHA-256 of the rank file it was made from.
func decodeVocab(data string) (tokens tokenList, sum [32]byte, err error) {
	head := len(vocabMagic) + len(sum) + 4
	if len(data) < head || data[:len(vocabMagic)] != vocabMagic {
		return tokenList{}, sum, errVocab
	}
	copy(sum[:], data[len(vocabMagic):])
	n := int(data[head-4]) | int(data[head-3])<<8 | int(data[head-2])<<16 | int(data[head-1])<<24
	if n > len(data)-head {
		return tokenList{}, sum, errVocab
	}
	lengths, body := data[head:head+n], data[head+n:]
	off := make([]uint32, n+1)
	end := 0
	for i := range n {
		end += int(lengths[i])
		off[i+1] = uint32(end)
	}
	if end != len(body) {
		return tokenList{}, sum, errVocab
	}
	return tokenList{data: body, off: off}, sum, nil
}
