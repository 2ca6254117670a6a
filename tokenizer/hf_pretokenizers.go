package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// gpt2Pattern is the split pattern built into Hugging Face's ByteLevel pre-tokenizer.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// splitBehavior is Hugging Face's SplitDelimiterBehavior: what happens to the matched delimiters.
type splitBehavior uint8

const (
	behaviorRemoved            splitBehavior = iota // delimiters are dropped
	behaviorIsolated                                // each delimiter is a piece of its own
	behaviorMergedWithPrevious                      // a delimiter joins the piece before it
	behaviorMergedWithNext                          // a delimiter joins the piece after it
	behaviorContiguous                              // runs of delimiters form one piece
)

func parseBehavior(s string) (splitBehavior, error) {
	switch s {
	case "Removed":
		return behaviorRemoved, nil
	case "Isolated":
		return behaviorIsolated, nil
	case "MergedWithPrevious":
		return behaviorMergedWithPrevious, nil
	case "MergedWithNext":
		return behaviorMergedWithNext, nil
	case "Contiguous":
		return behaviorContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

// piece is one pre-tokenized piece. first reports that it starts at offset 0 of the original
// text, which is what Metaspace's prepend_scheme "first" looks at.
type piece struct {
	s     string
	first bool
}

// pieceSplitter is one pre-tokenization step. Steps are chained inside a Sequence, each applied
// to every piece the previous steps made, as Hugging Face does.
type pieceSplitter interface {
	appendPieces(dst []piece, s string, first bool) []piece
}

// pipelinePreTokenizer adapts a chain of steps to the preTokenizer interface.
type pipelinePreTokenizer struct {
	steps []pieceSplitter
}

func (p *pipelinePreTokenizer) preTokenize(dst []string, s string, first bool) []string {
	cur := []piece{{s, first}}
	var next []piece
	for _, st := range p.steps {
		next = next[:0]
		for _, pc := range cur {
			next = st.appendPieces(next, pc.s, pc.first)
		}
		cur, next = next, cur
	}
	for _, pc := range cur {
		dst = append(dst, pc.s)
	}
	return dst
}

// seg is one entry of Hugging Face's find_matches result: a range and whether it matched.
type seg struct {
	start, end int
	match      bool
}

// splitByMatches cuts s at matches (sorted, non-overlapping, possibly empty) the way Hugging
// Face's NormalizedString::split does for the given behavior, then drops empty pieces as
// PreTokenizedString::split does. Pieces are substrings of s; the one at offset 0 inherits first.
func splitByMatches(dst []piece, s string, first bool, matches []span, behavior splitBehavior, invert bool) []piece {
	if s == "" {
		return dst
	}
	// find_matches: matches interleaved with the gaps between them.
	segs := make([]seg, 0, 2*len(matches)+1)
	prev := 0
	for _, m := range matches {
		if prev != m.start {
			segs = append(segs, seg{prev, m.start, false})
		}
		segs = append(segs, seg{m.start, m.end, true})
		prev = m.end
	}
	if prev != len(s) {
		segs = append(segs, seg{prev, len(s), false})
	}
	if invert {
		for i := range segs {
			segs[i].match = !segs[i].match
		}
	}
	// out holds the resulting ranges; match there means "remove".
	out := segs[:0:0]
	switch behavior {
	case behaviorIsolated:
		out = segs
		for i := range out {
			out[i].match = false
		}
	case behaviorRemoved:
		out = segs
	case behaviorContiguous:
		prevMatch := false
		for _, sg := range segs {
			if sg.match == prevMatch && len(out) > 0 {
				out[len(out)-1].end = sg.end
			} else {
				out = append(out, seg{sg.start, sg.end, false})
			}
			prevMatch = sg.match
		}
	case behaviorMergedWithPrevious:
		prevMatch := false
		for _, sg := range segs {
			if sg.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].end = sg.end
			} else {
				out = append(out, seg{sg.start, sg.end, false})
			}
			prevMatch = sg.match
		}
	case behaviorMergedWithNext:
		// Hugging Face folds from the end: a match not preceded (in reverse order) by a match
		// joins the piece after it.
		prevMatch := false
		for i := len(segs) - 1; i >= 0; i-- {
			sg := segs[i]
			if sg.match && !prevMatch && len(out) > 0 {
				out[len(out)-1].start = sg.start
			} else {
				out = append(out, seg{sg.start, sg.end, false})
			}
			prevMatch = sg.match
		}
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	for _, o := range out {
		if o.match || o.start == o.end {
			continue
		}
		dst = append(dst, piece{s[o.start:o.end], first && o.start == 0})
	}
	return dst
}

// runeMatches reports every character for which pred is true as a match of its own, as Hugging
// Face's char-predicate patterns do. Invalid bytes never match (they are of the class "other").
func runeMatches(dst []span, s string, pred func(rune) bool) []span {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if pred(rune(c)) {
				dst = append(dst, span{i, i + 1})
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if w > 1 && pred(r) {
			dst = append(dst, span{i, i + w})
		}
		i += w
	}
	return dst
}

// runeSplit is a pre-tokenizer step splitting on characters selected by pred (WhitespaceSplit,
// Digits, Punctuation, CharDelimiterSplit, BertPreTokenizer's two passes).
type runeSplit struct {
	pred     func(rune) bool
	behavior splitBehavior
}

func (r runeSplit) appendPieces(dst []piece, s string, first bool) []piece {
	var buf [32]span
	return splitByMatches(dst, s, first, runeMatches(buf[:0], s, r.pred), r.behavior, false)
}

// isHFPunctuation is Hugging Face's is_punc / is_bert_punc: ASCII punctuation (which includes
// symbols such as $ + < = > ^ ` | ~) or General_Category P.
func isHFPunctuation(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '!' && r <= '/' || r >= ':' && r <= '@' || r >= '[' && r <= '`' || r >= '{' && r <= '~'
	}
	return unicode.IsPunct(r)
}

