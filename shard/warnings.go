package shard

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tokenmill/tokenmill/job"
)

// Warnings returns what the user should know about the outputs m describes, each a sentence:
//   - val_fraction is 0 and the job writes val outputs: they hold no rows (one warning naming
//     them all). They are written all the same, so that a job's outputs are the same set of
//     names whatever its val_fraction;
//   - any other bucket with no row because its split has no tokens;
//   - any other bucket that dropped more than half of its split's tokens as a tail (remainder:
//     drop). Since a tail is shorter than a row, this is a bucket whose split's tokens do not
//     fill one row: it holds no row either.
//
// The result is never nil, so that run.json says "warnings": [] when all is well.
func Warnings(spec *job.Spec, m *Manifest) []string {
	out := []string{}
	emptyVal := spec.ValFraction == 0
	if emptyVal {
		var paths []string
		for _, b := range m.Buckets {
			if b.Split == SplitVal {
				paths = append(paths, b.Paths...)
			}
		}
		if len(paths) > 0 {
			out = append(out, fmt.Sprintf("val_fraction is 0: the val outputs (%s) hold no rows", strings.Join(paths, ", ")))
		}
	}
	for _, b := range m.Buckets {
		switch {
		case b.Split == SplitVal && emptyVal:
		case b.Sequences == 0 && b.Tokens == 0:
			out = append(out, fmt.Sprintf("%s %d: no rows: the %s split has no tokens", b.Split, b.SeqLen, b.Split))
		case 2*b.DroppedTailTokens > b.Tokens && b.Sequences == 0:
			out = append(out, fmt.Sprintf("%s %d: no rows: all %d tokens of the %s split dropped as a tail shorter than %d (remainder: drop; pad keeps them)",
				b.Split, b.SeqLen, b.Tokens, b.Split, b.SeqLen))
		case 2*b.DroppedTailTokens > b.Tokens:
			out = append(out, fmt.Sprintf("%s %d: %d of the %d tokens of the %s split dropped as a tail (remainder: drop; pad keeps them)",
				b.Split, b.SeqLen, b.DroppedTailTokens, b.Tokens, b.Split))
		}
	}
	return out
}

// checkTrainRows fails a job whose train buckets all hold no row: its outputs would hold no
// training data at all.
func checkTrainRows(spec *job.Spec, m *Manifest) error {
	if slices.ContainsFunc(m.Buckets, func(b BucketInfo) bool { return b.Split == SplitTrain && b.Sequences > 0 }) {
		return nil
	}
	shortest := slices.Min(spec.SequenceLengths)
	if m.Tokens.Train == 0 {
		return fmt.Errorf("no train rows: no token reached the train split (documents: %d read, %d written, %d rejected; val_fraction %v)",
			m.Documents.Read, m.Documents.Written, m.Documents.Rejected, spec.ValFraction)
	}
	return fmt.Errorf("no train rows: the train split's %d tokens do not fill one sequence of %d, the shortest of sequence_lengths "+
		"(use shorter sequence_lengths, or remainder: pad)", m.Tokens.Train, shortest)
}
