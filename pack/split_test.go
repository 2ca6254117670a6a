package pack

import (
	"fmt"
	"math"
	"testing"
)

func TestIsVal_Edges(t *testing.T) {
	tests := []struct {
		frac float64
		want bool
	}{
		{0, false}, {-1, false}, {math.NaN(), false}, {1, true}, {2, true},
	}
	for _, tt := range tests {
		for _, doc := range []string{"", "a", "hello world"} {
			if got := IsVal([]byte(doc), 7, tt.frac); got != tt.want {
				t.Errorf("IsVal(%q, 7, %v) = %v", doc, tt.frac, got)
			}
		}
	}
}

func TestIsVal_Stable(t *testing.T) {
	// Pinned values, computed independently (Python: xxhash.xxh64_intdigest(doc, seed) >> 11,
	// divided by 2^53, compared with the fraction). A change here changes every job's split and
	// must be deliberate.
	tests := []struct {
		doc  string
		seed uint64
		frac float64
		want bool
	}{
		{"The quick brown fox", 0, 0.78, false}, // u = 0.78791...
		{"The quick brown fox", 0, 0.79, true},
		{"The quick brown fox", 1, 0.91, false}, // u = 0.91820...
		{"The quick brown fox", 1, 0.92, true},
		{"", 0, 0.93, false}, // u = 0.93467...
		{"", 0, 0.94, true},
		{"hello", 42, 0.76, false}, // u = 0.76322...
		{"hello", 42, 0.77, true},
	}
	for _, tt := range tests {
		if got := IsVal([]byte(tt.doc), tt.seed, tt.frac); got != tt.want {
			t.Errorf("IsVal(%q, %d, %v) = %v, want %v", tt.doc, tt.seed, tt.frac, got, tt.want)
		}
	}
}

func TestIsVal_Fraction(t *testing.T) {
	for _, frac := range []float64{0.01, 0.1, 0.5} {
		for _, seed := range []uint64{0, 99} {
			n, val := 20000, 0
			for i := 0; i < n; i++ {
				if IsVal([]byte(fmt.Sprintf("document %d", i)), seed, frac) {
					val++
				}
			}
			got := float64(val) / float64(n)
			// 5 standard deviations of a binomial proportion.
			if tol := 5 * math.Sqrt(frac*(1-frac)/float64(n)); math.Abs(got-frac) > tol {
				t.Errorf("seed %d: fraction %v, want %v ± %v", seed, got, frac, tol)
			}
		}
	}
}

func TestIsVal_MonotoneInFraction(t *testing.T) {
	// A document in the validation split at fraction f stays there at any larger fraction.
	for i := 0; i < 2000; i++ {
		doc := []byte(fmt.Sprintf("doc-%d", i))
		if IsVal(doc, 3, 0.05) && !IsVal(doc, 3, 0.2) {
			t.Fatalf("%s: val at 0.05, train at 0.2", doc)
		}
	}
}
