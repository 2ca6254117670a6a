package tokenizer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// assets holds the built-in encodings: gzip-compressed tiktoken rank files and, beside each, a
// JSON file with its split pattern and special tokens (read-only).
//
//go:embed assets
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

func loadBuiltin(name string) (*Tokenizer, error) {
	b, ok := builtinNames[name]
	if !ok {
		return nil, fmt.Errorf("tokenizer: unknown built-in encoding %q", name)
	}
	gz, err := assets.ReadFile("assets/" + b.ranks + ".tiktoken.gz")
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: built-in %s: %w", name, err)
	}
	ranks, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: built-in %s: %w", name, err)
	}
	meta, err := builtinMeta(b.meta)
	if err != nil {
		return nil, err
	}
	return newTiktoken(name, ranks, meta)
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
	return newTiktoken(name, ranks, meta)
}

// parseRanks reads a tiktoken rank file: one "base64-token rank" per line.
func parseRanks(data []byte) (tokens []string, err error) {
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
			return nil, fmt.Errorf("line %d: want \"base64 rank\"", lineNo)
		}
		tok := make([]byte, base64.StdEncoding.DecodedLen(sp))
		n, err := base64.StdEncoding.Decode(tok, line[:sp])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		rank, err := strconv.ParseUint(string(line[sp+1:]), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		for uint64(len(tokens)) <= rank {
			tokens = append(tokens, "")
		}
		if tokens[rank] != "" {
			return nil, fmt.Errorf("line %d: rank %d given twice", lineNo, rank)
		}
		tokens[rank] = string(tok[:n])
	}
	return tokens, nil
}

func newTiktoken(name string, ranks []byte, meta tiktokenMeta) (*Tokenizer, error) {
	tokens, err := parseRanks(ranks)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
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
	sum := sha256.Sum256(ranks)
	t := &Tokenizer{
		name:     name,
		kind:     "tiktoken",
		pattern:  meta.PatStr,
		model:    m,
		specials: map[string]uint32{},
		sha256:   hex.EncodeToString(sum[:]),
	}
	if err := t.setSplitter(meta.PatStr); err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", name, err)
	}
	maxID := len(tokens) - 1
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
