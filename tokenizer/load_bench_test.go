package tokenizer

import (
	"os"
	"testing"
)

// BenchmarkLoad measures loading the built-in encodings: every `tokenmill run` pays it once.
// cpu-ms/op is the process's user+system CPU time per load.
func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"r50k_base", "p50k_base", "cl100k_base", "o200k_base", "o200k_harmony"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := Load(name); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuTime()-cpu0)*1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkLoadFile measures loading tokenizer.json files (testdata's, decompressed first)
// through Load, as the CLI and the workers do: "first" with an empty load cache (the first
// load of a file on a machine: it builds the model from the JSON and writes the cache file),
// "cached" with the cache file that the first load wrote. The cache directory is a temporary
// one (XDG_CACHE_HOME). cpu-ms/op is the process's user+system CPU time per load, which
// includes the garbage collector's work on other cores.
func BenchmarkLoadFile(b *testing.B) {
	for _, name := range []string{"llama3", "gpt-oss", "mistral-v0.3"} {
		path := decompressTestJSON(b, name)
		for _, mode := range []string{"first", "cached"} {
			b.Run(name+"/"+mode, func(b *testing.B) {
				cache := b.TempDir()
				b.Setenv("XDG_CACHE_HOME", cache)
				if mode == "cached" {
					if _, err := Load(path); err != nil {
						b.Fatal(err)
					}
				}
				var cpu float64
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if mode == "first" {
						b.StopTimer()
						if err := os.RemoveAll(cache); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					cpu0 := cpuTime()
					if _, err := Load(path); err != nil {
						b.Fatal(err)
					}
					cpu += cpuTime() - cpu0
				}
				b.ReportMetric(cpu*1e3/float64(b.N), "cpu-ms/op")
			})
		}
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