// isRustNumeric is Rust's char::is_numeric: General_Category Nd, Nl or No.
func isRustNumeric(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r)
}

// regexSplit is Hugging Face's Split pre-tokenizer.
type regexSplit struct {
	m        matcher
	behavior splitBehavior
	invert   bool
}

func (r regexSplit) appendPieces(dst []piece, s string, first bool) []piece {
	var buf [32]span
	return splitByMatches(dst, s, first, appendSplitMatches(r.m, buf[:0], s), r.behavior, r.invert)
}

// whitespaceSplitter is Hugging Face's Whitespace pre-tokenizer: the matches of the Rust regex
// `\w+|[^\w\s]+`, everything else removed. Hand-written with Rust regex's Unicode classes.
type whitespaceSplitter struct{}

// isRustWord is Rust regex's Unicode \w: Alphabetic, Mark, Decimal_Number, Connector_Punctuation
// or Join_Control. Alphabetic is L, Nl and Other_Alphabetic.
func isRustWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.Nd, unicode.Pc, unicode.Nl, unicode.Other_Alphabetic) ||
		r == 0x200C || r == 0x200D
}

func (whitespaceSplitter) appendPieces(dst []piece, s string, first bool) []piece {
	const (
		space = iota
		word
		other
	)
	class := func(i int) (int, int) {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case isRustWord(rune(c)):
				return word, 1
			case unicode.IsSpace(rune(c)):
				return space, 1
			}
			return other, 1
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case w == 1: // invalid byte
			return other, 1
		case isRustWord(r):
			return word, w
		case unicode.IsSpace(r):
			return space, w
		}
		return other, w
	}
	for i := 0; i < len(s); {
		k, w := class(i)
		if k == space {
			i += w
			continue
		}
		start := i
		i += w
		for i < len(s) {
			k2, w2 := class(i)
			if k2 != k {
				break
			}
			i += w2
		}
		dst = append(dst, piece{s[start:i], first && start == 0})
	}
	return dst
}

// byteLevelSplitter is Hugging Face's ByteLevel pre-tokenizer minus the mapping to the byte-level
// alphabet (the model works on raw bytes): a space is prepended to every piece that does not
// start with one when addPrefixSpace, then with useRegex the GPT-2 pattern isolates the pieces.
type byteLevelSplitter struct {
	addPrefixSpace bool
	re             matcher // nil unless use_regex
}

func (b byteLevelSplitter) appendPieces(dst []piece, s string, first bool) []piece {
	if s == "" {
		return dst
	}
	if b.addPrefixSpace && s[0] != ' ' {
		s = " " + s
	}
	if b.re == nil {
		return append(dst, piece{s, first})
	}
	var buf [32]span
	return splitByMatches(dst, s, first, b.re.appendMatches(buf[:0], s), behaviorIsolated, false)
}

// prependScheme is Metaspace's prepend_scheme.
type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependNever
	prependFirst
)

