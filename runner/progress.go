package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tokenmill/tokenmill/shard"
)

// Snapshot is the state of a running job's shard execution.
type Snapshot struct {
	Elapsed                 time.Duration
	BytesDone, BytesTotal   int64
	Documents, Rejected     int64
	Tokens                  int64
	ShardsDone, ShardsTotal int64
	Final                   bool // the last snapshot, after every shard finished
}

// TokensPerSecond is the token throughput so far.
func (s Snapshot) TokensPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Tokens) / s.Elapsed.Seconds()
}

// ETA estimates the time left from the bytes done; 0 when unknown.
func (s Snapshot) ETA() time.Duration {
	if s.BytesDone <= 0 || s.BytesTotal <= s.BytesDone {
		return 0
	}
	return time.Duration(float64(s.Elapsed) * float64(s.BytesTotal-s.BytesDone) / float64(s.BytesDone))
}

// startProgress calls opt.Progress every interval until the returned stop is called, which
// makes one final call.
func startProgress(p *shard.Progress, opt Options, total int64, shards int) (stop func()) {
	if opt.Progress == nil {
		return func() {}
	}
	interval := opt.ProgressInterval
	if interval <= 0 {
		interval = time.Second
	}
	start := time.Now()
	snap := func(final bool) Snapshot {
		return Snapshot{Elapsed: time.Since(start), BytesDone: p.Bytes.Load(), BytesTotal: total,
			Documents: p.Documents.Load(), Rejected: p.Rejected.Load(), Tokens: p.Tokens.Load(),
			ShardsDone: p.Shards.Load(), ShardsTotal: int64(shards), Final: final}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				opt.Progress(snap(false))
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		opt.Progress(snap(true))
	}
}

// BarPrinter returns a progress callback that redraws one line on a terminal of the given
// width: a bar, bytes and documents done, tokens per second, ETA.
func BarPrinter(w io.Writer, width int) func(Snapshot) {
	return func(s Snapshot) {
		frac := 0.0
		if s.BytesTotal > 0 {
			frac = min(1, float64(s.BytesDone)/float64(s.BytesTotal))
		}
		if s.Final {
			frac = 1
		}
		text := fmt.Sprintf(" %3.0f%% %s/%s  %s docs  %s tok/s  ETA %s", 100*frac, Bytes(s.BytesDone),
			Bytes(s.BytesTotal), Count(s.Documents), Count(int64(s.TokensPerSecond())), eta(s))
		barW := max(10, min(40, width-len(text)-3))
		n := int(frac * float64(barW))
		line := "[" + strings.Repeat("=", n) + strings.Repeat(" ", barW-n) + "]" + text
		if len(line) > width-1 && width > 20 {
			line = line[:width-1]
		}
		fmt.Fprintf(w, "\r%s\x1b[K", line)
		if s.Final {
			fmt.Fprintln(w)
		}
	}
}

// LinePrinter returns a progress callback that prints one plain line per call, for logs and
// pipes.
func LinePrinter(w io.Writer) func(Snapshot) {
	return func(s Snapshot) {
		state := "progress"
		if s.Final {
			state = "executed"
		}
		fmt.Fprintf(w, "tokenmill: %s: %s of %s, %d/%d shards, %d documents (%d rejected), %d tokens, %s tok/s, ETA %s\n",
			state, Bytes(s.BytesDone), Bytes(s.BytesTotal), s.ShardsDone, s.ShardsTotal, s.Documents, s.Rejected,
			s.Tokens, Count(int64(s.TokensPerSecond())), eta(s))
	}
}

func eta(s Snapshot) string {
	if s.Final {
		return "0s"
	}
	d := s.ETA()
	if d == 0 {
		return "?"
	}
	return d.Round(time.Second).String()
}

// Bytes formats a byte count with a binary unit.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Count formats a count with k/M/G suffixes.
func Count(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2fG", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e4:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func writeRunInfo(path string, info *RunInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
