package tokenizer

import "testing"

// BenchmarkLoad measures loading the built-in encodings: every `tokenmill run` pays it once.
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"r50k_base", "p50k_base", "cl100k_base", "o200k_base", "o200k_harmony"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Load(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodeCorpusCold encodes the corpus once with a freshly loaded tokenizer each time:
// what one pass of a pipeline sees, with empty caches.
func BenchmarkEncodeCorpusCold(b *testing.B) {
	texts, n := benchCorpus(b)
	for _, name := range []string{"cl100k_base", "o200k_base"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(n)
			var cpu float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				tk, err := Load(name)
				if err != nil {
					b.Fatal(err)
				}
				cpu0 := cpuTime()
				b.StartTimer()
				var buf []uint32
				for _, t := range texts {
					buf = tk.Append(buf[:0], t, Options{})
				}
				b.StopTimer()
				cpu += cpuTime() - cpu0
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/1e6/cpu, "cpu-MB/s")
		})
	}
}