// metaspaceConfig reads the fields shared by the Metaspace pre-tokenizer and decoder, with Hugging
// Face's rules: prepend_scheme defaults to "always"; the legacy add_prefix_space=false is only
// accepted together with prepend_scheme "never" (Hugging Face rejects it otherwise, because the
// defaulted scheme is "always"); split defaults to true.
func metaspaceConfig(raw json.RawMessage) (replacement rune, scheme prependScheme, split bool, err error) {
	var c struct {
		Replacement    *string `json:"replacement"`
		AddPrefixSpace *bool   `json:"add_prefix_space"`
		PrependScheme  *string `json:"prepend_scheme"`
		Split          *bool   `json:"split"`
	}
	if err = json.Unmarshal(raw, &c); err != nil {
		return
	}
	if c.Replacement == nil || utf8.RuneCountInString(*c.Replacement) != 1 {
		return 0, 0, false, fmt.Errorf("replacement must be exactly one character")
	}
	replacement, _ = utf8.DecodeRuneInString(*c.Replacement)
	scheme = prependAlways
	if c.PrependScheme != nil {
		switch *c.PrependScheme {
		case "always":
		case "never":
			scheme = prependNever
		case "first":
			scheme = prependFirst
		default:
			return 0, 0, false, fmt.Errorf("unknown prepend_scheme %q", *c.PrependScheme)
		}
	}
	if c.AddPrefixSpace != nil && !*c.AddPrefixSpace && scheme != prependNever {
		return 0, 0, false, fmt.Errorf("add_prefix_space does not match declared prepend_scheme")
	}
	split = c.Split == nil || *c.Split
	return replacement, scheme, split, nil
}

// metaspaceSplitter is Hugging Face's Metaspace pre-tokenizer: spaces become the replacement
// character, which is prepended per the scheme, and with split each replacement character starts
// a new piece (MergedWithNext).
type metaspaceSplitter struct {
	replacement rune
	rep         string
	scheme      prependScheme
	split       bool
}

func (m metaspaceSplitter) appendPieces(dst []piece, s string, first bool) []piece {
	if s == "" {
		return dst
	}
	if strings.IndexByte(s, ' ') >= 0 {
		s = strings.ReplaceAll(s, " ", m.rep)
	}
	if !strings.HasPrefix(s, m.rep) && (m.scheme == prependAlways || m.scheme == prependFirst && first) {
		s = m.rep + s
	}
	if !m.split {
		return append(dst, piece{s, first})
	}
	var buf [32]span
	matches := runeMatches(buf[:0], s, func(r rune) bool { return r == m.replacement })
	return splitByMatches(dst, s, first, matches, behaviorMergedWithNext, false)
}

// newPreTokenizer builds a pre-tokenizer from its tokenizer.json description. byteLevel reports
// that a ByteLevel pre-tokenizer is present (the model then works on bytes). null gives nil.
// Hugging Face maps text to the byte-level alphabet inside ByteLevel, so a step after it would
// see that alphabet; this package keeps raw bytes, so ByteLevel must be the last step.
func newPreTokenizer(raw json.RawMessage) (pt preTokenizer, byteLevel bool, err error) {
	var steps []pieceSplitter
	steps, byteLevel, err = appendPreTokenizerSteps(nil, raw)
	if err != nil || len(steps) == 0 {
		return nil, byteLevel, err
	}
	for i, st := range steps {
		if _, ok := st.(byteLevelSplitter); ok && i != len(steps)-1 {
			return nil, false, fmt.Errorf("tokenizer.json: pre_tokenizer \"Sequence\" with ByteLevel followed by another pre-tokenizer is not supported")
		}
	}
	return &pipelinePreTokenizer{steps: steps}, byteLevel, nil
}

// appendPreTokenizerSteps flattens a pre-tokenizer (and nested Sequences) into steps.
func appendPreTokenizerSteps(steps []pieceSplitter, raw json.RawMessage) ([]pieceSplitter, bool, error) {
	typ, isNull, err := componentType(raw)
	if err != nil {
		return nil, false, fmt.Errorf("tokenizer.json: pre_tokenizer: %w", err)
	}
	if isNull {
		return steps, false, nil
	}
	bad := func(err error) error {
		return fmt.Errorf("tokenizer.json: pre_tokenizer %q: %w", typ, err)
	}
	var step pieceSplitter
	switch typ {
	case "ByteLevel":
		step, err = byteLevelStep(raw, bad)
	case "Split":
		step, err = splitStep(raw, bad)
	case "Sequence":
		return appendSequenceSteps(steps, raw, bad)
	case "Metaspace":
		step, err = metaspaceStep(raw, bad)
	case "Digits":
		step, err = digitsStep(raw, bad)
	case "Punctuation":
		step, err = punctuationStep(raw, bad)
	case "Whitespace":
		return append(steps, whitespaceSplitter{}), false, nil
	case "WhitespaceSplit":
		return append(steps, runeSplit{pred: unicode.IsSpace, behavior: behaviorRemoved}), false, nil
	case "BertPreTokenizer":
		return append(steps,
			runeSplit{pred: unicode.IsSpace, behavior: behaviorRemoved},
			runeSplit{pred: isHFPunctuation, behavior: behaviorIsolated}), false, nil
	case "CharDelimiterSplit":
		step, err = charDelimiterStep(raw, bad)
	default:
		return nil, false, fmt.Errorf("tokenizer.json: pre_tokenizer %q is not supported", typ)
	}
	if err != nil {
		return nil, false, err
	}
	return append(steps, step), typ == "ByteLevel", nil
}

