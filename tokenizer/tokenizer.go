package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Tokenizer encodes text into token ids and back. It is immutable after Load and safe for
// concurrent use.
type Tokenizer struct {
	name       string
	kind       string // "tiktoken", "huggingface" or "sentencepiece"
	pattern    string
	sha256     string
	model      *bpe
	scan       scanner // hand-written pre-tokenizer, when the pattern is known
	split      matcher // general pre-tokenizer otherwise
	specials   map[string]uint32
	added      []addedToken
	addedAll   *addedSet // every added token: matched with AllowSpecial
	addedPlain *addedSet // the non-special ones: matched always (Hugging Face semantics)
	addedByID  map[uint32]string
	vocabSize  int
	eos, bos   int64
	hf         *hfPipeline // nil for tiktoken encodings
	sp         *spModel    // a SentencePiece model (spm.go); model and hf are then nil
	pool       statePool
}

// Options select how Append encodes.
type Options struct {
	// AllowSpecial encodes special-token strings found in the text as special tokens. Without
	// it they are plain text, so a document that quotes "<|endoftext|>" cannot inject one.
	AllowSpecial bool
	// AddSpecialTokens applies the tokenizer's post-processor (Hugging Face TemplateProcessing:
	// BOS/EOS around the sequence). tiktoken encodings have none.
	AddSpecialTokens bool
}

// eosNames and bosNames are the special tokens, in order of preference, taken as end and
// beginning of text: tokenizer.json does not say which of its specials they are.
var (
	eosNames = []string{"<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>", "<|eos|>", "<|im_end|>"}
	bosNames = []string{"<|begin_of_text|>", "<|startoftext|>", "<s>", "<bos>", "<|bos|>"}
)

