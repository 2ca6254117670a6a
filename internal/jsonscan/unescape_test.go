package jsonscan

import (
	"bytes"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkStrDecode decodes the string at b[i] without a kernel and with each one the CPU has,
// and fails unless all give the same start, end, output, esc, s.i and error; and unless they
// agree with str (span, s.i, error) and, for a string with escapes, with appendUnquoted's
// decoding.
func checkStrDecode(t *testing.T, b []byte, i int, prefix string) {
	t.Helper()
	type result struct {
		start, end, si int
		out            string
		esc            bool
		err            string
	}
	run := func(kern unescapeKernel) result {
		s := scanner{b: b, i: i}
		dst := append(make([]byte, 0, len(prefix)+len(b)%5), prefix...)
		start, end, out, esc, err := s.strDecodeWith(dst, kern)
		r := result{start: start, end: end, si: s.i, out: string(out), esc: esc}
		if err != nil {
			r.err = err.Error()
		}
		return r
	}
	scalar := run(nil)
	for _, k := range unescapeKernels() {
		if got := run(k.fn); got != scalar {
			t.Fatalf("%q at %d:\nscalar %+v\n%-6s %+v", b, i, scalar, k.name, got)
		}
	}
	s := scanner{b: b, i: i}
	start, end, esc, err := s.str()
	want := result{start: start, end: end, si: s.i, esc: esc, out: prefix}
	if err != nil {
		want.err = err.Error()
	} else if esc {
		want.out = string(appendUnquoted([]byte(prefix), b[start:end]))
	}
	if scalar != want {
		t.Fatalf("%q at %d:\nstrDecode   %+v\nstr+unquote %+v", b, i, scalar, want)
	}
}

// strDecodeCases are strings with a feature at each offset around the 64-byte blocks
// unescapeBlocks reads from the first escape on: the string is `"\n`, filler, the feature,
// then a tail (more text and the closing quote, or the end of the slice).
func strDecodeCases() [][]byte {
	features := []string{
		`"`, `\"`, `\\`, `\\\`, `\\\\"`, `\/`, `\b\f\n\r\t`, `\u00e9`, `\ud83d\ude00`, `\ud83dx`,
		`\ude00\ud83d`, `\ud83d\u0041`, `\u12G4`, `\u12`, `\x`, `\a`, `\0`, "\\ ", "\\\xc3\xa9",
		"\\\xee", "\x00", "\t", "\x1f", "\x7f", "é中😀", "\xff\x80", `\`,
	}
	for n := 1; n <= 9; n++ {
		for _, next := range []string{"n", `"`, "u0041", "x", "\n"} {
			features = append(features, strings.Repeat(`\`, n)+next)
		}
	}
	tails := []string{"", `"`, `"` + `,"id":1}`, `tail \n text "`, `tail text`, strings.Repeat(`a\n`, 40) + `"`}
	var cases [][]byte
	for _, f := range features {
		for off := range 140 {
			for _, tail := range tails {
				cases = append(cases, []byte(`"\n`+strings.Repeat("a", off)+f+tail))
			}
		}
	}
	return cases
}

func TestStrDecode_BlockEdges(t *testing.T) {
	if len(unescapeKernels()) == 0 {
		t.Log("no unescape kernel runs here: the scalar loop is checked against str alone")
	}
	for _, b := range strDecodeCases() {
		checkStrDecode(t, b, 0, "prev")
	}
}

