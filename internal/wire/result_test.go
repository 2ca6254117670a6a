package wire

import (
	"testing"

	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
	"github.com/tokenmill/tokenmill/validate"
	"google.golang.org/protobuf/proto"
)

func TestSummarize(t *testing.T) {
	file := &pb.FileRef{Name: "000003/1/result.json", Bytes: 900, Crc32C: 0xcafe}
	counts := shard.Counts{Read: 10, Written: 8, Rejected: 2, TextBytes: 4000}
	tests := []struct {
		name string
		in   *shard.Result
		want *pb.ShardResult
	}{
		{
			name: "staged buckets and rejects",
			in: &shard.Result{Attempt: 1, Dir: "000003/1", Bytes: 5000, Documents: counts,
				Tokens:  shard.Tokens{Train: 900, Val: 100},
				Rejects: shard.FileRef{Name: "000003/1/rejects.jsonl", Bytes: 77, CRC32C: 9},
				Buckets: []shard.Bucket{{Split: "train", SeqLen: 512, Rows: 1,
					File: shard.FileRef{Name: "000003/1/train.u32", Bytes: 3600, CRC32C: 5}, Tail: make([]uint32, 388)}}},
			want: &pb.ShardResult{Attempt: 1, Dir: "000003/1", Bytes: 5000,
				Documents:   &pb.DocumentCounts{Read: 10, Written: 8, Rejected: 2, TextBytes: 4000},
				TokensTrain: 900, TokensVal: 100,
				Rejects: &pb.FileRef{Name: "000003/1/rejects.jsonl", Bytes: 77, Crc32C: 9},
				Buckets: []*pb.BucketRows{{Split: "train", SeqLen: 512, Rows: 1,
					File: &pb.FileRef{Name: "000003/1/train.u32", Bytes: 3600, Crc32C: 5}, TailTokens: 388}},
				Result: file},
		},
		{
			name: "direct bucket, no rejects",
			in: &shard.Result{Attempt: 2, Dir: "000003/2", Documents: counts,
				Buckets: []shard.Bucket{{Split: "val", SeqLen: 8, Rows: 4, Direct: true, Tail: []uint32{1, 2}}}},
			want: &pb.ShardResult{Attempt: 2, Dir: "000003/2",
				Documents: &pb.DocumentCounts{Read: 10, Written: 8, Rejected: 2, TextBytes: 4000},
				Buckets:   []*pb.BucketRows{{Split: "val", SeqLen: 8, Rows: 4, TailTokens: 2}},
				Result:    file},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.in, file); !proto.Equal(got, tt.want) {
				t.Fatalf("Summarize =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestSummarizeRecords(t *testing.T) {
	file := &pb.FileRef{Name: "000001/0/result.json", Bytes: 300, Crc32C: 7}
	tests := []struct {
		name string
		in   *shard.RecordsResult
		want *pb.ShardResult
	}{
		{"validate", &shard.RecordsResult{Index: 1, Attempt: 0, Bytes: 900, Records: 10, Report: &validate.Partial{Records: 10, Valid: 7}},
			&pb.ShardResult{Dir: "000001/0", Bytes: 900, Documents: &pb.DocumentCounts{Read: 10, Written: 7, Rejected: 3}, Result: file}},
		{"convert", &shard.RecordsResult{Index: 1, Attempt: 2, Bytes: 900, Records: 10},
			&pb.ShardResult{Attempt: 2, Dir: "000001/0", Bytes: 900, Documents: &pb.DocumentCounts{Read: 10, Written: 10}, Result: file}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SummarizeRecords(tt.in, "000001/0", file); !proto.Equal(got, tt.want) {
				t.Fatalf("SummarizeRecords =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}
