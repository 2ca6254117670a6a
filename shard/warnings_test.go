package shard

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tokenmill/tokenmill/job"
)

func TestWarnings(t *testing.T) {
	bucket := func(split string, l int, rows, tokens, dropped int64) BucketInfo {
		name, npy := OutputNames(&job.Spec{}, split, l)
		return BucketInfo{Split: split, SeqLen: l, Sequences: rows, Tokens: tokens, DroppedTailTokens: dropped, Paths: []string{name, npy}}
	}
	tests := []struct {
		name    string
		val     float64
		buckets []BucketInfo
		want    []string
	}{
		{"all well", 0.1, []BucketInfo{bucket("train", 8, 12, 100, 4), bucket("val", 8, 1, 9, 1)}, []string{}},
		{"val_fraction 0: one warning for the val outputs", 0, []BucketInfo{bucket("train", 8, 12, 100, 4), bucket("train", 16, 6, 100, 4),
			bucket("val", 8, 0, 0, 0), bucket("val", 16, 0, 0, 0)},
			[]string{"val_fraction is 0: the val outputs (val_8, val_8.npy, val_16, val_16.npy) hold no rows"}},
		{"a split without tokens", 0.5, []BucketInfo{bucket("train", 8, 12, 100, 4), bucket("val", 8, 0, 0, 0)},
			[]string{"val 8: no rows: the val split has no tokens"}},
		{"a length longer than the split", 0.1, []BucketInfo{bucket("train", 8, 12, 100, 4), bucket("train", 128, 0, 100, 100),
			bucket("val", 8, 1, 9, 1), bucket("val", 128, 0, 9, 9)},
			[]string{"train 128: no rows: all 100 tokens of the train split dropped as a tail shorter than 128 (remainder: drop; pad keeps them)",
				"val 128: no rows: all 9 tokens of the val split dropped as a tail shorter than 128 (remainder: drop; pad keeps them)"}},
		{"more than half dropped", 0.1, []BucketInfo{bucket("train", 8, 1, 17, 9)},
			[]string{"train 8: 9 of the 17 tokens of the train split dropped as a tail (remainder: drop; pad keeps them)"}},
		{"exactly half dropped is no warning", 0.1, []BucketInfo{bucket("train", 8, 1, 16, 8)}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := job.DefaultSpec()
			spec.ValFraction = tt.val
			got := Warnings(spec, &Manifest{Buckets: tt.buckets})
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Warnings =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestCheckTrainRows(t *testing.T) {
	tests := []struct {
		name    string
		m       Manifest
		wantErr string // "" means no error
	}{
		{"a train row", Manifest{Buckets: []BucketInfo{{Split: SplitTrain, SeqLen: 8, Sequences: 0}, {Split: SplitTrain, SeqLen: 4, Sequences: 1}}}, ""},
		{"tokens short of a row", Manifest{Tokens: Tokens{Train: 5}, Buckets: []BucketInfo{{Split: SplitTrain, SeqLen: 8}, {Split: SplitVal, SeqLen: 8, Sequences: 3}}},
			"no train rows: the train split's 5 tokens do not fill one sequence of 8, the shortest of sequence_lengths"},
		{"no train tokens", Manifest{Documents: Counts{Read: 2, Written: 1, Rejected: 1}, Buckets: []BucketInfo{{Split: SplitTrain, SeqLen: 8}}},
			"no train rows: no token reached the train split (documents: 2 read, 1 written, 1 rejected; val_fraction 0.01)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := job.DefaultSpec()
			spec.SequenceLengths = []int{16, 8}
			err := checkTrainRows(spec, &tt.m)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