// randomString is a JSON string's opening quote and random contents, dense in escapes and in
// everything that stops unescapeBlocks, usually closed and followed by more of a record.
func randomString(r *rand.Rand) []byte {
	pieces := []string{
		`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\n\t\t`, `\u00e9`, `\u4E2D`, `\ud83d\ude00`,
		`\uD83D`, `\udc00`, `\ud83d\u0041`, `\ud83d\n`, `\u12G4`, `\x`, `\'`, "\\\xe4", `\U0041`,
		"\\\xee", "\\\xdc", "\\\xa2", "é", "中", "😀", "\xff", "\x80", "\x00", "\t", "\x1f", `"`, "u", "n", "/", " ",
	}
	b := []byte(`"`)
	b = append(b, strings.Repeat("p", r.IntN(140))...)
	for range r.IntN(60) {
		switch k := r.IntN(10); {
		case k < 4:
			for range r.IntN(24) {
				b = append(b, byte('a'+r.IntN(26)))
			}
		case k < 5:
			b = append(b, strings.Repeat(`\`, 1+r.IntN(9))...)
			b = append(b, "n\"\\u/x"[r.IntN(6)])
		default:
			p := pieces[r.IntN(len(pieces))]
			// The stoppers are rarer, so that most strings run a while.
			if len(p) == 1 && (p[0] < 0x20 || p[0] == '"') && r.IntN(8) != 0 {
				p = "q"
			}
			b = append(b, p...)
		}
	}
	if r.IntN(4) != 0 {
		b = append(b, `","id":1}`...)
	}
	return b
}

func TestStrDecode_Random(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for range n {
		b := randomString(r)
		checkStrDecode(t, b, 0, "")
		// The same string cut short at every length near its end and at a few others.
		for cut := max(1, len(b)-70); cut < len(b); cut++ {
			checkStrDecode(t, b[:cut], 0, "x")
		}
		for range 4 {
			checkStrDecode(t, b[:1+r.IntN(len(b))], 0, "x")
		}
	}
}

// FuzzStrDecode decodes `"` + data with and without the kernels; see checkStrDecode.
func FuzzStrDecode(f *testing.F) {
	for i, b := range strDecodeCases() {
		if i%60 == 0 {
			f.Add(b[1:])
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		f.Add(randomString(r)[1:])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b := append([]byte(`"`), data...)
		checkStrDecode(t, b, 0, "prev")
	})
}

// unescapeBlocksModel is unescapeBlocks one byte at a time: it shows what the kernel must
// consume and write, independently of its mask arithmetic.
func unescapeBlocksModel(src []byte) (nsrc int, out []byte) {
	for len(src)-nsrc >= 64 {
		j, blockEnd := nsrc, nsrc+64
		for j < blockEnd {
			switch c := src[j]; {
			case c == '"' || c < 0x20:
				return j, out
			case c != '\\':
				out = append(out, c)
				j++
			case j+1 == blockEnd:
				// An escape across the blocks' edge: the next block starts at its backslash.
				blockEnd = j
			default:
				v := unescapeByte[src[j+1]]
				if v == 0 {
					return j, out
				}
				out = append(out, v)
				j += 2
			}
		}
		nsrc = j
	}
	return nsrc, out
}

// checkKernel runs kernel k on src into dst and fails unless it consumes, writes and
// decodes what unescapeBlocksModel does.
func checkKernel(t *testing.T, k namedKernel, dst, src []byte) {
	t.Helper()
	nsrc, ndst := k.fn(dst, src)
	wsrc, wout := unescapeBlocksModel(src)
	if nsrc != wsrc || ndst != len(wout) || !bytes.Equal(dst[:ndst], wout) {
		t.Fatalf("%s, %q:\nasm   %d %d %q\nmodel %d %d %q", k.name, src, nsrc, ndst, dst[:ndst], wsrc, len(wout), wout)
	}
}

func TestUnescapeBlocks_Model(t *testing.T) {
	kernels := unescapeKernels()
	if len(kernels) == 0 {
		t.Skip("no unescape kernel runs on this CPU")
	}
	for _, k := range kernels {
		t.Run(k.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(5, 6))
			alphabet := []byte("\\\\\\\\\"nntu/bfrx a\x00\x1f\xe9\x80\xee\xdc\xa2\xff\xb0\xdcé")
			for range 50000 {
				src := make([]byte, r.IntN(300))
				dense := 1 + r.IntN(20) // one byte in dense is from the alphabet
				for j := range src {
					if r.IntN(dense) == 0 {
						src[j] = alphabet[r.IntN(len(alphabet))]
					} else {
						src[j] = byte(' ' + r.IntN(95))
						if src[j] == '"' || src[j] == '\\' {
							src[j] = 'z'
						}
					}
				}
				// Fill dst with junk: the kernel's output must not depend on it.
				checkKernel(t, k, bytes.Repeat([]byte{0xAA}, len(src)+r.IntN(3)), src)
			}
			// Every byte after a backslash, at every offset of a block.
			for c := range 256 {
				for off := range 64 {
					src := bytes.Repeat([]byte("x"), 130)
					src[off], src[off+1] = '\\', byte(c)
					checkKernel(t, k, make([]byte, len(src)), src)
				}
			}
			// A dst shorter than src would take stores past its end: the kernel refuses it.
			src := bytes.Repeat([]byte("a\\n"), 40)
			if nsrc, ndst := k.fn(make([]byte, len(src)-1), src); nsrc != 0 || ndst != 0 {
				t.Fatalf("short dst: %d, %d; want 0, 0", nsrc, ndst)
			}
		})
	}
}

// escapersRef is the mask arithmetic of unescapeBlocks for the escaping backslashes among
// the backslashes bs of a block that starts outside an escape.
func escapersRef(bs uint64) uint64 {
	const even = 0x5555555555555555
	evenRun := bs &^ (bs + bs&^(bs<<1)&even)
	return bs &^ (evenRun ^ even)
}

func TestEscapersRef(t *testing.T) {
	scan := func(bs uint64) (d uint64) {
		for p := 0; p < 64; p++ {
			if bs>>p&1 == 1 {
				d |= 1 << p
				p++ // the escaped character, a backslash or not
			}
		}
		return d
	}
	check := func(bs uint64) {
		if got, want := escapersRef(bs), scan(bs); got != want {
			t.Fatalf("backslashes %064b:\nformula %064b\nscan    %064b", bits.Reverse64(bs), bits.Reverse64(got), bits.Reverse64(want))
		}
	}
	for bs := range uint64(1 << 16) {
		check(bs)
		check(bs << 48)
		check(bs<<24 | 1<<63 | 1)
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 100000 {
		check(r.Uint64() & r.Uint64())
		check(r.Uint64() | r.Uint64())
	}
}

// BenchmarkStrDecode compares the scalar loop and unescapeBlocks on one long string: source
// code (an escape every dozen bytes), code with a \u escape per line, text of \u escapes only
// (escaped non-Latin script) and a one-letter escape next to each \u (the worst case: each
// call of the kernel stops within a few bytes).
func BenchmarkStrDecode(b *testing.B) {
	for _, tc := range []struct{ name, line string }{
		{"code", `\tif x := f(\"a\\b\"); x {\n\t\treturn\n\t}\n`},
		{"code_u", `\tif x := f(\"a\\b\"); x {\n\t\treturn \"\u00e9\"\n\t}\n`},
		{"cjk", `\u4e2d\u6587\u4e2d\u6587\u4e2d\u6587\uff0c\u4e2d\u6587\u3002\n`},
		{"alternating", `x\n\u00e9`},
	} {
		str := []byte(`"` + strings.Repeat(tc.line, 64<<10/len(tc.line)) + `"`)
		kernels := append([]namedKernel{{"scalar", nil}}, unescapeKernels()...)
		for _, k := range kernels {
			b.Run(tc.name+"/"+k.name, func(b *testing.B) {
				b.SetBytes(int64(len(str)))
				var dst []byte
				for b.Loop() {
					s := scanner{b: str}
					_, _, dst, _, _ = s.strDecodeWith(dst[:0], k.fn)
				}
			})
		}
	}
}
