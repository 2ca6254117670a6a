package shard

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/tokenmill/tokenmill/job"
	"github.com/tokenmill/tokenmill/tokenizer"
)

// FinalizeEnv is what Finalize needs besides the job and the shard results.
type FinalizeEnv struct {
	// OutDir is the output directory to publish.
	OutDir string
	// StagingDir is the job's staging root, where the results' files are; it is removed
	// after a successful publish.
	StagingDir string
	// Tokenizer is the job's tokenizer (name, sha256, vocabulary size, EOS for padding).
	Tokenizer *tokenizer.Tokenizer
	// Inputs are the listed input files, recorded in the manifest.
	Inputs []Input
	// Overwrite allows replacing an existing output directory.
	Overwrite bool
	// Workers bounds how many buckets (split and length) are written at once; <= 0 means 1.
	Workers int
	// Timings, when not nil, receives where finalize's time went.
	Timings *FinalizeTimings
	// RunInfo, when not nil, is written as run.json (timings and other facts that vary
	// between runs), before the manifest.
	RunInfo any
	// Warnings, when not nil, receives the job's Warnings before RunInfo is written (so a
	// RunInfo that points at the same slice writes them).
	Warnings *[]string
	// TempID names the temporary directories beside OutDir (.<out>.tmp-<TempID>, and
	// .<out>.old-<TempID> for an output being replaced); "" means the job's name. A cluster
	// gives each finalize attempt its own, so that a second attempt starts from scratch in a
	// fresh directory whatever an earlier one left.
	TempID string
	// KeepStaged keeps every staged stream until the publish, instead of removing each one
	// as soon as its rows are in the outputs (which bounds the disk a local run needs to
	// about the output's size): a cluster's finalize sets it, since another attempt must be
	// able to finalize again from the same staging when this one fails (a full disk).
	KeepStaged bool
	// MemStage is the MemStage of the shards' Env, when they had one: the staged streams it
	// holds are copied from it (their size and tail checked; they have no file and no
	// CRC-32C) and given back to it once in the outputs.
	MemStage *MemStage
}

// tempID is the name of the run's temporary directories beside the output.
func (env FinalizeEnv) tempID(jobName string) string {
	if env.TempID != "" {
		return env.TempID
	}
	return jobName
}

// FinalizeTimings are where finalize's time went, in seconds, summed over the buckets written
// at once (so they can exceed the wall time).
type FinalizeTimings struct {
	// ReadStaging: reading the staged rows and checking their CRC-32C.
	ReadStaging float64 `json:"read_staging"`
	// WriteOutputs: converting the rows to the job's dtype and writing them to every output
	// format, tails included, and closing (syncing) the files.
	WriteOutputs float64 `json:"write_outputs"`
}

// Finalize assembles the shards' partial outputs, in shard order, into the job's output
// directory and returns the manifest it wrote. results must hold one Result per shard of
// the plan (any order). The job fails, and nothing is published, when more than
// max_reject_fraction of the records read were rejected or no train bucket holds a row. A caller that gets results one by
// one should hand them to an Assembler as they come instead (see NewAssembler).
func Finalize(ctx context.Context, spec *job.Spec, results []Result, env FinalizeEnv) (*Manifest, error) {
	a, err := NewAssembler(ctx, spec, len(results), env)
	if err != nil {
		return nil, err
	}
	return a.Finish(ctx, results)
}

