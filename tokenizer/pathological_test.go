package tokenizer

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The pathological tests check that encoding time grows linearly with the input on the inputs
// that break naive BPE (one huge piece: a long word, a run of one character, a line of emoji or
// CJK with no space) and naive pre-tokenizers (long runs of spaces, newlines, digits).
//
// They measure work, not wall-clock deadlines: the time per byte of a big input (10 MB for the
// random letters, 4 MB for one repeated letter, 0.5-1 MB for the others) is compared with the
// time per byte of slices of it 1/100 its size (at least 10 kB), measured in the same test a
// moment before (best of several), so a loaded machine slows both. A quadratic step would make the
// big input 50-100 times slower per byte; the bound is 10. Allocation per input byte, which does
// not depend on load at all, is compared the same way.

// pathoKind is one kind of input; gen returns about n bytes of it, the same for the same n.
type pathoKind struct {
	name string
	gen  func(n int) string
	big  int // size of the big input in the default run
}

// randomFrom returns n bytes of characters drawn from alphabet.
func randomFrom(alphabet []rune, seed uint64) func(int) string {
	return func(n int) string {
		r := rand.New(rand.NewPCG(seed, uint64(len(alphabet))))
		var sb strings.Builder
		sb.Grow(n + 4)
		for sb.Len() < n {
			sb.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return sb.String()
	}
}

func runeRange(lo, hi rune) []rune {
	var out []rune
	for c := lo; c <= hi; c++ {
		out = append(out, c)
	}
	return out
}

func repeatRune(c rune) func(int) string {
	return func(n int) string { return strings.Repeat(string(c), max(1, n/utf8.RuneLen(c))) }
}

const mb = 1 << 20

var pathoKinds = []pathoKind{
	{"no-spaces-random-letters", randomFrom(runeRange('a', 'z'), 1), 10 * mb},
	{"no-spaces-one-letter", repeatRune('a'), 4 * mb},
	{"one-char-bang", repeatRune('!'), mb},
	{"one-char-euro", repeatRune('€'), mb},
	{"one-char-ideograph", repeatRune('日'), mb},
	{"digits", randomFrom(runeRange('0', '9'), 2), mb / 2},
	{"spaces", repeatRune(' '), mb / 2},
	{"newlines", repeatRune('\n'), mb / 2},
	{"spaces-newlines", randomFrom([]rune(" \n\t\r\u3000\u00a0"), 3), mb / 2},
	{"emoji", randomFrom(runeRange(0x1F600, 0x1F64F), 4), mb / 2},
	{"cjk", randomFrom(runeRange(0x4E00, 0x9FFF), 5), mb / 2},
	{"mixed-case-letters", randomFrom([]rune("aAbBcCdDeEǅʰ\u0301"), 6), mb / 2},
}

// encodeCost encodes s once and returns the time it took and the bytes it allocated.
func encodeCost(tb testing.TB, tk *Tokenizer, s string, buf []uint32) (time.Duration, uint64, []uint32) {
	tb.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	buf = tk.Append(buf[:0], s, Options{})
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc, buf
}

// smallCost is the best time per byte over several encodings of small inputs (at least 5, and
// 30 ms of work), and the allocation per byte of the last one. The small inputs are successive
// slices of big, each encoded once, so that the per-call piece cache does not make the baseline
// look cheaper than fresh text (the first encoding also pays for the scratch state, allocated
// once and reused).
func smallCost(tb testing.TB, tk *Tokenizer, big string, size int) (nsPerByte, allocPerByte float64) {
	var buf []uint32
	best := 1e18
	var total time.Duration
	for i, off := 0, 0; i < 5 || total < 30*time.Millisecond && i < 1000; i++ {
		if off+size > len(big) {
			off = 0
		}
		end := off + size
		for end < len(big) && !utf8.RuneStart(big[end]) {
			end++
		}
		s := big[off:end]
		off = end
		d, alloc, b := encodeCost(tb, tk, s, buf)
		buf = b
		allocPerByte = float64(alloc) / float64(len(s))
		best = min(best, float64(d.Nanoseconds())/float64(len(s)))
		total += d
	}
	return best, allocPerByte
}

// checkScaling encodes small slices of big (best of several) and big, and fails when big costs
// more than maxSlowdown times as much time per byte, or much more allocation per byte, than the
// small ones. It also checks the ids of big: inside the vocabulary, and decoding to big.
func checkScaling(t *testing.T, tk *Tokenizer, big string, small int) {
	t.Helper()
	const maxSlowdown = 10.0
	smallNs, smallAlloc := smallCost(t, tk, big, small)
	d, alloc, ids := encodeCost(t, tk, big, nil)
	bigNs := float64(d.Nanoseconds()) / float64(len(big))
	if bigNs > maxSlowdown*smallNs {
		// One retry, with a fresh baseline: a burst of load from elsewhere must not fail the
		// test, while a quadratic step fails it every time.
		smallNs2, _ := smallCost(t, tk, big, small)
		d2, _, _ := encodeCost(t, tk, big, ids)
		smallNs = max(smallNs, smallNs2)
		bigNs = min(bigNs, float64(d2.Nanoseconds())/float64(len(big)))
	}
	bigAlloc := float64(alloc) / float64(len(big))
	t.Logf("%d B: %.1f ns/B, %.1f alloc B/B; %d B: %.1f ns/B, %.1f alloc B/B; %d tokens",
		small, smallNs, smallAlloc, len(big), bigNs, bigAlloc, len(ids))
	if bigNs > maxSlowdown*smallNs {
		t.Errorf("%d bytes take %.1f ns/byte, %d bytes %.1f ns/byte: %.0fx slower per byte (bound %.0fx)",
			len(big), bigNs, small, smallNs, bigNs/smallNs, maxSlowdown)
	}
	// Allocation: the ids (at most one per byte, grown by doubling) and linear scratch space
	// (the rank-bucket merge of huge pieces: links, bucket lists grown by doubling, one slot per
	// rank of the vocabulary); 96 bytes per byte leaves room for them while catching a
	// quadratic buffer (which costs hundreds of kilobytes per byte here). The small inputs reuse
	// their scratch space and allocate nothing, so the bound cannot be relative to them alone.
	if bigAlloc > max(4*smallAlloc, 96) {
		t.Errorf("%d bytes allocate %.1f B/byte (%d bytes: %.1f B/byte)", len(big), bigAlloc,
			small, smallAlloc)
	}
	if len(ids) == 0 || len(ids) > len(big) {
		t.Errorf("%d ids for %d bytes", len(ids), len(big))
	}
	for _, id := range ids {
		if int(id) >= tk.VocabSize() {
			t.Fatalf("id %d >= vocab size %d", id, tk.VocabSize())
		}
	}
	if got, err := tk.Decode(ids); err != nil || string(got) != big {
		t.Errorf("round trip of the big input fails (err %v)", err)
	}
}

// TestEncode_PathologicalInputsScaleLinearly runs the encodings one after the other: side by
// side, the 10 MB single-piece inputs (seconds each, bound by memory) slow each other down more
// than they gain.
func TestEncode_PathologicalInputsScaleLinearly(t *testing.T) {
	for _, name := range []string{"cl100k_base", "o200k_base"} {
		tk := loadTest(t, name)
		for _, k := range pathoKinds {
			t.Run(name+"/"+k.name, func(t *testing.T) {
				bigN := k.big
				if testing.Short() {
					bigN = min(bigN, 1*mb)
				}
				checkScaling(t, tk, k.gen(bigN), max(bigN/100, 10_000))
			})
		}
	}
}

// TestEncode_PathologicalGPT2 runs the r50k (GPT-2) scanner over the same kinds at 256 kB: its
// pattern has \s+(?!\S) without the newline rule and ?\p{N}+ without a length limit.
func TestEncode_PathologicalGPT2(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the pathological inputs take seconds (make test runs it)")
	}
	tk := loadTest(t, "r50k_base")
	for _, k := range pathoKinds {
		t.Run(k.name, func(t *testing.T) {
			checkScaling(t, tk, k.gen(mb/4), 5_000)
		})
	}
}
