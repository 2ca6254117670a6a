package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"github.com/tokenmill/tokenmill/tokenizer"
)

// benchCorpora are the benchmark corpora (make bench builds them), by name.
var benchCorpora = []benchCorpus{
	{"go", "TOKENMILL_BENCH_CORPUS", "../../testdata/bench/corpus.jsonl"},
	{"multilingual", "TOKENMILL_BENCH_ML_CORPUS", "../../testdata/bench/multilingual.jsonl"},
}

type benchCorpus struct{ name, env, path string }

// file is the corpus's path: $env, or where make bench builds it.
func (c benchCorpus) file() string {
	if p := os.Getenv(c.env); p != "" {
		return p
	}
	return c.path
}

// BenchmarkTokenizeStream measures the tokenize command's whole path (JSONL chunking, field
// extraction, encoding, output formatting) on the benchmark corpora, one encoding goroutine,
// against the tokenizer alone on the same texts ("core": Append over each document's text,
// extracted beforehand). Both are cold: a freshly loaded tokenizer per pass, as one run of the
// command sees it. The figures are MB of text (the documents' UTF-8 bytes, not the JSONL's)
// per second of the process's CPU time (user+system, all goroutines: the reader, the encoder
// and the writer), the measure that other processes on a shared machine disturb least;
// %-of-core is the median over the iterations of the stream's figure against the core's in that
// iteration (the two passes of an iteration run next to each other, so a slow phase of a shared
// machine falls on both; a sum over the iterations would weigh the slowest phase most). MB/s
// (wall) counts both passes.
func BenchmarkTokenizeStream(b *testing.B) {
	for _, c := range benchCorpora {
		path := c.file()
		data, err := os.ReadFile(path)
		if err != nil {
			b.Run(c.name, func(b *testing.B) { b.Skipf("benchmark corpus missing (make bench builds it): %v", err) })
			continue
		}
		texts, n := corpusTexts(b, data)
		for _, enc := range []string{"cl100k_base", "o200k_base"} {
			b.Run(c.name+"/"+enc, func(b *testing.B) {
				b.SetBytes(n)
				// Each iteration makes one pass of each, alternately, so that the machine's
				// drift in speed (it is shared) falls on both alike.
				var core, stream float64
				ratios := make([]float64, 0, b.N)
				for i := 0; i < b.N; i++ {
					c := cpuPass(b, enc, func(tk *tokenizer.Tokenizer) {
						var ids []uint32
						for _, t := range texts {
							ids = tk.AppendBytes(ids[:0], t, tokenizer.Options{})
						}
					})
					s := cpuPass(b, enc, func(tk *tokenizer.Tokenizer) {
						err := tokenizeStream(&sliceReader{data: data}, io.Discard, tk,
							tokenizeOptions{field: "text", workers: 1, source: path})
						if err != nil {
							b.Fatal(err)
						}
					})
					core, stream = core+c, stream+s
					ratios = append(ratios, c/s)
				}
				slices.Sort(ratios)
				mb := float64(n) * float64(b.N) / 1e6
				b.ReportMetric(mb/core, "core-cpu-MB/s")
				b.ReportMetric(mb/stream, "stream-cpu-MB/s")
				b.ReportMetric(100*ratios[len(ratios)/2], "%-of-core")
			})
		}
	}
}

// cpuPass runs pass once with a freshly loaded tokenizer (loading not counted) and returns
// its CPU seconds.
func cpuPass(b *testing.B, enc string, pass func(*tokenizer.Tokenizer)) float64 {
	b.StopTimer()
	tk, err := tokenizer.Load(enc)
	if err != nil {
		b.Fatal(err)
	}
	// The garbage of the pass before (its tokenizer's tables and caches) is collected here,
	// not during this pass, whichever of the two passes it came from.
	runtime.GC()
	b.StartTimer()
	c0 := cpuSeconds()
	pass(tk)
	return cpuSeconds() - c0
}

// corpusTexts extracts the text of every JSONL line, and their total size in bytes.
func corpusTexts(b *testing.B, data []byte) ([][]byte, int64) {
	var texts [][]byte
	var n int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var d struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			b.Fatal(err)
		}
		texts = append(texts, []byte(d.Text))
		n += int64(len(d.Text))
	}
	return texts, n
}

// cpuSeconds is the user+system CPU time of the process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

type sliceReader struct{ data []byte }

func (r *sliceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// BenchmarkAppendIDs measures the formatting of ids alone: cl100k_base's ids of the first 8 MB
// of the Go corpus, formatted into one reused buffer (ns/id).
func BenchmarkAppendIDs(b *testing.B) {
	data, err := os.ReadFile(benchCorpora[0].file())
	if err != nil {
		b.Skipf("benchmark corpus missing (make bench builds it): %v", err)
	}
	if len(data) > 8<<20 {
		data = data[:bytes.LastIndexByte(data[:8<<20], '\n')+1]
	}
	texts, _ := corpusTexts(b, data)
	tk, err := tokenizer.Load("cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	var ids []uint32
	for _, t := range texts {
		ids = tk.AppendBytes(ids, t, tokenizer.Options{})
	}
	out := make([]byte, 0, 11*len(ids)+8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out = appendIDs(out[:0], ids)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(ids)), "ns/id")
}