// Load returns the tokenizer named by nameOrPath: a built-in encoding name (r50k_base, gpt2,
// p50k_base, cl100k_base, o200k_base, o200k_harmony), a path to a tiktoken rank file (with a
// sidecar .json, or "file.tiktoken:cl100k_base" to borrow a built-in's pattern and specials), or
// a path to a Hugging Face tokenizer.json, or a path to a SentencePiece BPE model (a file named
// *.model, or a directory with a tokenizer.model and no tokenizer.json). Its errors begin with
// "tokenizer: ".
func Load(nameOrPath string) (*Tokenizer, error) {
	if _, ok := builtinNames[nameOrPath]; ok {
		return loadBuiltin(nameOrPath)
	}
	path, base := nameOrPath, ""
	if i := strings.LastIndexByte(nameOrPath, ':'); i > 0 {
		if _, ok := builtinNames[nameOrPath[i+1:]]; ok {
			path, base = nameOrPath[:i], nameOrPath[i+1:]
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(path, "/.") {
			return nil, fmt.Errorf("tokenizer: %q is neither a built-in encoding (%s) nor a file",
				nameOrPath, strings.Join(BuiltinNames(), ", "))
		}
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	if st.IsDir() {
		if _, err := os.Stat(path + "/tokenizer.json"); err == nil {
			return loadHF(path + "/tokenizer.json")
		}
		if _, err := os.Stat(path + "/tokenizer.model"); err == nil {
			return loadSPM(path + "/tokenizer.model")
		}
		return nil, fmt.Errorf("tokenizer: %s is a directory without a tokenizer.json or tokenizer.model", path)
	}
	if strings.HasSuffix(path, ".json") {
		return loadHF(path)
	}
	if strings.HasSuffix(path, ".model") {
		return loadSPM(path)
	}
	return loadTiktokenFile(path, base)
}

// setSplitter picks the pre-tokenizer for a split pattern: a hand-written scanner when there is
// one, the general regex engine otherwise.
func (t *Tokenizer) setSplitter(pattern string) error {
	if sc := knownScanner(pattern); sc != nil {
		t.scan = sc
		return nil
	}
	m, err := compileRegex(pattern)
	if err != nil {
		return fmt.Errorf("split pattern: %w", err)
	}
	t.split = m
	return nil
}

func (t *Tokenizer) setAdded(added []addedToken) {
	sort.Slice(added, func(i, j int) bool { return added[i].id < added[j].id })
	t.added = added
	t.addedByID = make(map[uint32]string, len(added))
	var plain []addedToken
	for _, a := range added {
		t.addedByID[a.id] = a.content
		if !a.special {
			plain = append(plain, a)
		}
	}
	t.addedAll = newAddedSet(added)
	t.addedPlain = newAddedSet(plain)
}

func (t *Tokenizer) findSpecial(names []string) int64 {
	for _, n := range names {
		if id, ok := t.specials[n]; ok {
			return int64(id)
		}
	}
	return -1
}

func (t *Tokenizer) getState() *state {
	return t.pool.get()
}

// Encode returns the ids of text; special-token strings in it are plain text.
func (t *Tokenizer) Encode(text string) []uint32 {
	return t.Append(nil, text, Options{})
}

// EncodeSpecial returns the ids of text with special-token strings encoded as special tokens.
func (t *Tokenizer) EncodeSpecial(text string) []uint32 {
	return t.Append(nil, text, Options{AllowSpecial: true})
}

// AppendBytes is Append for a byte slice, without copying it; b must not change during the call.
func (t *Tokenizer) AppendBytes(dst []uint32, b []byte, opts Options) []uint32 {
	return t.Append(dst, unsafe.String(unsafe.SliceData(b), len(b)), opts)
}

// Append appends the ids of text to dst and returns the extended slice.
func (t *Tokenizer) Append(dst []uint32, text string, opts Options) []uint32 {
	st := t.getState()
	start := len(dst)
	set := t.addedPlain
	if opts.AllowSpecial {
		set = t.addedAll
	}
	if set == nil {
		dst = t.appendSegment(dst, text, true, st)
	} else {
		pos := 0
		for pos < len(text) {
			s, e, tok, ok := set.find(text, pos)
			if !ok {
				break
			}
			if s > pos {
				dst = t.appendSegment(dst, text[pos:s], pos == 0, st)
			}
			dst = append(dst, tok.id)
			pos = e
		}
		if pos < len(text) {
			dst = t.appendSegment(dst, text[pos:], pos == 0, st)
		}
	}
	if opts.AddSpecialTokens && t.hf != nil && t.hf.post != nil {
		dst = append(dst[:start], t.hf.post.process(dst[start:])...)
	}
	t.pool.put(st)
	return dst
}

// appendSegment encodes text that holds no added token. first reports whether it starts the
// input.
func (t *Tokenizer) appendSegment(dst []uint32, s string, first bool, st *state) []uint32 {
	if t.sp != nil {
		return t.sp.appendText(dst, s, st)
	}
	if t.hf != nil && !t.hf.fast {
		return t.hf.appendSegment(t, dst, s, first, st)
	}
	m := t.model
	switch sc := t.scan.(type) {
	case cl100kScanner:
		for i := 0; i < len(s); {
			j := sc.next(s, i)
			p := s[i:j]
			i = j
			if len(p) == 1 && m.hasByte[p[0]] {
				dst = append(dst, m.byteIDs[p[0]])
				continue
			}
			// The hot-cache hit, written out here so that the common case makes no call.
			if n := len(p); n <= maxShortKey {
				lo, hi := packKey(p)
				e := &st.hot[hotHash(lo, hi, n)]
				if e.v&hotLen == uint64(n) && e.lo == lo && e.hi == hi {
					if e.v&hotKind == hotToken {
						dst = append(dst, uint32(e.v>>hotPayload))
					} else {
						dst = st.appendHotIDs(dst, e.v)
					}
					continue
				}
			}
			dst = t.model.encodePiece(dst, p, st)
		}
		return dst
	case o200kScanner:
		for i := 0; i < len(s); {
			j := sc.next(s, i)
			p := s[i:j]
			i = j
			if len(p) == 1 && m.hasByte[p[0]] {
				dst = append(dst, m.byteIDs[p[0]])
				continue
			}
			// As above (each scanner type gets its own loop: direct calls).
			if n := len(p); n <= maxShortKey {
				lo, hi := packKey(p)
				e := &st.hot[hotHash(lo, hi, n)]
				if e.v&hotLen == uint64(n) && e.lo == lo && e.hi == hi {
					if e.v&hotKind == hotToken {
						dst = append(dst, uint32(e.v>>hotPayload))
					} else {
						dst = st.appendHotIDs(dst, e.v)
					}
					continue
				}
			}
			dst = t.model.encodePiece(dst, p, st)
		}
		return dst
	case scanner:
		for i := 0; i < len(s); {
			j := sc.next(s, i)
			dst = t.model.encodeHot(dst, s[i:j], st)
			i = j
		}
		return dst
	}
	// A general pattern may leave text unmatched; tiktoken drops such text, and so do we.
	st.spans = t.split.appendMatches(st.spans[:0], s)
	for _, sp := range st.spans {
		dst = t.model.encodePiece(dst, s[sp.start:sp.end], st)
	}
	return dst
}

// EncodeBatch encodes texts on all cores; the result is in the order of texts.
func (t *Tokenizer) EncodeBatch(texts []string, opts Options) [][]uint32 {
	out := make([][]uint32, len(texts))
	workers := min(runtime.GOMAXPROCS(0), len(texts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(texts) {
					return
				}
				out[i] = t.Append(nil, texts[i], opts)
			}
		})
	}
	wg.Wait()
	return out
}

