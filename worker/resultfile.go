package worker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"

	"github.com/tokenmill/tokenmill/job"
	pb "github.com/tokenmill/tokenmill/proto/tokenmill/v1"
	"github.com/tokenmill/tokenmill/shard"
)

// resultName is the staged result file of a shard attempt, in its attempt directory.
const resultName = "result.json"

// resultFile is what a shard attempt stages beside its outputs as result.json: its spec and
// its whole result (tail tokens, parts and input digests; a records job's partial report or
// schema), which the replicated state keeps only as a summary. The finalize reads it back
// from the attempt directory the committed summary names, checked against the summary's
// size and CRC-32C.
type resultFile struct {
	Spec    shard.Spec           `json:"spec"`
	Result  *shard.Result        `json:"result,omitempty"`
	Records *shard.RecordsResult `json:"records,omitempty"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// attemptDir is the staging directory of one attempt of a shard, relative to the job's
// staging root: <shard id>/<attempt>, as shard.Execute makes it.
func attemptDir(shardID string, attempt uint32) string {
	return filepath.Join(shardID, strconv.FormatUint(uint64(attempt), 10))
}

// stagingRoot is the staging root of a job on a cluster: <out>/.staging/<job id>. The id,
// unlike the name, is unique among the cluster's jobs.
func stagingRoot(spec *job.Spec, jobID string) string {
	return shard.StagingDir(spec.Output.Dir, jobID)
}

// writeResult writes rf as the result file of the attempt directory dir (relative to the
// staging root) and returns its reference.
func writeResult(root, dir string, rf *resultFile) (*pb.FileRef, error) {
	b, err := json.Marshal(rf)
	if err != nil {
		return nil, err
	}
	name := filepath.Join(dir, resultName)
	path := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	return &pb.FileRef{Name: name, Bytes: int64(len(b)), Crc32C: crc32.Checksum(b, castagnoli)}, nil
}

// readResult reads back the result file that a committed summary names, and checks that it
// is that attempt's: the file lies in the summary's attempt directory, has the summary's
// size and CRC-32C, and describes the summary's shard index and attempt. A result is never
// read from anywhere else, so the files of attempts that lost are never used.
func readResult(root string, index int, s *pb.ShardResult) (*resultFile, error) {
	ref := s.GetResult()
	if ref == nil {
		return nil, fmt.Errorf("the committed result of shard %d names no result file", index)
	}
	if want := filepath.Join(s.Dir, resultName); ref.Name != want {
		return nil, fmt.Errorf("the committed result of shard %d names %s, not %s", index, ref.Name, want)
	}
	b, err := os.ReadFile(filepath.Join(root, ref.Name))
	if err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	if int64(len(b)) != ref.Bytes {
		return nil, fmt.Errorf("staging: %s holds %d bytes, the committed result says %d", ref.Name, len(b), ref.Bytes)
	}
	if crc := crc32.Checksum(b, castagnoli); crc != ref.Crc32C {
		return nil, fmt.Errorf("staging: %s has CRC-32C %08x, the committed result says %08x", ref.Name, crc, ref.Crc32C)
	}
	var rf resultFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rf); err != nil {
		return nil, fmt.Errorf("staging: %s: %w", ref.Name, err)
	}
	attempt, idx := -1, -1
	switch {
	case rf.Result != nil:
		attempt, idx = rf.Result.Attempt, rf.Result.Index
	case rf.Records != nil:
		attempt, idx = rf.Records.Attempt, rf.Records.Index
	}
	if idx != index || rf.Spec.Index != index || attempt != int(s.Attempt) ||
		attemptDir(rf.Spec.ID, s.Attempt) != s.Dir {
		return nil, fmt.Errorf("staging: %s is not the result of shard %d attempt %d", ref.Name, index, s.Attempt)
	}
	return &rf, nil
}
