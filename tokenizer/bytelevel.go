package tokenizer

import "unicode/utf8"

// byteLevelAlphabet returns GPT-2's bytes_to_unicode table: every byte maps to a printable rune,
// the printable Latin-1 bytes to themselves and the rest to U+0100 onwards in byte order.
// Hugging Face byte-level vocabularies spell their tokens in this alphabet.
func byteLevelAlphabet() (enc [256]rune) {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			enc[b] = rune(b)
		} else {
			enc[b] = rune(256 + n)
			n++
		}
	}
	return enc
}

// byteLevelDecoder inverts byteLevelAlphabet.
type byteLevelDecoder map[rune]byte

func newByteLevelDecoder() byteLevelDecoder {
	enc := byteLevelAlphabet()
	dec := make(byteLevelDecoder, 256)
	for b, r := range enc {
		dec[r] = byte(b)
	}
	return dec
}

// bytes converts a token spelled in the byte-level alphabet back to raw bytes; ok is false when
// s holds a rune outside that alphabet.
func (d byteLevelDecoder) bytes(s string) (out []byte, ok bool) {
	out = make([]byte, 0, len(s))
	for _, r := range s {
		b, found := d[r]
		if !found {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}

// byteLevelSpell converts raw bytes to the byte-level alphabet.
func byteLevelSpell(enc *[256]rune, b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, enc[c])
	}
	return string(out)
}