// orderResults sorts the results by shard index and checks that they form a whole plan.
func orderResults(spec *job.Spec, results []Result) ([]Result, error) {
	rs := append([]Result(nil), results...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Index < rs[j].Index })
	for i := range rs {
		if rs[i].Index != i {
			return nil, fmt.Errorf("finalize: shard results are not one per shard: position %d holds shard index %d", i, rs[i].Index)
		}
		if err := checkResult(spec, &rs[i]); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// resultLineShifts is lineShifts of results in shard order: what to add to the line numbers
// of each shard's rejects. Only a byte-range shard (one part) numbers its lines relatively;
// the parts of a KindFiles shard are whole files, numbered from their first line.
func resultLineShifts(rs []Result) ([]int64, error) {
	var spans []lineSpan
	for _, r := range rs {
		for _, p := range r.Parts {
			spans = append(spans, lineSpan{source: p.Source, firstLine: p.FirstLine, lines: p.Lines})
		}
	}
	partShifts := lineShifts(spans)
	shifts := make([]int64, len(rs))
	k := 0
	for i, r := range rs {
		for j := range r.Parts {
			if j == 0 {
				shifts[i] = partShifts[k]
			} else if partShifts[k] != 0 {
				return nil, fmt.Errorf("finalize: shard %s: part %s numbers its lines from its range's start, "+
					"which only a shard of one part may", r.Shard, r.Parts[j].Source)
			}
			k++
		}
	}
	return shifts, nil
}

// source is the file of a result's first part, whose line numbers its shift applies to.
func (r *Result) source() string {
	if len(r.Parts) == 0 {
		return ""
	}
	return r.Parts[0].Source
}

func newManifest(spec *job.Spec, rs []Result, env FinalizeEnv) (*Manifest, error) {
	canon, err := spec.CanonicalJSON()
	if err != nil {
		return nil, err
	}
	fp, err := spec.Fingerprint()
	if err != nil {
		return nil, err
	}
	tk := env.Tokenizer
	fr, err := NewFraming(spec, tk)
	if err != nil {
		return nil, err
	}
	m := &Manifest{FormatVersion: ManifestVersion, Job: canon, JobFingerprint: fp,
		Tokenizer: TokenizerInfo{Name: tk.Name(), SHA256: tk.SHA256(), VocabSize: tk.VocabSize(), BOS: fr.bos, EOS: fr.eos},
		Inputs:    []InputInfo{}, Shards: len(rs), Rejects: RejectsInfo{Path: "rejects.jsonl"}}
	if spec.Remainder == job.RemainderPad {
		pad, err := padID(spec, tk)
		if err != nil {
			return nil, err
		}
		m.PadID = &pad
	}
	var digests []shardDigest
	for _, r := range rs {
		for _, p := range r.Parts {
			digests = append(digests, shardDigest{shard: r.Shard, source: p.Source, input: p.Input})
		}
	}
	if m.Inputs, err = inputInfos(env.Inputs, digests); err != nil {
		return nil, err
	}
	for _, r := range rs {
		m.Documents.add(r.Documents)
		m.Tokens.Train += r.Tokens.Train
		m.Tokens.Val += r.Tokens.Val
	}
	m.Rejects.Count = m.Documents.Rejected
	return m, nil
}

// padID is the job's pad_id, else the tokenizer's end-of-text token.
func padID(spec *job.Spec, tk *tokenizer.Tokenizer) (uint32, error) {
	if spec.PadID != nil {
		return *spec.PadID, nil
	}
	id, ok := tk.EOS()
	if !ok {
		return 0, fmt.Errorf("pad_id: tokenizer %s has no end-of-text token to pad with; set pad_id", tk.Name())
	}
	return id, nil
}

// stagedChunk is about how many bytes of staged rows finalize reads at once: whole rows, and
// more than the .npy writer's buffer, so that a uint32 .npy takes them without a copy.
const stagedChunk = 4 << 20

// copyStagedRows appends a staged bucket's rows to out: the first Rows*SeqLen ids of the
// split's staged stream, read in chunks of whole rows, from mem when it holds the stream, else
// from its file. The whole stream is read, so that its size (and a file's CRC-32C) are
// checked, and what follows the rows must be the bucket's tail. buf is the caller's chunk
// buffer, grown as needed and returned. The time spent reading and checking is added to read.
func copyStagedRows(staging string, mem *MemStage, b *Bucket, out *bucketWriter, buf []byte, read *time.Duration) ([]byte, error) {
	t0 := time.Now()
	defer func() { *read += time.Since(t0) }()
	rowBytes := int64(b.SeqLen) * 4
	rowsEnd := b.Rows * rowBytes
	if want := rowsEnd + 4*int64(len(b.Tail)); b.File.Bytes != want {
		return buf, fmt.Errorf("staging: %s holds %d bytes, not %d rows of %d ids and a tail of %d", b.File.Name,
			b.File.Bytes, b.Rows, b.SeqLen, len(b.Tail))
	}
	if e, ok := mem.stream(b.File.Name); ok {
		t1 := time.Now()
		*read += t1.Sub(t0)
		buf, err := copyMemRows(e, b, out, buf)
		t0 = time.Now()
		return buf, err
	}
	f, err := openStaged(staging, b.File)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	if n := int(max(stagedChunk/rowBytes, 1) * rowBytes); cap(buf) < n {
		buf = make([]byte, n)
	}
	cr := newCheckingReader(f)
	var tail []byte
	for done := int64(0); done < b.File.Bytes; {
		chunk := buf[:min(int64(cap(buf)), b.File.Bytes-done)]
		if _, err := io.ReadFull(cr, chunk); err != nil {
			return buf, fmt.Errorf("staging: %s at byte %d: %w", b.File.Name, done, err)
		}
		// Chunks start at multiples of the row size, so the part before rowsEnd is whole rows.
		rows := chunk[:max(0, min(int64(len(chunk)), rowsEnd-done))]
		tail = append(tail, chunk[len(rows):]...)
		done += int64(len(chunk))
		if len(rows) == 0 {
			continue
		}
		t1 := time.Now()
		*read += t1.Sub(t0)
		err = out.writeStaged(rows)
		t0 = time.Now()
		if err != nil {
			return buf, err
		}
	}
	if err := cr.check(b.File); err != nil {
		return buf, err
	}
	if !bytes.Equal(tail, appendUint32LE(nil, b.Tail)) {
		return buf, fmt.Errorf("staging: %s ends with ids other than the shard result's %s tail of length %d",
			b.File.Name, b.Split, b.SeqLen)
	}
	return buf, nil
}

// copyMemRows is copyStagedRows for a stream held in memory: its chunks' whole rows go to out
// as they lie, a row cut by the end of a chunk through buf (returned, grown as needed).
func copyMemRows(e memEntry, b *Bucket, out *bucketWriter, buf []byte) ([]byte, error) {
	if e.n != b.File.Bytes {
		return buf, fmt.Errorf("staging: %s holds %d bytes in memory, the shard result says %d", b.File.Name, e.n, b.File.Bytes)
	}
	rowBytes := 4 * b.SeqLen
	rowsEnd := b.Rows * int64(rowBytes)
	if cap(buf) < rowBytes {
		buf = make([]byte, 0, rowBytes)
	}
	row := buf[:0] // the part of a row that the previous chunk ended with
	var tail []byte
	var done int64
	for _, c := range e.chunks {
		rows := c[:max(0, min(int64(len(c)), rowsEnd-done))]
		tail = append(tail, c[len(rows):]...)
		done += int64(len(c))
		if len(row) > 0 {
			k := min(rowBytes-len(row), len(rows))
			row = append(row, rows[:k]...)
			rows = rows[k:]
			if len(row) < rowBytes {
				continue
			}
			if err := out.writeStaged(row); err != nil {
				return buf, err
			}
			row = row[:0]
		}
		whole := len(rows) - len(rows)%rowBytes
		if whole > 0 {
			if err := out.writeStaged(rows[:whole]); err != nil {
				return buf, err
			}
		}
		row = append(row, rows[whole:]...)
	}
	if len(row) > 0 || !bytes.Equal(tail, appendUint32LE(nil, b.Tail)) {
		return buf, fmt.Errorf("staging: %s ends with ids other than the shard result's %s tail of length %d",
			b.File.Name, b.Split, b.SeqLen)
	}
	return buf, nil
}
