package runner

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tokenmill/tokenmill/shard"
)

// WriteSummary prints the end-of-run table: documents, tokens, sequences per bucket,
// rejects, throughput, then the run's warnings, one "warning: ..." line each; for a validate or convert job, the report (validate), records and
// throughput.
func WriteSummary(w io.Writer, s *Summary) error {
	if s.Records != nil {
		return writeRecordsSummary(w, s)
	}
	m, r := s.Manifest, s.Run
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	writeCounts(tw, m)
	mbps, text := 0.0, 0.0
	if r.ExecuteSeconds > 0 {
		mbps = float64(r.InputBytes) / 1e6 / r.ExecuteSeconds
		text = float64(m.Documents.TextBytes) / 1e6 / r.ExecuteSeconds
	}
	fmt.Fprintf(tw, "rejects\t%d\t%s\n", m.Rejects.Count, m.Rejects.Path)
	fmt.Fprintf(tw, "throughput\t%s tok/s\t%.1f MB/s of text, %.1f MB/s of input files\t%d workers, %d shards\n",
		Count(int64(r.TokensPerSecond)), text, mbps, r.Workers, r.Shards)
	fmt.Fprintf(tw, "time\t%.2fs total\tplan %.2fs, execute %.2fs, finalize %.2fs\n",
		r.TotalSeconds, r.PlanSeconds, r.ExecuteSeconds, r.FinalizeSeconds)
	// Where the workers' time went (summed over them): what to look at when a run is slow.
	e := r.Stages.Execute
	helped := ""
	if e.Helped > 0 {
		helped = fmt.Sprintf(" (%.2fs by idle workers)", e.Helped)
	}
	fmt.Fprintf(tw, "stages\tsummed over workers\tread %.2fs, tokenize %.2fs%s, write %.2fs\n", e.Read, e.Tokenize, helped, e.Write)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	for _, warning := range r.Warnings {
		if _, err := fmt.Fprintf(w, "warning: %s\n", warning); err != nil {
			return err
		}
	}
	return nil
}

// WriteCounts prints what a pretraining job's manifest counts, as WriteSummary's first
// lines do: documents, tokens, sequences per bucket and rejects. It is the summary of a job
// whose timings are not at hand (a job run on a cluster).
func WriteCounts(w io.Writer, m *shard.Manifest) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	writeCounts(tw, m)
	fmt.Fprintf(tw, "rejects\t%d\t%s\n", m.Rejects.Count, m.Rejects.Path)
	return tw.Flush()
}

// writeCounts writes the documents, tokens and buckets lines, each block followed by an empty
// line.
func writeCounts(tw *tabwriter.Writer, m *shard.Manifest) {
	fmt.Fprintf(tw, "documents\tread %d\twritten %d\trejected %d\n", m.Documents.Read, m.Documents.Written, m.Documents.Rejected)
	fmt.Fprintf(tw, "tokens\ttrain %d\tval %d\t(%s, dtype %s)\n", m.Tokens.Train, m.Tokens.Val, m.Tokenizer.Name, m.DType)
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "bucket\tsequences\tdropped tail\tpadded tail\toutputs\n")
	for _, b := range m.Buckets {
		fmt.Fprintf(tw, "%s %d\t%d\t%d\t%d\t%s\n", b.Split, b.SeqLen, b.Sequences, b.DroppedTailTokens,
			b.PaddedTailTokens, strings.Join(b.Paths, ", "))
	}
	fmt.Fprintln(tw)
}
