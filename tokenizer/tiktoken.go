package tokenizer

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// assets holds the sidecar JSON of each built-in encoding: its split pattern and special tokens.
// The vocabularies are embedded apart, pre-parsed (see builtin.go).
//
//go:embed assets/*.json
var assets embed.FS

// builtinNames maps the names Load accepts for the built-in encodings to their asset names.
var builtinNames = map[string]struct{ ranks, meta string }{
	"r50k_base":     {"r50k_base", "r50k_base"},
	"gpt2":          {"r50k_base", "r50k_base"},
	"p50k_base":     {"p50k_base", "p50k_base"},
	"cl100k_base":   {"cl100k_base", "cl100k_base"},
	"o200k_base":    {"o200k_base", "o200k_base"},
	"o200k_harmony": {"o200k_base", "o200k_harmony"},
}

// BuiltinNames lists the names of the embedded encodings, aliases included.
func BuiltinNames() []string {
	return []string{"r50k_base", "gpt2", "p50k_base", "cl100k_base", "o200k_base", "o200k_harmony"}
}

// tiktokenMeta is the sidecar JSON of a rank file: the split pattern, the special tokens and,
// where the vocabulary has holes or trailing ids, its explicit size.
type tiktokenMeta struct {
	Name           string            `json:"name"`
	PatStr         string            `json:"pat_str"`
	SpecialTokens  map[string]uint32 `json:"special_tokens"`
	ExplicitNVocab int               `json:"explicit_n_vocab"`
}

func builtinMeta(name string) (tiktokenMeta, error) {
	var meta tiktokenMeta
	raw, err := assets.ReadFile("assets/" + name + ".json")
	if err != nil {
		return meta, fmt.Errorf("tokenizer: unknown built-in encoding %q", name)
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return meta, fmt.Errorf("tokenizer: built-in %s: %w", name, err)
	}
	return meta, nil
}

// loadTiktokenFile loads a rank file. Its pattern and specials come from base (a built-in
// encoding name) when given, else from the sidecar JSON beside it (x.tiktoken -> x.json).
func loadTiktokenFile(path, base string) (*Tokenizer, error) {
	ranks, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var meta tiktokenMeta
	if base != "" {
		b, ok := builtinNames[base]
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: unknown base encoding %q", path, base)
		}
		if meta, err = builtinMeta(b.meta); err != nil {
			return nil, err
		}
	} else {
		side := strings.TrimSuffix(path, filepath.Ext(path)) + ".json"
		raw, err := os.ReadFile(side)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s needs its pattern and special tokens: "+
				"put them in %s or name a base encoding (%s:cl100k_base): %w", path, side, path, err)
		}
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", side, err)
		}
		if meta.PatStr == "" {
			return nil, fmt.Errorf("tokenizer: %s: missing pat_str", side)
		}
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	tokens, err := parseRanks(ranks)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	sum := sha256.Sum256(ranks)
	return newTiktoken(name, tokens, hex.EncodeToString(sum[:]), meta)
}

// parseRanks reads a tiktoken rank file: one "base64-token rank" per line. The tokens are
// decoded into one buffer, not allocated one by one.
func parseRanks(data []byte) (tokenList, error) {
	dec := make([]byte, 0, base64.StdEncoding.DecodedLen(len(data)))
	var spans [][2]int // by rank: where the token is in dec
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			return tokenList{}, fmt.Errorf("line %d: want \"base64 rank\"", lineNo)
		}
		start, most := len(dec), base64.StdEncoding.DecodedLen(sp)
		dec = slices.Grow(dec, most)
		n, err := base64.StdEncoding.Decode(dec[start:start+most], line[:sp])
		if err != nil {
			return tokenList{}, fmt.Errorf("line %d: %w", lineNo, err)
		}
		dec = dec[:start+n]
		rank, err := strconv.ParseUint(string(line[sp+1:]), 10, 32)
		if err != nil {
			return tokenList{}, fmt.Errorf("line %d: %w", lineNo, err)
		}
		for uint64(len(spans)) <= rank {
			spans = append(spans, [2]int{})
		}
		if spans[rank][1] > spans[rank][0] {
			return tokenList{}, fmt.Errorf("line %d: rank %d given twice", lineNo, rank)
		}
		spans[rank] = [2]int{start, start + n}
	}
	all := string(dec)
	tokens := make([]string, len(spans))
	for rank, sp := range spans {
		tokens[rank] = all[sp[0]:sp[1]]
	}
	return newTokenList(tokens), nil
}

// newTiktoken builds a tiktoken encoding from its tokens by rank; sum, the hex SHA-256 of the
// rank file they came from, identifies it.
func newTiktoken(name string, tokens tokenList, sum string, meta tiktokenMeta) (*Tokenizer, error) {
	m := &bpe{tokens: tokens, byteLevel: true, wholeWord: true, unk: -1, concat: true}
	m.index()
	for b := 0; b < 256; b++ {
		id, ok := m.lookup(string([]byte{byte(b)}))
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: byte 0x%02x has no token; tiktoken vocabularies cover all 256 bytes", name, b)
		}
		m.byteIDs[b], m.hasByte[b] = id, true
	}
	m.finish()
	t := &Tokenizer{
		name:     name,
		kind:     "tiktoken",
		pattern:  meta.PatStr,
		model:    m,
		specials: map[string]uint32{},
		sha256:   sum,
	}
	if err := t.setSplitter(meta.PatStr); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	maxID := tokens.len() - 1
	var added []addedToken
	for s, id := range meta.SpecialTokens {
		t.specials[s] = id
		added = append(added, addedToken{content: s, id: id, special: true})
		maxID = max(maxID, int(id))
	}
	t.vocabSize = maxID + 1
	if meta.ExplicitNVocab > 0 {
		if meta.ExplicitNVocab < t.vocabSize {
			return nil, fmt.Errorf("tokenizer: %s: explicit_n_vocab %d is below the largest id %d", name, meta.ExplicitNVocab, maxID)
		}
		t.vocabSize = meta.ExplicitNVocab
	}
	t.setAdded(added)
	t.eos = t.findSpecial(eosNames)
	t.bos = t.findSpecial(bosNames)
	return t, nil
}