// Decode returns the text of ids. Ids outside the vocabulary are an error.
func (t *Tokenizer) Decode(ids []uint32) ([]byte, error) {
	if t.sp != nil {
		return t.sp.decode(ids)
	}
	if t.hf != nil && !t.hf.rawDecode {
		return t.hf.decode(t, ids)
	}
	var out []byte
	for _, id := range ids {
		if s, ok := t.addedByID[id]; ok {
			out = append(out, s...)
			continue
		}
		s, err := t.model.token(id)
		if err != nil {
			return out, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// Name is the encoding's name (built-in name or file name).
func (t *Tokenizer) Name() string { return t.name }

// Kind is "tiktoken", "huggingface" or "sentencepiece".
func (t *Tokenizer) Kind() string { return t.kind }

// Pattern is the split pattern, or a description of the pre-tokenizer for tokenizer.json.
func (t *Tokenizer) Pattern() string { return t.pattern }

// SHA256 is the hex SHA-256 of the vocabulary file the tokenizer was loaded from.
func (t *Tokenizer) SHA256() string { return t.sha256 }

// VocabSize is one more than the largest token id, special tokens included.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// SpecialTokens returns a copy of the special tokens by their strings.
func (t *Tokenizer) SpecialTokens() map[string]uint32 {
	out := make(map[string]uint32, len(t.specials))
	for k, v := range t.specials {
		out[k] = v
	}
	return out
}

// SpecialToken returns the id of the special token spelled name.
func (t *Tokenizer) SpecialToken(name string) (uint32, bool) {
	id, ok := t.specials[name]
	return id, ok
}

// EOS returns the end-of-text token, when the tokenizer has one.
func (t *Tokenizer) EOS() (uint32, bool) { return uint32(t.eos), t.eos >= 0 }

// BOS returns the beginning-of-text token, when the tokenizer has one.
func (t *Tokenizer) BOS() (uint32, bool) { return uint32(t.bos), t.bos >= 0 }

// PostProcessorAdds returns the ids the post-processor puts before and after a sequence when
// Options.AddSpecialTokens is set (e.g. Llama 3's BOS), so callers can avoid adding them twice.
func (t *Tokenizer) PostProcessorAdds() (prefix, suffix []uint32) {
	if t.hf == nil || t.hf.post == nil {
		return nil, nil
	}
	return templateAdds(t.hf.post)
}
