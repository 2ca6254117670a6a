package tokenizer

import (
	"bufio"
	"encoding/json"
	"os"
	"syscall"
	"testing"
)

// benchCorpus reads the benchmark corpus (built by make bench into testdata/bench) as texts.
func benchCorpus(b *testing.B) ([]string, int64) {
	b.Helper()
	path := os.Getenv("TOKENMILL_BENCH_CORPUS")
	if path == "" {
		path = "../testdata/bench/corpus.jsonl"
	}
	f, err := os.Open(path)
	if err != nil {
		b.Skipf("benchmark corpus missing (make bench builds it): %v", err)
	}
	defer f.Close()
	var texts []string
	var n int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var d struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			b.Fatal(err)
		}
		texts = append(texts, d.Text)
		n += int64(len(d.Text))
	}
	return texts, n
}

func BenchmarkEncodeCorpus(b *testing.B) {
	texts, n := benchCorpus(b)
	for _, name := range []string{"cl100k_base", "o200k_base"} {
		b.Run(name, func(b *testing.B) {
			tk := loadTest(b, name)
			b.SetBytes(n)
			cpu0 := cpuTime()
			b.ResetTimer()
			var toks int
			var buf []uint32
			for i := 0; i < b.N; i++ {
				for _, t := range texts {
					buf = tk.Append(buf[:0], t, Options{})
					toks += len(buf)
				}
			}
			b.ReportMetric(float64(toks)/b.Elapsed().Seconds(), "tokens/s")
			// CPU time, not wall time: on a shared machine the wall clock also counts the time
			// other processes held the core.
			b.ReportMetric(float64(n)*float64(b.N)/1e6/(cpuTime()-cpu0), "cpu-MB/s")
		})
	}
}

// cpuTime is the user+system CPU time of the process so far, in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
