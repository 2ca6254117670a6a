package tokenizer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// hfFile is the part of a Hugging Face tokenizer.json that tokenmill reads. Components are kept
// raw and handed to their constructors, which refuse what they do not support by name.
type hfFile struct {
	AddedTokens []struct {
		ID         uint32 `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         struct {
		Type                    string   `json:"type"`
		Dropout                 *float64 `json:"dropout"`
		UnkToken                *string  `json:"unk_token"`
		ContinuingSubwordPrefix *string  `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string  `json:"end_of_word_suffix"`
		FuseUnk                 bool     `json:"fuse_unk"`
		ByteFallback            bool     `json:"byte_fallback"`
		IgnoreMerges            bool     `json:"ignore_merges"`
		// Vocab is read from VocabRaw by parseVocab, and Merges by parseMerges (hfjson.go).
		Vocab    map[string]uint32 `json:"-"`
		VocabRaw json.RawMessage   `json:"vocab"`
		Merges   json.RawMessage   `json:"merges"`
	} `json:"model"`
}

// hfPipeline holds the components of a tokenizer.json around its BPE model.
type hfPipeline struct {
	norm      normalizer
	pre       preTokenizer
	post      postProcessor
	dec       decoder
	spelled   []string   // id -> token as spelled in tokenizer.json, for the decoder
	fast      bool       // no normalizer and a known split pattern: use the scanner path
	sp        *spEncoder // SentencePiece-style pipeline: encoded from the text as it is (sp.go)
	rawDecode bool       // the decoder is plain ByteLevel: decoding is concatenating raw bytes
}

