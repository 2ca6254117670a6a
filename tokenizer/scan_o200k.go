package tokenizer

// o200kScanner: the o200k_base / GPT-OSS pattern
//
//	[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
//	|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// The two word alternatives are tried in order, each first with its optional prefix character
// and then without it, as a backtracking engine does.
type o200kScanner struct{ t *classTable }

func (o o200kScanner) appendMatches(dst []span, s string) []span { return tile(o, dst, s) }

func (o o200kScanner) next(s string, i int) int {
	t := o.t
	b := s[i]
	// ASCII fast path: [prefix] [A-Z]* [a-z]* with ASCII (or the end) after it. ASCII capitals
	// are only in the "upper" group and ASCII small letters only in "lower", so no backtracking
	// into the runs can change the outcome: a lowercase run makes the first alternative match,
	// an uppercase run alone the second.
	if b < 0x80 {
		p := i
		if t[b]&(clLetter|clNumber|clNewline) == 0 {
			p++ // b can only be the optional prefix character
		}
		k := p
		for k < len(s) && s[k]-'A' < 26 {
			k++
		}
		e := k
		for e < len(s) && s[e]-'a' < 26 {
			e++
		}
		if e == len(s) || s[e] < 0x80 {
			if e > p {
				return e + contraction(s, e, true)
			}
			// No letter follows and b is not one: the word alternatives fail.
			return o.nonWordASCII(s, i)
		}
	}
	c0, w0 := t.classAt(s, i)
	prefix := c0&(clNewline|clLetter|clNumber) == 0
	if prefix && i+w0 < len(s) {
		if j := o.upperLower(s, i+w0); j > 0 {
			return j + contraction(s, j, true)
		}
	}
	if j := o.upperLower(s, i); j > 0 {
		return j + contraction(s, j, true)
	}
	if prefix && i+w0 < len(s) {
		if j := o.upperThenLower(s, i+w0); j > 0 {
			return j + contraction(s, j, true)
		}
	}
	if j := o.upperThenLower(s, i); j > 0 {
		return j + contraction(s, j, true)
	}
	return nonWord(t, s, i, c0, w0, true)
}

// upperLower matches U*W+ at p (U = upper group, W = lower group) and returns its end, or -1.
// U* is greedy; when no W follows the U run, the engine backtracks into the run, and the match
// ends after the last character of the run that is also in W (Lm, Lo and M are in both).
func (o o200kScanner) upperLower(s string, p int) int {
	t := o.t
	j, lastW := p, -1
	for j < len(s) {
		// classAt, with its ASCII case and those of two- and three-byte characters (Cyrillic,
		// Greek, accented Latin; Chinese, Japanese: a sentence is one run of letters) written
		// out: it is not inlined.
		c, w := t[s[j]&0x7F], 1
		if s[j] >= 0x80 {
			if r, ok := decode3(s, j); ok {
				c, w = t[r], 3
			} else if r, ok := decode2(s, j); ok {
				c, w = t[r], 2
			} else {
				c, w = t.classAtSlow(s, j)
			}
		}
		if c&clUpper == 0 {
			break
		}
		j += w
		if c&clLower != 0 {
			lastW = j
		}
	}
	if j < len(s) {
		c, w := t[s[j]&0x7F], 1
		if s[j] >= 0x80 {
			c, w = t.classAtSlow(s, j)
		}
		if c&clLower != 0 {
			return run(t, s, j+w, clLower)
		}
	}
	return lastW
}

// upperThenLower matches U+W* at p and returns its end, or -1.
func (o o200kScanner) upperThenLower(s string, p int) int {
	j := run(o.t, s, p, clUpper)
	if j == p {
		return -1
	}
	return run(o.t, s, j, clLower)
}

// nonWordASCII finishes next for an ASCII character b = s[i] that starts no word: digits,
// punctuation (with an optional leading space) and whitespace.
func (o o200kScanner) nonWordASCII(s string, i int) int {
	return nonWord(o.t, s, i, o.t[s[i]], 1, true)
}
