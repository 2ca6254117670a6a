package tokenizer

import "testing"

// TestClassTable: the table built from the Unicode range tables classifies every BMP rune as
// classifySlow does.
func TestClassTable(t *testing.T) {
	tab := newClassTable()
	for r := rune(0); r < 0x10000; r++ {
		if got, want := tab[r], classifySlow(r); got != want {
			t.Errorf("U+%04X: class %#x, want %#x", r, got, want)
		}
	}
}

func BenchmarkClassTable(b *testing.B) {
	for b.Loop() {
		newClassTable()
	}
}
