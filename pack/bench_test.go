package pack

import (
	"math/rand/v2"
	"testing"
)

func BenchmarkPacker_Add(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	docs := randomDocs(r, 1000)
	tokens := 0
	for _, d := range docs {
		tokens += len(d)
	}
	p, err := NewPacker([]int{512, 1024, 2048}, func(int, []uint32) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(tokens) * 4)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, d := range docs {
			_ = p.Add(d)
		}
	}
}

func BenchmarkIsVal(b *testing.B) {
	doc := make([]byte, 2000)
	b.SetBytes(int64(len(doc)))
	for i := 0; i < b.N; i++ {
		IsVal(doc, uint64(i), 0.01)
	}
}
