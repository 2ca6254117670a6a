package wire

import (
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
)

// Summarize returns what the replicated state keeps of a shard's result: counts, sizes and
// checksums. file is the staged file that holds the whole result (its tail tokens, parts and
// input digests), which the finalize task reads back and checks against file's CRC-32C.
func Summarize(r *shard.Result, file *pb.FileRef) *pb.ShardResult {
	s := &pb.ShardResult{
		Attempt: uint32(r.Attempt),
		Dir:     r.Dir,
		Bytes:   r.Bytes,
		Documents: &pb.DocumentCounts{Read: r.Documents.Read, Written: r.Documents.Written,
			Rejected: r.Documents.Rejected, TextBytes: r.Documents.TextBytes},
		TokensTrain: r.Tokens.Train,
		TokensVal:   r.Tokens.Val,
		Buckets:     make([]*pb.BucketRows, len(r.Buckets)),
		Result:      file,
	}
	if r.Rejects.Name != "" {
		s.Rejects = fileRef(r.Rejects)
	}
	for i, b := range r.Buckets {
		s.Buckets[i] = &pb.BucketRows{Split: b.Split, SeqLen: uint32(b.SeqLen), Rows: b.Rows,
			TailTokens: uint32(len(b.Tail))}
		if !b.Direct {
			s.Buckets[i].File = fileRef(b.File)
		}
	}
	return s
}

func fileRef(f shard.FileRef) *pb.FileRef {
	return &pb.FileRef{Name: f.Name, Bytes: f.Bytes, Crc32C: f.CRC32C}
}

// SummarizeRecords returns what the replicated state keeps of a validate or convert shard's
// result: its counts (records read; for a validate job, those valid as written and the
// others as rejected) and file, the staged file that holds the whole result (the partial
// report or schema, the input digest). dir is the attempt's staging directory, relative to
// the job's staging root.
func SummarizeRecords(r *shard.RecordsResult, dir string, file *pb.FileRef) *pb.ShardResult {
	d := &pb.DocumentCounts{Read: r.Records, Written: r.Records}
	if r.Report != nil {
		valid := int64(r.Report.Valid)
		d.Written, d.Rejected = valid, r.Records-valid
	}
	return &pb.ShardResult{Attempt: uint32(r.Attempt), Dir: dir, Bytes: r.Bytes, Documents: d, Result: file}
}