func loadHF(path string) (*Tokenizer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	t, err := parseHF(raw)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	t.name = strings.TrimSuffix(filepath.Base(path), ".json")
	if t.name == "tokenizer" {
		t.name = filepath.Base(filepath.Dir(path))
	}
	return t, nil
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func parseHF(raw []byte) (*Tokenizer, error) {
	var f hfFile
	doc, vocab, merges, split := splitModel(raw)
	if !split {
		doc = raw
	}
	if err := json.Unmarshal(doc, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	if split {
		f.Model.VocabRaw, f.Model.Merges = vocab, merges
	}
	var err error
	if f.Model.Vocab, err = parseVocab(f.Model.VocabRaw); err != nil {
		return nil, err
	}
	if f.Model.Type != "" && f.Model.Type != "BPE" {
		return nil, fmt.Errorf("model %q is not supported (only BPE)", f.Model.Type)
	}
	if f.Model.Vocab == nil {
		return nil, fmt.Errorf("model: no vocab")
	}
	if f.Model.Dropout != nil && *f.Model.Dropout != 0 {
		return nil, fmt.Errorf("model: BPE dropout %v is random and not supported", *f.Model.Dropout)
	}
	p := &hfPipeline{}
	if p.norm, err = newNormalizer(f.Normalizer); err != nil {
		return nil, err
	}
	t := &Tokenizer{kind: "huggingface", hf: p, specials: map[string]uint32{}}
	byteLevel, fastPattern := hfFastPath(f.PreTokenizer)
	if fastPattern != "" && p.norm == nil {
		p.fast = true
		t.scan = knownScanner(fastPattern)
		t.pattern = fastPattern
	} else {
		if p.pre, byteLevel, err = newPreTokenizer(f.PreTokenizer); err != nil {
			return nil, err
		}
		t.pattern = string(bytes.TrimSpace(f.PreTokenizer))
	}
	m, spelled, err := hfModel(&f, byteLevel)
	if err != nil {
		return nil, err
	}
	t.model, p.spelled = m, spelled
	// Pieces can be cut where no token can cross (chunk.go) when a chunk's ids are its merges:
	// not with ignore_merges (a chunk that is a token would be taken whole, where the reference
	// merges the piece it is part of) nor with affixes that mark a word's pieces.
	if !m.byteLevel && !m.wholeWord && m.contPrefix == "" && m.eowSuffix == "" {
		m.split = &splitter{charLevel: true, inertBytes: m.inertBytes}
	}
	p.sp = spFastPath(p, m)
	maxID := m.tokens.len() - 1
	var added []addedToken
	for _, a := range f.AddedTokens {
		added = append(added, addedToken{content: a.Content, id: a.ID, special: a.Special,
			lstrip: a.Lstrip, rstrip: a.Rstrip, singleWord: a.SingleWord, normalized: a.Normalized})
		if a.Special {
			t.specials[a.Content] = a.ID
		}
		maxID = max(maxID, int(a.ID))
	}
	t.setAdded(added)
	t.vocabSize = maxID + 1
	tokenID := func(s string) (uint32, bool) {
		for _, a := range t.added {
			if a.content == s {
				return a.id, true
			}
		}
		id, ok := f.Model.Vocab[s]
		return id, ok
	}
	if p.post, err = newPostProcessor(f.PostProcessor, tokenID); err != nil {
		return nil, err
	}
	if p.dec, err = newDecoder(f.Decoder); err != nil {
		return nil, err
	}
	p.rawDecode = byteLevel && isPlainByteLevelDecoder(f.Decoder)
	t.eos = t.findSpecial(eosNames)
	t.bos = t.findSpecial(bosNames)
	sum := sha256.Sum256(raw)
	t.sha256 = hex.EncodeToString(sum[:])
	return t, nil
}

// hfFastPath recognises the pre-tokenizers of byte-level models that a hand-written scanner
// implements exactly: Split(known regex, Isolated) followed by ByteLevel without its own regex
// (Llama 3, GPT-OSS), or ByteLevel with the GPT-2 regex and no prefix space (GPT-2 and kin).
func hfFastPath(raw json.RawMessage) (byteLevel bool, pattern string) {
	type byteLevelCfg struct {
		Type           string `json:"type"`
		AddPrefixSpace bool   `json:"add_prefix_space"`
		UseRegex       *bool  `json:"use_regex"`
	}
	var seq struct {
		Type          string            `json:"type"`
		Pretokenizers []json.RawMessage `json:"pretokenizers"`
	}
	if err := json.Unmarshal(raw, &seq); err != nil {
		return false, ""
	}
	if seq.Type == "ByteLevel" {
		var b byteLevelCfg
		if json.Unmarshal(raw, &b) == nil && !b.AddPrefixSpace && (b.UseRegex == nil || *b.UseRegex) {
			return true, patternGPT2
		}
		return false, ""
	}
	if seq.Type != "Sequence" || len(seq.Pretokenizers) != 2 {
		return false, ""
	}
	var split struct {
		Type    string `json:"type"`
		Pattern struct {
			Regex *string `json:"Regex"`
		} `json:"pattern"`
		Behavior string `json:"behavior"`
		Invert   bool   `json:"invert"`
	}
	var b byteLevelCfg
	if json.Unmarshal(seq.Pretokenizers[0], &split) != nil || json.Unmarshal(seq.Pretokenizers[1], &b) != nil {
		return false, ""
	}
	if split.Type != "Split" || split.Pattern.Regex == nil || split.Behavior != "Isolated" || split.Invert {
		return false, ""
	}
	if b.Type != "ByteLevel" || b.AddPrefixSpace || b.UseRegex == nil || *b.UseRegex {
		return false, ""
	}
	if knownScanner(*split.Pattern.Regex) == nil {
		return false, ""
	}
	return true, *split.Pattern.Regex
}

func isPlainByteLevelDecoder(raw json.RawMessage) bool {
	var d struct {
		Type string `json:"type"`
	}
	return json.Unmarshal(raw, &d) == nil && d.Type == "ByteLevel"
}

// hfModel builds the BPE model of a tokenizer.json. For byte-level models the vocabulary is
// converted from the printable byte alphabet to raw bytes, so the model works on raw bytes as
// tiktoken's does.
func hfModel(f *hfFile, byteLevel bool) (*bpe, []string, error) {
	mf := &f.Model
	n := 0
	for _, id := range mf.Vocab {
		n = max(n, int(id)+1)
	}
	m := &bpe{vocab: make(map[string]uint32, len(mf.Vocab)),
		byteLevel: byteLevel, wholeWord: mf.IgnoreMerges, unk: -1, fuseUnk: mf.FuseUnk,
		byteFallback: mf.ByteFallback}
	spelled, tokens := make([]string, n), make([]string, n)
	dec := newByteLevelDecoder()
	for s, id := range mf.Vocab {
		spelled[id] = s
		key := s
		if byteLevel {
			if b, ok := dec.bytes(s); ok {
				key = string(b)
			}
		}
		tokens[id] = key
		m.vocab[key] = id
	}
	m.tokens = newTokenList(tokens)
	m.index()
	if byteLevel {
		for b := 0; b < 256; b++ {
			m.byteIDs[b], m.hasByte[b] = m.vocab[string([]byte{byte(b)})]
		}
	}
	if mf.UnkToken != nil {
		id, ok := mf.Vocab[*mf.UnkToken]
		if !ok {
			return nil, nil, fmt.Errorf("model: unk_token %q is not in the vocab", *mf.UnkToken)
		}
		m.unk = int64(id)
	}
	if mf.ContinuingSubwordPrefix != nil {
		m.contPrefix = *mf.ContinuingSubwordPrefix
	}
	if mf.EndOfWordSuffix != nil {
		m.eowSuffix = *mf.EndOfWordSuffix
	}
	for b := range m.byteTokens {
		m.byteTokens[b] = -1
		if id, ok := mf.Vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteTokens[b] = int64(id)
		}
	}
	merges, err := parseMerges(mf.Merges)
	if err != nil {
		return nil, nil, err
	}
	m.pairs = newPairTable(len(merges))
	isByte := make([]bool, n)
	m.inertBytes = m.byteFallback
	for _, id := range m.byteTokens {
		if id < 0 {
			m.inertBytes = false
		} else if int(id) < n {
			isByte[id] = true
		}
	}
	var join []byte
	for rank, mg := range merges {
		a, ok := mf.Vocab[mg[0]]
		if !ok {
			return nil, nil, fmt.Errorf("model: merge %d: %q is not in the vocab", rank, mg[0])
		}
		b, ok := mf.Vocab[mg[1]]
		if !ok {
			return nil, nil, fmt.Errorf("model: merge %d: %q is not in the vocab", rank, mg[1])
		}
		right := mg[1]
		if len(m.contPrefix) <= len(right) {
			right = right[len(m.contPrefix):]
		}
		join = append(append(join[:0], mg[0]...), right...)
		joined, ok := mf.Vocab[string(join)] // no string is made for the lookup
		if !ok {
			return nil, nil, fmt.Errorf("model: merge %d: %q is not in the vocab", rank, join)
		}
		if isByte[a] || isByte[b] {
			m.inertBytes = false
		}
		m.pairs.put(a, b, uint32(rank), joined)
	}
	m.finish()
	return m, spelled, nil
}

// appendSegment runs the general pipeline on text without added tokens: normalize,
// pre-tokenize, then the model on each piece.
func (p *hfPipeline) appendSegment(t *Tokenizer, dst []uint32, s string, first bool, st *state) []uint32 {
	if p.sp != nil {
		return p.sp.appendSegment(dst, s, first, st)
	}
	if p.norm != nil {
		s = p.norm.normalize(s)
	}
	pieces := append(st.pieces[:0], s)
	if p.pre != nil {
		pieces = p.pre.preTokenize(st.pieces[:0], s, first)
	}
	for _, piece := range pieces {
		if piece != "" {
			dst = t.model.encodePiece(dst, piece, st)
		}
	}
	st.pieces = pieces[:0]
	return dst
}

// decode runs the tokenizer.json decoder over the spelled tokens, added tokens as their text.
func (p *hfPipeline) decode(t *Tokenizer, ids []uint32) ([]byte, error) {
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		if s, ok := t.addedByID[id]; ok {
			toks = append(toks, s)
			continue
		}
		if int(id) >= len(p.spelled) || p.spelled[id] == "" {
			return nil, fmt.Errorf("tokenizer: token id %d is not in the vocabulary", id)
		}
		toks = append(toks, p.spelled[id])
	}
	if p.dec == nil {
		return []byte(strings.Join(toks, "")), nil
	}
	return decodeChain(p.dec, toks), nil
}
