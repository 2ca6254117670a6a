package formats

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/internal/testutil"
)

// rangeFixture has what line numbering can trip on: a BOM, blank lines, CRLF, a line longer
// than MaxRecord in the middle and at the end without a newline.
func rangeFixture() string {
	var b strings.Builder
	b.WriteString("\xEF\xBB\xBF")
	for i := 0; i < 60; i++ {
		switch i % 9 {
		case 2:
			b.WriteString("\n")
		case 4:
			b.WriteString("{\"i\":" + fmt.Sprint(i) + "}\r\n")
		case 7:
			b.WriteString(strings.Repeat("y", 300) + "\n") // over MaxRecord below
		default:
			b.WriteString("{\"i\":" + fmt.Sprint(i) + ",\"pad\":\"" + strings.Repeat("p", i) + "\"}\n")
		}
	}
	b.WriteString(strings.Repeat("z", 300)) // over-long and unterminated
	return b.String()
}

// readRange reads one range, returning its records and the reader's Lines at EOF.
func readRange(t *testing.T, path string, opt Options) ([]got, int64) {
	t.Helper()
	r, err := OpenStream(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []got
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got{rec.Line, rec.Offset, string(rec.Raw), rec.TooLong, rec.Size})
	}
	return out, r.(LineCounter).Lines()
}

// Relative ranges, shifted by the Lines of the ranges before them, give the records and
// line numbers of one pass over the file, for every cut width.
func TestLineReader_RelativeRangesSumToAbsolute(t *testing.T) {
	data := rangeFixture()
	p := testutil.WriteFile(t, "in.jsonl", []byte(data))
	opt := Options{MaxRecord: 200}
	whole, total := readRange(t, p, opt)
	if want := int64(strings.Count(data, "\n") + 1); total != want {
		t.Fatalf("whole file: Lines = %d, want %d", total, want)
	}
	n := int64(len(data))
	for _, width := range []int64{1, 2, 7, 64, 301, n} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			var all []got
			base := int64(0) // lines starting before the range
			for start := int64(0); start < n; start += width {
				o := opt
				o.Range = &Range{Start: start, End: min(start+width, n), Relative: true}
				recs, lines := readRange(t, p, o)
				for _, r := range recs {
					r.Line += base
					all = append(all, r)
				}
				base += lines
			}
			if base != total {
				t.Errorf("ranges' Lines sum to %d, the file has %d", base, total)
			}
			if fmt.Sprint(all) != fmt.Sprint(whole) {
				t.Fatalf("ranges of %d bytes:\n%v\nwhole file:\n%v", width, all, whole)
			}
		})
	}
}

// bytesRead is what a line reader took from its file, prefix scan included.
func bytesRead(t *testing.T, path string, opt Options) int64 {
	t.Helper()
	r, err := OpenStream(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	l := r.(*lineReader)
	return l.src.raw.n + l.scanned
}

// The cost of a Relative range does not grow with its offset: each range of a file reads
// about its own bytes (plus one buffer), where counting the prefix (StartLine 0) reads the
// whole file before it.
func TestLineReader_RelativeRangeCostIndependentOfOffset(t *testing.T) {
	var b strings.Builder
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, "{\"text\":\"line %d %s\"}\n", i, strings.Repeat("w", i%90))
	}
	p := testutil.WriteFile(t, "big.jsonl", []byte(b.String()))
	n := int64(b.Len())
	const width = 32 << 10
	const maxRecord = 4 << 10 // the reader's buffer is maxRecord+1 bytes
	tests := []struct {
		name     string
		relative bool
		maxLast  int64 // bound on the bytes read by the last range
	}{
		{"relative", true, width + 2*maxRecord + 2},
		{"counting", false, n}, // the old cost, for contrast: at least the prefix
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first, last int64
			for start := int64(0); start < n; start += width {
				opt := Options{MaxRecord: maxRecord, Range: &Range{Start: start, End: min(start+width, n), Relative: tt.relative}}
				got := bytesRead(t, p, opt)
				if start == 0 {
					first = got
				}
				if start+width <= n {
					last = got // the last full range
				}
				if tt.relative && got > tt.maxLast {
					t.Errorf("range at %d read %d bytes, more than %d", start, got, tt.maxLast)
				}
			}
			t.Logf("%s: first range read %d bytes, last full one %d (file %d)", tt.name, first, last, n)
			if !tt.relative && last < n-2*width {
				t.Errorf("counting: the last range read %d bytes; want at least its prefix", last)
			}
		})
	}
}
