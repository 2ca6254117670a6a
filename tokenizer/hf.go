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
	Model         hfModelFields   `json:"model"`
}

// hfModelFields is the model object of a tokenizer.json.
type hfModelFields struct {
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
	t, err := parseHF(raw, userCache())
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

// parseHF builds the tokenizer of a tokenizer.json. Its vocabulary and merges come from cache
// when it holds them for a file of these bytes (hfcache.go), else from raw, and are then put
// in the cache; a nil cache is not used.
func parseHF(raw []byte, cache *hfCache) (*Tokenizer, error) {
	sum := sha256.Sum256(raw)
	var f hfFile
	var v *hfVocab
	doc, vocab, merges, split := splitModelCached(raw, sum, cache, &v)
	if !split {
		doc = raw
	}
	if err := json.Unmarshal(doc, &f); err != nil {
		return nil, fmt.Errorf("not a tokenizer.json: %w", err)
	}
	if split && v == nil {
		f.Model.VocabRaw, f.Model.Merges = vocab, merges
	}
	var err error
	if v == nil {
		if f.Model.Vocab, err = parseVocab(f.Model.VocabRaw); err != nil {
			return nil, err
		}
	}
	if f.Model.Type != "" && f.Model.Type != "BPE" {
		return nil, fmt.Errorf("model %q is not supported (only BPE)", f.Model.Type)
	}
	if v == nil && f.Model.Vocab == nil {
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
	fromFile := v == nil
	if fromFile {
		if v, err = newHFVocab(&f.Model); err != nil {
			return nil, err
		}
	}
	m, spelled, err := hfModel(&f, v, byteLevel)
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
	// A byte-level model's chunks start as bytes, like its pieces, so its merges never cross a
	// cut either; with ignore_merges a chunk that is a token is checked to merge back to itself
	// (chunkToken), as the built-ins' tokens all do.
	if m.byteLevel && m.contPrefix == "" && m.eowSuffix == "" {
		m.split = &splitter{verify: m.wholeWord}
		// The table of cuts comes from the load cache; a file read from its JSON that will be
		// cached gets its table built now, to be cached with it, where it would otherwise be
		// built at its first long non-ASCII pieces (on the first load only, a few milliseconds
		// more: 2-10 for Llama 3's and GPT-OSS's).
		// With ignore_merges, which tokens merge back to themselves is found out once too
		// (50-100 ms more on the first load), where each fresh tokenizer otherwise merged every
		// token it met as a chunk the first time.
		if v.cuts == "" && fromFile && split && cache != nil && v.unique {
			v.cuts = string(encodeCuts(newBoundaryTable(m.tokens, false, false)))
			if m.split.verify {
				v.selfMerges = m.selfMerging()
			}
		}
		m.split.embedded, m.split.selfMerges = v.cuts, v.selfMerges
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
		return v.id(s)
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
	t.sha256 = hex.EncodeToString(sum[:])
	if fromFile && split {
		cache.put(sum, doc, v)
	}
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

// hfModel builds the BPE model of a tokenizer.json from its vocabulary and merges. For
// byte-level models the vocabulary is converted from the printable byte alphabet to raw bytes,
// so the model works on raw bytes as tiktoken's does.
func hfModel(f *hfFile, v *hfVocab, byteLevel bool) (*bpe, []string, error) {
	mf := &f.Model
	n := len(v.spelled)
	m := &bpe{
		byteLevel: byteLevel, wholeWord: mf.IgnoreMerges, unk: -1, fuseUnk: mf.FuseUnk,
		byteFallback: mf.ByteFallback}
	// The tokens' bytes go into one buffer (a token converted from the byte-level alphabet is
	// never longer than its spelling); tokens holds the offsets, then the strings.
	var dec byteLevelTable
	if byteLevel {
		dec = newByteLevelTable()
	}
	buf := make([]byte, 0, v.bytes())
	off := make([]uint32, n+1)
	for id, s := range v.spelled {
		if byteLevel {
			if b, ok := appendByteLevel(dec, buf, s); ok {
				buf = b
			} else {
				buf = append(buf, s...)
			}
		} else {
			buf = append(buf, s...)
		}
		off[id+1] = uint32(len(buf))
	}
	m.tokens = tokenList{data: string(buf), off: off}
	// m.vocab serves the character-level merge loop (initial); byte-level models start from
	// byteIDs instead.
	if !byteLevel {
		m.vocab = make(map[string]uint32, n)
		if v.byID != nil {
			// From the file: every spelling, with the id the vocab gives it (several
			// spellings may share an id there).
			for s, id := range v.byID {
				m.vocab[s] = id
			}
		} else {
			for id, s := range v.spelled {
				if s != "" {
					m.vocab[s] = uint32(id)
				}
			}
		}
	}
	m.index()
	if byteLevel {
		m.byteIDs, m.hasByte = v.byteLevelIDs()
	}
	if mf.UnkToken != nil {
		id, ok := v.id(*mf.UnkToken)
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
	m.byteTokens = v.byteTokens()
	isByte := make([]bool, n)
	m.inertBytes = m.byteFallback
	for _, id := range m.byteTokens {
		if id < 0 {
			m.inertBytes = false
		} else if int(id) < n {
			isByte[id] = true
		}
	}
	for i := 0; i < len(v.merges) && m.inertBytes; i += 3 {
		if isByte[v.merges[i]] || isByte[v.merges[i+1]] {
			m.inertBytes = false
		}
	}
	// Whether the merges are tiktoken's rule in order is worked out on the first load of a file
	// and kept in the load cache. The two-byte ranks serve the check and the ordered merges.
	if byteLevel && v.unique && v.ordered != orderedNo {
		m.byteRank = twoByteRanks(m.tokens)
		if v.ordered == orderedUnknown {
			v.ordered = orderedNo
			if m.mergesOrdered(v.merges) {
				v.ordered = orderedYes
			}
		}
		m.ordered = v.ordered == orderedYes
		if !m.ordered {
			m.byteRank = nil
		}
	}
	if m.ordered {
		m.mergeFrom, m.mergeLeft = orderedMerges(v.merges, n)
	} else {
		m.pairs = newPairTableOf(v.merges)
	}
	m.finish()
	return m, v.spelled, nil
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