// The step functions below parse one pre-tokenizer of the type their name says; bad wraps
// their errors with the pre-tokenizer's type.

func byteLevelStep(raw json.RawMessage, bad func(error) error) (pieceSplitter, error) {
	c := struct {
		AddPrefixSpace *bool `json:"add_prefix_space"`
		UseRegex       *bool `json:"use_regex"`
	}{}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad(err)
	}
	// serde defaults: add_prefix_space is required upstream (default true in the
	// constructor); use_regex defaults to true.
	b := byteLevelSplitter{addPrefixSpace: c.AddPrefixSpace == nil || *c.AddPrefixSpace}
	if c.UseRegex == nil || *c.UseRegex {
		m, err := compileRegex(gpt2Pattern)
		if err != nil {
			return nil, bad(err)
		}
		b.re = m
	}
	return b, nil
}

func splitStep(raw json.RawMessage, bad func(error) error) (pieceSplitter, error) {
	var c struct {
		Pattern  hfPattern `json:"pattern"`
		Behavior string    `json:"behavior"`
		Invert   bool      `json:"invert"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad(err)
	}
	beh, err := parseBehavior(c.Behavior)
	if err != nil {
		return nil, bad(err)
	}
	m, err := c.Pattern.compile()
	if err != nil {
		return nil, bad(err)
	}
	return regexSplit{m: m, behavior: beh, invert: c.Invert}, nil
}

// appendSequenceSteps appends the steps of a Sequence's members, in order, and reports
// whether one of them is ByteLevel.
func appendSequenceSteps(steps []pieceSplitter, raw json.RawMessage, bad func(error) error) ([]pieceSplitter, bool, error) {
	var c struct {
		PreTokenizers []json.RawMessage `json:"pretokenizers"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, false, bad(err)
	}
	found := false
	for _, r := range c.PreTokenizers {
		var bl bool
		var err error
		steps, bl, err = appendPreTokenizerSteps(steps, r)
		if err != nil {
			return nil, false, err
		}
		found = found || bl
	}
	return steps, found, nil
}

func metaspaceStep(raw json.RawMessage, bad func(error) error) (pieceSplitter, error) {
	rep, scheme, split, err := metaspaceConfig(raw)
	if err != nil {
		return nil, bad(err)
	}
	return metaspaceSplitter{replacement: rep, rep: string(rep), scheme: scheme, split: split}, nil
}

func digitsStep(raw json.RawMessage, bad func(error) error) (pieceSplitter, error) {
	var c struct {
		Individual bool `json:"individual_digits"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad(err)
	}
	beh := behaviorContiguous
	if c.Individual {
		beh = behaviorIsolated
	}
	return runeSplit{pred: isRustNumeric, behavior: beh}, nil
}

func punctuationStep(raw json.RawMessage, bad func(error) error) (pieceSplitter, error) {
	var c struct {
		Behavior *string `json:"behavior"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad(err)
	}
	beh := behaviorIsolated
	if c.Behavior != nil {
		var err error
		if beh, err = parseBehavior(*c.Behavior); err != nil {
			return nil, bad(err)
		}
	}
	return runeSplit{pred: isHFPunctuation, behavior: beh}, nil
}

func charDelimiterStep(raw json.RawMessage, bad func(error) error) (pieceSplitter, error) {
	var c struct {
		Delimiter string `json:"delimiter"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, bad(err)
	}
	if utf8.RuneCountInString(c.Delimiter) != 1 {
		return nil, bad(fmt.Errorf("delimiter must be exactly one character"))
	}
	d, _ := utf8.DecodeRuneInString(c.Delimiter)
	return runeSplit{pred: func(r rune) bool { return r == d }, behavior: behaviorRemoved}, nil
}
