package tokenizer

import "strings"

// tokenList holds the tokens of a vocabulary by id: one string, cut at offsets. Unlike a
// []string it holds no pointer per token for the garbage collector to trace (o200k has 200,000,
// and loading it starts a collection), and it takes a quarter of the memory.
type tokenList struct {
	data string
	off  []uint32 // token id is data[off[id]:off[id+1]] (vocabularies are far below 4 GiB)
}

// newTokenList copies tokens (by id; "" for an unused id) into a tokenList.
func newTokenList(tokens []string) tokenList {
	var sb strings.Builder
	n := 0
	for _, s := range tokens {
		n += len(s)
	}
	sb.Grow(n)
	off := make([]uint32, len(tokens)+1)
	for id, s := range tokens {
		sb.WriteString(s)
		off[id+1] = uint32(sb.Len())
	}
	return tokenList{data: sb.String(), off: off}
}

// len is the number of ids.
func (l tokenList) len() int { return max(len(l.off)-1, 0) }

// at returns the token id (id < l.len()).
func (l tokenList) at(id uint32) string { return l.data[l.off[id]:l.off[id+1]] }
