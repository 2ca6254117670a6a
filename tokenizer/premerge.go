package tokenizer

import "unicode/utf8"

// charTable lets the merge loop of tiktoken's rule (mergeSpans) start a character of two or
// three bytes as one part, its token, instead of as bytes that merge into it first. That gives
// the same ids wherever no merge that takes a byte of the character into another part can come
// before the merges that make the character: the merge loop joins the lowest rank first, and
// the merges inside the character are ranked below every merge that would take one of its
// partial parts (its first byte, or first two, on the left; its last byte, or last two, on the
// right) into a neighbour. Such a merge makes a token that ends with the byte before the
// character and its partial part on the left, or begins with the partial part and the byte after
// it on the right, so whether the character is safe depends on those two bytes only, which the
// table keeps per character: for each continuation byte before it and each lead byte after it
// (the bytes inside words of the same script), and per class of the other bytes.
type charTable struct {
	// index holds, per block of 64 code points below U+10000, the block's place in chars
	// (0: the block of no character, all zero); a block is 1.5 KB and few hold tokens.
	index [0x10000 >> 6]uint16
	chars []charEntry
}

// charEntry is one character's: id+1 of its token (0: it always starts as bytes), the classes
// of bytes it is safe after and before (charAfter..., charBefore...), and per byte the
// continuation bytes it is safe after (bit b-0x80 of left) and the lead bytes it is safe before
// (bit b-0xC0 of right).
type charEntry struct {
	id    uint32
	flags uint32
	left  uint64
	right uint64
}

const (
	charAfterSpace  = 1 << iota // after ' '
	charAfterASCII              // after another ASCII byte
	charAfterLead               // after a byte 0xC0-0xFF
	charBeforeASCII             // before an ASCII byte
	charBeforeCont              // before a byte 0x80-0xBF
)

// newCharTable builds the table of a model with tiktoken's rule or ordered merges, whose rank
// of a merge orders as the id of the token it makes (rankOf), from its tokens.
func newCharTable(m *bpe) *charTable {
	const none = noRank
	// end2 and start2: the lowest id of a token of at least two bytes that ends with the two
	// bytes x, y (at y<<8|x), or begins with them (at x<<8|y).
	end2, start2 := new([65536]uint32), new([65536]uint32)
	for i := range end2 {
		end2[i], start2[i] = none, none
	}
	// end3 and start3: the same for three bytes whose two inner ones are a partial three-byte
	// character (a lead byte and a continuation byte at the end, two continuation bytes at the
	// start): keyed by those two bytes, the outer byte and the id, few in a vocabulary.
	type outer struct {
		b  byte
		id uint32
	}
	end3, start3 := map[uint16][]outer{}, map[uint16][]outer{}
	type char struct {
		id uint32
		r  rune
	}
	var chars []char // the tokens that are one character of two or three bytes
	for id := range uint32(m.tokens.len()) {
		s := m.tokens.at(id)
		n := len(s)
		if n < 2 {
			continue
		}
		k := uint16(s[n-1])<<8 | uint16(s[n-2])
		end2[k] = min(end2[k], id)
		k = uint16(s[0])<<8 | uint16(s[1])
		start2[k] = min(start2[k], id)
		if n >= 3 {
			if s[n-2]&0xF0 == 0xE0 && s[n-1]&0xC0 == 0x80 {
				k := uint16(s[n-2])<<8 | uint16(s[n-1])
				end3[k] = append(end3[k], outer{s[n-3], id})
			}
			if s[0]&0xC0 == 0x80 && s[1]&0xC0 == 0x80 {
				k := uint16(s[0])<<8 | uint16(s[1])
				start3[k] = append(start3[k], outer{s[2], id})
			}
		}
		if n <= 3 {
			if r, w := utf8.DecodeRuneInString(s); w == n && r != utf8.RuneError {
				chars = append(chars, char{id, r})
			}
		}
	}
	// The lowest id per class of the byte before (space, other ASCII, lead) a first byte f,
	// and after (ASCII, continuation) a last byte l.
	var afterSpace, afterASCII, afterLead, beforeASCII, beforeCont [256]uint32
	for f := range 256 {
		afterSpace[f], afterASCII[f], afterLead[f], beforeASCII[f], beforeCont[f] = none, none, none, none, none
		for b := range 256 {
			e, st := end2[f<<8|b], start2[f<<8|b]
			switch {
			case b == ' ':
				afterSpace[f] = e
				beforeASCII[f] = min(beforeASCII[f], st)
			case b < 0x80:
				afterASCII[f] = min(afterASCII[f], e)
				beforeASCII[f] = min(beforeASCII[f], st)
			case b < 0xC0:
				beforeCont[f] = min(beforeCont[f], st)
			default:
				afterLead[f] = min(afterLead[f], e)
			}
		}
	}
	rank := func(s string) uint32 {
		if r := m.rankOf(s); r != noMerge {
			return uint32(r)
		}
		return none
	}
	ct := new(charTable)
	blocks := 1 // block 0: no characters
	for _, ch := range chars {
		if ct.index[ch.r>>6] == 0 {
			ct.index[ch.r>>6] = uint16(blocks)
			blocks++
		}
	}
	ct.chars = make([]charEntry, blocks<<6)
	for _, ch := range chars {
		id, c := ch.id, m.tokens.at(ch.id)
		if rank(c) != id { // a duplicate spelling: the lookup gives the other id
			continue
		}
		// The merges inside the character, the highest rank among them, and its partial
		// parts on each side.
		mx := id
		leftPair, rightPair := false, false
		if len(c) == 3 {
			r12, r23 := rank(c[:2]), rank(c[1:])
			switch {
			case r12 == none && r23 == none:
				continue // the character is never made from its bytes
			case r12 < r23:
				mx, leftPair = max(mx, r12), true
			default:
				mx, rightPair = max(mx, r23), true
			}
		}
		e := charEntry{id: id + 1}
		first, last := int(c[0]), int(c[len(c)-1])
		for k := range 64 {
			e.left |= bitIf(end2[first<<8|0x80+k] > mx, uint(k))
			e.right |= bitIf(start2[last<<8|0xC0+k] > mx, uint(k))
		}
		for _, f := range []struct {
			min  uint32
			flag uint32
		}{
			{afterSpace[first], charAfterSpace}, {afterASCII[first], charAfterASCII},
			{afterLead[first], charAfterLead}, {beforeASCII[last], charBeforeASCII},
			{beforeCont[last], charBeforeCont},
		} {
			if f.min > mx {
				e.flags |= f.flag
			}
		}
		if leftPair {
			for _, o := range end3[uint16(c[0])<<8|uint16(c[1])] {
				if o.id <= mx {
					e.left &^= bitIf(o.b >= 0x80 && o.b < 0xC0, uint(o.b-0x80))
					e.flags &^= charClassAfter(o.b)
				}
			}
		}
		if rightPair {
			for _, o := range start3[uint16(c[1])<<8|uint16(c[2])] {
				if o.id <= mx {
					e.right &^= bitIf(o.b >= 0xC0, uint(o.b-0xC0))
					e.flags &^= charClassBefore(o.b)
				}
			}
		}
		ct.chars[int(ct.index[ch.r>>6])<<6|int(ch.r&63)] = e
	}
	return ct
}

