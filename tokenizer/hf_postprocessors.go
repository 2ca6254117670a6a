package tokenizer

import (
	"encoding/json"
	"fmt"
)

// affixProcessor adds fixed ids before and after a single encoded sequence. Every supported
// post-processor reduces to one for a single sequence: TemplateProcessing's "single" template
// with one $A, BertProcessing and RobertaProcessing ([cls] $A [sep]), ByteLevel (nothing) and
// Sequence (the affixes of its members, nested in order). Type ids and pair templates do not
// matter for ids of a single sequence and are ignored.
type affixProcessor struct {
	prefix, suffix []uint32
}

func (p *affixProcessor) process(ids []uint32) []uint32 {
	if len(p.prefix) == 0 && len(p.suffix) == 0 {
		return ids
	}
	out := make([]uint32, 0, len(p.prefix)+len(ids)+len(p.suffix))
	out = append(out, p.prefix...)
	out = append(out, ids...)
	return append(out, p.suffix...)
}

// templateAdds reports the ids p puts before and after a sequence, so that the pipeline can tell
// whether a BOS is already added (and avoid a double BOS). nil p adds nothing.
func templateAdds(p postProcessor) (prefix, suffix []uint32) {
	if a, ok := p.(*affixProcessor); ok {
		return a.prefix, a.suffix
	}
	return nil, nil
}

// newPostProcessor builds a post-processor from its tokenizer.json description. tokenID resolves
// a special token's content to its id where the file gives the token but not its id. null gives
// (nil, nil).
func newPostProcessor(raw json.RawMessage, tokenID func(string) (uint32, bool)) (postProcessor, error) {
	a, err := parsePostProcessor(raw, tokenID)
	if err != nil || a == nil {
		return nil, err
	}
	return a, nil
}

// parsePostProcessor reduces a post-processor to its affixes; null gives (nil, nil).
func parsePostProcessor(raw json.RawMessage, tokenID func(string) (uint32, bool)) (*affixProcessor, error) {
	typ, isNull, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("tokenizer.json: post_processor: %w", err)
	}
	if isNull {
		return nil, nil
	}
	bad := func(err error) error {
		return fmt.Errorf("tokenizer.json: post_processor %q: %w", typ, err)
	}
	switch typ {
	case "ByteLevel":
		// Only trims offsets.
		return &affixProcessor{}, nil
	case "BertProcessing", "RobertaProcessing":
		return clsSepProcessor(raw, tokenID, bad)
	case "TemplateProcessing":
		return templateProcessor(raw, tokenID, bad)
	case "Sequence":
		return sequenceProcessor(raw, tokenID, bad)
	}
	return nil, fmt.Errorf("tokenizer.json: post_processor %q is not supported", typ)
}

// clsSepProcessor parses BertProcessing and RobertaProcessing: [cls] $A [sep]; each is
// ["token", id]. bad wraps its errors with the post-processor's type.
func clsSepProcessor(raw json.RawMessage, tokenID func(string) (uint32, bool), bad func(error) error) (*affixProcessor, error) {
	var c struct {
		Sep []json.RawMessage `json:"sep"`
		Cls []json.RawMessage `json:"cls"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad(err)
	}
	cls, err := tokenPair(c.Cls, tokenID)
	if err != nil {
		return nil, bad(fmt.Errorf("cls: %w", err))
	}
	sep, err := tokenPair(c.Sep, tokenID)
	if err != nil {
		return nil, bad(fmt.Errorf("sep: %w", err))
	}
	return &affixProcessor{prefix: []uint32{cls}, suffix: []uint32{sep}}, nil
}

// templateSpecial is a special token of a TemplateProcessing: its ids, or the tokens that
// give them.
type templateSpecial struct {
	ID     string    `json:"id"`
	IDs    *[]uint32 `json:"ids"`
	Tokens []string  `json:"tokens"`
}

// templateProcessor parses a TemplateProcessing: the special tokens of its single template
// before $A are the prefix, those after it the suffix. bad wraps its errors with the
// post-processor's type.
func templateProcessor(raw json.RawMessage, tokenID func(string) (uint32, bool), bad func(error) error) (*affixProcessor, error) {
	var c struct {
		Single []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
		} `json:"single"`
		SpecialTokens map[string]templateSpecial `json:"special_tokens"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad(err)
	}
	p := &affixProcessor{}
	seen := 0
	for _, piece := range c.Single {
		switch {
		case piece.Sequence != nil && piece.SpecialToken == nil:
			if piece.Sequence.ID != "A" {
				return nil, bad(fmt.Errorf("single template uses sequence %q", piece.Sequence.ID))
			}
			seen++
		case piece.SpecialToken != nil && piece.Sequence == nil:
			st, ok := c.SpecialTokens[piece.SpecialToken.ID]
			if !ok {
				// Hugging Face refuses such a template too.
				return nil, bad(fmt.Errorf("missing special token %q", piece.SpecialToken.ID))
			}
			ids, err := st.ids(tokenID)
			if err != nil {
				return nil, bad(err)
			}
			if seen == 0 {
				p.prefix = append(p.prefix, ids...)
			} else {
				p.suffix = append(p.suffix, ids...)
			}
		default:
			return nil, bad(fmt.Errorf("template piece must be SpecialToken or Sequence"))
		}
	}
	if seen != 1 {
		return nil, fmt.Errorf("tokenizer.json: post_processor \"TemplateProcessing\" with a single template holding %d $A is not supported", seen)
	}
	return p, nil
}

// ids returns the special token's ids: as given, else those of its tokens.
func (st templateSpecial) ids(tokenID func(string) (uint32, bool)) ([]uint32, error) {
	if st.IDs != nil {
		return *st.IDs, nil
	}
	var ids []uint32
	for _, t := range st.Tokens {
		id, ok := lookup(tokenID, t)
		if !ok {
			return nil, fmt.Errorf("special token %q is not in the vocabulary", t)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// sequenceProcessor parses a Sequence: each processor wraps the result of the previous ones.
// bad wraps its errors with the post-processor's type.
func sequenceProcessor(raw json.RawMessage, tokenID func(string) (uint32, bool), bad func(error) error) (*affixProcessor, error) {
	var c struct {
		Processors []json.RawMessage `json:"processors"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad(err)
	}
	out := &affixProcessor{}
	for _, r := range c.Processors {
		a, err := parsePostProcessor(r, tokenID)
		if err != nil {
			return nil, err
		}
		if a == nil {
			continue
		}
		out.prefix = append(append([]uint32(nil), a.prefix...), out.prefix...)
		out.suffix = append(out.suffix, a.suffix...)
	}
	return out, nil
}

func lookup(tokenID func(string) (uint32, bool), tok string) (uint32, bool) {
	if tokenID == nil {
		return 0, false
	}
	return tokenID(tok)
}

// tokenPair reads ["token", id]; when the id is missing it is looked up.
func tokenPair(pair []json.RawMessage, tokenID func(string) (uint32, bool)) (uint32, error) {
	if len(pair) == 0 || len(pair) > 2 {
		return 0, fmt.Errorf("want [\"token\", id]")
	}
	var tok string
	if err := json.Unmarshal(pair[0], &tok); err != nil {
		return 0, err
	}
	if len(pair) == 2 {
		var id uint32
		if err := json.Unmarshal(pair[1], &id); err != nil {
			return 0, err
		}
		return id, nil
	}
	id, ok := lookup(tokenID, tok)
	if !ok {
		return 0, fmt.Errorf("token %q is not in the vocabulary", tok)
	}
	return id, nil
}