// bitIf returns 1<<k if cond, else 0.
func bitIf(cond bool, k uint) uint64 {
	if cond {
		return 1 << (k & 63)
	}
	return 0
}

// charClassAfter is the flag of the class of b as the byte before a character (none for a
// continuation byte: those have a bit each).
func charClassAfter(b byte) uint32 {
	switch {
	case b == ' ':
		return charAfterSpace
	case b < 0x80:
		return charAfterASCII
	case b >= 0xC0:
		return charAfterLead
	}
	return 0
}

// charClassBefore is the flag of the class of b as the byte after a character (none for a lead
// byte: those have a bit each).
func charClassBefore(b byte) uint32 {
	switch {
	case b < 0x80:
		return charBeforeASCII
	case b < 0xC0:
		return charBeforeCont
	}
	return 0
}

// part returns the token and width of the character at piece[i] when it may start as one part
// in piece, else 0, 0.
func (ct *charTable) part(piece string, i int) (uint32, int) {
	r, ok := decode2(piece, i)
	w := 2
	if !ok {
		if r, ok = decode3(piece, i); !ok {
			return 0, 0
		}
		w = 3
	}
	e := &ct.chars[int(ct.index[r>>6])<<6|int(r&63)]
	if e.id == 0 {
		return 0, 0
	}
	if i > 0 {
		switch b := piece[i-1]; {
		case b&0xC0 == 0x80:
			if e.left>>(b-0x80)&1 == 0 {
				return 0, 0
			}
		case e.flags&charClassAfter(b) == 0:
			return 0, 0
		}
	}
	if j := i + w; j < len(piece) {
		switch b := piece[j]; {
		case b >= 0xC0:
			if e.right>>(b-0xC0)&1 == 0 {
				return 0, 0
			}
		case e.flags&charClassBefore(b) == 0:
			return 0, 0
		}
	}
	return e.id - 1, w
}
